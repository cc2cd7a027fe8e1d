#!/usr/bin/env bash
# `npm run lint`: ESLint (type-checked rules, eslint.config.js), Prettier's
# check (.prettierrc.json; `npm run format` writes it) and knip (unused files,
# exports and dependencies, knip.jsonc), side by side. Each tool's output is
# printed whole once it ends; all three must pass.
set -uo pipefail
cd "$(dirname "$0")/.."

bin=node_modules/.bin
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

started=$(date +%s%N)
"$bin/eslint" --max-warnings 0 . >"$out/eslint" 2>&1 &
eslint_pid=$!
"$bin/prettier" --check --log-level warn . >"$out/prettier" 2>&1 &
prettier_pid=$!
"$bin/knip" --no-progress >"$out/knip" 2>&1 &
knip_pid=$!

failed=()
for tool in eslint prettier knip; do
  pid_var="${tool}_pid"
  wait "${!pid_var}" || failed+=("$tool")
  if [ -s "$out/$tool" ]; then
    echo "── $tool"
    cat "$out/$tool"
  fi
done

elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
if [ "${#failed[@]}" -gt 0 ]; then
  echo "npm run lint: ${failed[*]} failed (${elapsed} ms)$([[ " ${failed[*]} " == *" prettier "* ]] && echo '; npm run format rewrites the files Prettier names')" >&2
  exit 1
fi
echo "npm run lint: eslint, prettier and knip pass (${elapsed} ms)"
