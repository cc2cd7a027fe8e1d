#!/usr/bin/env bash
# `npm run bootstrap -- <synth|diff|deploy|destroy|output> [cdktf options]`: the
# CI bootstrap stack (bootstrap.ts, docs/ci-cd.md), applied once per account by
# an administrator. Its own app and output folder (cdktf.bootstrap.out), so the
# pipeline's `cdktf deploy 'order-pipeline-<env>-*'` and the PR plans, which
# read cdktf.out, never include it.
set -euo pipefail
cd "$(dirname "$0")/.."
command="${1:-synth}"
shift || true
export CHECKPOINT_DISABLE=1
exec npx cdktf "$command" --app "bash scripts/node.sh bootstrap.ts" --output cdktf.bootstrap.out "$@"
