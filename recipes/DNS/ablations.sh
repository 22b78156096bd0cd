#!/usr/bin/env bash
# The paper's ablations of the DNS recipe, one command each; every one is a run.sh run with its own --tag,
# so its results land in results/<size>/<tag>/ beside the default run's results/<size>/:
#
#   ./ablations.sh stack       [--size S] [run.sh options]   # single-speaker augmentation stack in pre-training
#       = ./run.sh --tag single-speaker --pretrain_opts "--stack_preset single-speaker"
#   ./ablations.sh compression [--size S] [run.sh options]   # no log1p compression (pre-training and fine-tuning)
#       = ./run.sh --tag no-compression -- --compression_name none
#   ./ablations.sh fractions   [--size S] [run.sh options]   # paired-data efficiency, the default pre-training
#       = ./run.sh --tag fractions --fractions "0.01 0.1 1.0" --pretrained_folder results/<size>/pretrain/save
#
# The default run (multi-speaker stack, log1p) to compare with: ./run.sh --size S -> results/<size>/RESULTS.md;
# "fractions" needs its pre-training (./run.sh --size S --stop_stage 2). run.sh options given here come after
# the ablation's own, so they win (--pretrain_opts is added to the stack ablation's; args after -- go to every
# train.py stage). Example: ./ablations.sh stack --size tiny
set -euo pipefail
run_sh=$(dirname "$0")/run.sh

usage() { echo "usage: $0 {stack|compression|fractions} [--size S] [run.sh options] [-- train.py args]" >&2; exit 2; }
[ $# -ge 1 ] || usage
ablation=$1; shift

# The user's run.sh options (before --) and train.py args (after --); --size, --results and
# --pretrain_opts are read (run.sh paths are relative to the caller's folder, as here).
opts=(); post=(); size=small; results=; user_pretrain_opts=
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; post=("$@"); break ;;
    --size) size=${2:?--size needs a value}; opts+=("$1" "$2"); shift 2 ;;
    --results) results=${2:?--results needs a value}; opts+=("$1" "$2"); shift 2 ;;
    --pretrain_opts) user_pretrain_opts=${2?--pretrain_opts needs a value}; shift 2 ;;
    *) opts+=("$1"); shift ;;
  esac
done
default_results=${results:-$(dirname "$0")/results/${size}}

user_pre=(); [ -z "$user_pretrain_opts" ] || user_pre=(--pretrain_opts "$user_pretrain_opts")
case "$ablation" in
  stack)
    stack_opts="--stack_preset single-speaker${user_pretrain_opts:+ $user_pretrain_opts}"
    set -- --tag single-speaker --pretrain_opts "$stack_opts" "${opts[@]}" -- "${post[@]}" ;;
  compression)
    set -- --tag no-compression "${user_pre[@]}" "${opts[@]}" -- --compression_name none "${post[@]}" ;;
  fractions)
    pretrained=${default_results}/pretrain/save
    if [[ " ${opts[*]} " != *" --pretrained_folder "* ]]; then
      if [ ! -d "$pretrained" ]; then
        echo "ablations.sh fractions: no default pre-training at ${pretrained}; run $run_sh --size ${size}" \
          "--stop_stage 2 first (or pass --pretrained_folder DIR)" >&2
        exit 1
      fi
      [ -f "${pretrained}/../.done" ] || echo "ablations.sh fractions: warning: ${pretrained%/save} has no .done" \
        "file; is that pre-training finished?" >&2
    fi
    set -- --tag fractions --fractions "0.01 0.1 1.0" --pretrained_folder "$pretrained" "${user_pre[@]}" \
      "${opts[@]}" -- "${post[@]}" ;;
  *) usage ;;
esac
echo "ablations.sh ${ablation}: $run_sh$(printf ' %q' "$@")"
"$run_sh" "$@"
echo "ablations.sh ${ablation}: compare with the default run's ${default_results}/RESULTS.md (./run.sh --size ${size})"
