#!/usr/bin/env bash
# `npm test`: bundles the handlers, then type-checks and runs jest side by
# side (the type check takes a core while the suite waits on its databases and
# runtimes). Both must pass. Arguments go to jest.
set -uo pipefail
npm run --silent build || exit 1
npx tsc --noEmit &
typecheck_pid=$!
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" npx jest "$@"
tests=$?
wait "$typecheck_pid"
typecheck=$?
if [ "$typecheck" -ne 0 ]; then echo "npm test: the type check failed" >&2; fi
exit $(( tests != 0 || typecheck != 0 ))
