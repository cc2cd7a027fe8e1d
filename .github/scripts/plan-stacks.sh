#!/usr/bin/env bash
# Plans every synthesized stack in dependency order (network → data → compute →
# workflow → monitoring) and writes plans/<stack>.json and plans/<stack>.md. A stack whose
# upstream has no state yet (a new environment, or an output added by this PR)
# cannot be planned by Terraform: its comment says which stack to apply first,
# and every other stack is still planned. Any other failure fails the job.
set -uo pipefail
export CHECKPOINT_DISABLE=1  # no HashiCorp checkpoint calls from Terraform
mkdir -p plans
order="$(npm run --silent plan-order)" || { echo "could not order the stacks" >&2; exit 1; }
skipped=""
status=0
while read -r stack dependencies; do
  dir="cdktf.out/stacks/$stack"
  echo "::group::$stack"
  waiting=""
  for dependency in $dependencies; do
    case " $skipped " in *" $dependency "*) waiting="$waiting $dependency" ;; esac
  done
  if [ -n "$waiting" ]; then
    printf '### %s\n\nskipped: apply%s first (it has no state yet, so this stack cannot be planned)\n' "$stack" "$waiting" > "plans/$stack.md"
    skipped="$skipped $stack"
    echo "::endgroup::"
    continue
  fi
  if ! terraform -chdir="$dir" init -input=false -no-color; then status=1; echo "::endgroup::"; continue; fi
  # A read-only plan role takes no state lock.
  if terraform -chdir="$dir" plan -input=false -no-color -lock=false -out=plan.tfplan 2> "plans/$stack.err"; then
    terraform -chdir="$dir" show -json plan.tfplan > "plans/$stack.json"
    npm run --silent plan-summary -- "plans/$stack.json" --stack "$stack" --out "plans/$stack.md"
  elif grep -qE 'Unable to find remote state|does not have an attribute named "cross-stack-output-|Unsupported attribute' "plans/$stack.err"; then
    cat "plans/$stack.err" >&2
    printf '### %s\n\nskipped: apply %s first (its remote state or a new output is not there yet)\n' "$stack" "${dependencies:-its upstream stacks}" > "plans/$stack.md"
    skipped="$skipped $stack"
  else
    cat "plans/$stack.err" >&2
    status=1
  fi
  rm -f "plans/$stack.err"
  echo "::endgroup::"
done <<< "$order"
exit $status
