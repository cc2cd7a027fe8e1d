#!/usr/bin/env bash
# `bash scripts/node.sh <entry.ts> [args]`: runs a TypeScript entry point (via
# tsx) on a supported Node, the way every npm script of the project does.
#
# The tools (synth, the local runtime, the CLIs) need Node >= 22: Node 20 is
# past its end of life and AWS SDK releases from early 2027 drop it. When the
# machine's Node is older, Node 24 (the Lambda runtime's major) is fetched from
# npm once (`npx -p node@24`, cached in ~/.npm) and its path remembered in
# node_modules/.cache, so later runs start it directly.
#
# `bash scripts/node.sh --compiled <entry.ts> [args]` runs the entry point
# compiled once into plain JavaScript (scripts/compiled.mjs) instead of through
# the TypeScript loader: what `npm run synth` and the cdktf app command do.
#
# `source scripts/node.sh --major <n>` instead exports NODE_BIN for a Node of
# exactly that major (npm test uses it for the Lambda runtime's Node).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lambda_major=$(grep -oE "LAMBDA_RUNTIME = 'nodejs[0-9]+" "$root/config/contract.ts" | grep -oE '[0-9]+$')
MINIMUM_NODE_MAJOR=22

# Prints the path of a Node whose major is $1 exactly (or at least $2 when "at-least"), fetching Node $lambda_major if needed.
supported_node() {
  local want=$1 mode=$2 current cache fetched
  current=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if { [ "$mode" = exact ] && [ "$current" = "$want" ]; } || { [ "$mode" = at-least ] && [ "$current" -ge "$want" ]; }; then
    command -v node
    return 0
  fi
  cache="$root/node_modules/.cache/order-pipeline/node${lambda_major}-path"
  if [ -f "$cache" ] && [ -x "$(cat "$cache")" ]; then
    cat "$cache"
    return 0
  fi
  echo "Node $(node --version 2>/dev/null || echo '(none)') is older than the tools support (>= ${MINIMUM_NODE_MAJOR}); fetching Node ${lambda_major} from npm once (cached in ~/.npm)" >&2
  if ! fetched=$(npx --yes -p "node@${lambda_major}" node -p 'process.execPath'); then
    echo "could not fetch Node ${lambda_major} from npm: install Node ${MINIMUM_NODE_MAJOR} or newer (https://nodejs.org, or nvm install ${lambda_major})" >&2
    return 1
  fi
  mkdir -p "$(dirname "$cache")" && printf '%s' "$fetched" > "$cache"
  printf '%s' "$fetched"
}

if [ "${1:-}" = "--major" ]; then
  NODE_BIN=$(supported_node "$2" exact) || exit 1
  export NODE_BIN
  return 0 2>/dev/null || exit 0
fi

node_bin=$(supported_node "$MINIMUM_NODE_MAJOR" at-least) || exit 1
cd "$root" || exit 1
# The project's own scripts never ask HashiCorp's checkpoint service (CDKTF and Terraform would, at every run).
export CHECKPOINT_DISABLE=1
if [ "${1:-}" = "--compiled" ]; then
  shift
  exec "$node_bin" "$root/scripts/compiled.mjs" "$@"
fi
exec "$node_bin" --import tsx "$@"
