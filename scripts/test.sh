#!/usr/bin/env bash
# `npm test`: bundles the handlers, then type-checks, lints (`npm run lint`)
# and runs jest side by side (the type check and the lint take a core while
# the suite waits on its databases and runtimes). All must pass. Arguments go
# to jest. The lint's report is printed after jest's.
#
# The suite runs on the Node major the Lambda functions run on (nodejs24.x):
# when the machine's Node is another major, npm fetches that Node once
# (`npx -p node@24`, cached in ~/.npm) and the suite, its workers and every
# process it starts (the local runtime, the CLIs) run on it.
set -uo pipefail
cd "$(dirname "$0")/.."

lambda_major=$(grep -oE "LAMBDA_RUNTIME = 'nodejs[0-9]+" config/contract.ts | grep -oE '[0-9]+$')
if [ -z "$lambda_major" ]; then echo "npm test: LAMBDA_RUNTIME not found in config/contract.ts" >&2; exit 1; fi
# shellcheck source=scripts/node.sh
source scripts/node.sh --major "$lambda_major" || { echo "npm test: no Node ${lambda_major}" >&2; exit 1; }
export PATH="$(dirname "$NODE_BIN"):$PATH"
npm run --silent build || exit 1
echo "npm test: jest on Node $(node --version) (Lambda runtime nodejs${lambda_major}.x)"

lint_report=$(mktemp)
trap 'rm -f "$lint_report"' EXIT
npx tsc --noEmit &
typecheck_pid=$!
bash scripts/lint.sh >"$lint_report" 2>&1 &
lint_pid=$!
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" node node_modules/jest/bin/jest.js "$@"
tests=$?
wait "$typecheck_pid"
typecheck=$?
wait "$lint_pid"
lint=$?
cat "$lint_report"
if [ "$typecheck" -ne 0 ]; then echo "npm test: the type check failed" >&2; fi
if [ "$lint" -ne 0 ]; then echo "npm test: the lint failed (npm run lint)" >&2; fi
exit $(( tests != 0 || typecheck != 0 || lint != 0 ))
