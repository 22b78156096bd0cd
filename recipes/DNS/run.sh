#!/usr/bin/env bash
# The DNS recipe end to end, ESPnet-style: ./run.sh [--stage N] [--stop_stage M] [--size small] [-- extra train.py args]
#
#   1  corpus                 the embedded corpus, built once (skipped with --data_folder)
#   2  MAE pre-training       hparams/pretrain.yaml (writes the manifests first)
#   3  fine-tune, denoising   hparams/finetune_denoise.yaml
#   4  fine-tune, dereverb    hparams/finetune_dereverb.yaml
#   5  scratch baselines      hparams/scratch_{denoise,dereverb}.yaml
#   6  score                  evaluate.py on the in-domain and out-of-domain test sets (+ classical methods)
#   7  report                 results/<size>/RESULTS.md, printed
#
# Each stage skips finished work and resumes a killed run (re-run the same command).
set -euo pipefail
cd "$(dirname "$0")"

stage=1
stop_stage=7
size=small
data_folder=
python=${PYTHON:-python}
[ -x ../../.venv/bin/python ] && [ -z "${PYTHON:-}" ] && python=../../.venv/bin/python

while [ $# -gt 0 ]; do
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --stop_stage) stop_stage=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --data_folder) data_folder=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "run.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
extra=("$@")

results=results/${size}
corpus=../../data/embedded_${size}
common=(--size "$size" --corpus_folder "$corpus")
if [ -n "$data_folder" ]; then common+=(--data_folder "$data_folder"); corpus=$data_folder; fi
pretrain_dir=${results}/pretrain
metrics=${METRICS:-pesq stoi estoi si_sdr dnsmos}

run_stage() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }
log() { echo "[$(date +%H:%M:%S)] stage $1: $2"; }
SECONDS=0

if run_stage 1 && [ -z "$data_folder" ]; then
  log 1 "embedded corpus"
  "$python" -m maese.simulation.corpus --out "$corpus" --size "$size"
fi

if run_stage 2; then
  log 2 "MAE pre-training"
  "$python" train.py hparams/pretrain.yaml "${common[@]}" --prep_folder "${results}/prepared" \
    --output_folder "$pretrain_dir" "${extra[@]}"
fi

finetune() {  # finetune <hparams> <name>
  "$python" train.py "hparams/$1.yaml" "${common[@]}" --prep_folder "${results}/prepared" \
    --pretrained_folder "${pretrain_dir}/save" --output_folder "${results}/$2" "${extra[@]}"
}
if run_stage 3; then log 3 "fine-tune for denoising"; finetune finetune_denoise finetune_denoise; fi
if run_stage 4; then log 4 "fine-tune for dereverberation"; finetune finetune_dereverb finetune_dereverb; fi
if run_stage 5; then
  log 5 "scratch baselines"
  finetune scratch_denoise scratch_denoise
  finetune scratch_dereverb scratch_dereverb
fi

if run_stage 6; then
  log 6 "scoring"
  for task in denoise dereverb; do
    if [ "$task" = denoise ]; then input=noisy; baselines="spectral_gating wiener"; else input=reverb; baselines=wpe; fi
    for split in indomain ood; do
      out=${results}/eval/${split}_${task}
      if [ -f "$out/results.md" ]; then echo "  $out/results.md exists; skipped"; continue; fi
      # shellcheck disable=SC2086
      "$python" evaluate.py --ref "${corpus}/test_set/${split}/${task}/clean" \
        --noisy "${corpus}/test_set/${split}/${task}/${input}" \
        --est "mae=${results}/finetune_${task}/enhanced/${split}/${task}" \
              "scratch=${results}/scratch_${task}/enhanced/${split}/${task}" \
        --baselines $baselines --metrics $metrics --out "$out" --name "test_set/${split}/${task}" \
        --note "size=${size}; mae = hparams/finetune_${task}.yaml, scratch = hparams/scratch_${task}.yaml (same model, data and steps)"
    done
  done
fi

if run_stage 7; then
  log 7 "report"
  report=${results}/RESULTS.md
  {
    echo "# DNS recipe, size ${size}: results"
    echo
    for f in "${results}"/eval/*/results.md; do cat "$f"; echo; done
  } > "$report"
  cat "$report"
fi
log "-" "done in $((SECONDS / 60)) min $((SECONDS % 60)) s"
