#!/usr/bin/env bash
# GPU smoke test, minutes long, before a paper-scale run: on DEVICE (default cuda:0)
#   1. the tiny DNS pipeline, run.sh stages 1-7, with every train.py stage on DEVICE;
#   2. the paper model (ViT-Base) on the tiny corpus with bf16 autocast: pre-training 2 epochs, then fine-tuning;
#   3. torchrun with the nccl backend (one process): tiny pre-training and fine-tuning;
#   4. maese-enhance of the tiny test set on DEVICE and on the CPU, with the tiny pipeline's model: same output;
#   5. tools/bench_pretrain.py at batch 64 (tiny, small, paper) and 128 (paper): pre-training throughput.
#     bash tools/check_gpu.sh [DEVICE] [WORK_FOLDER]          # logs in WORK_FOLDER/*.log (default /tmp/maese_gpu)
# Exits non-zero, naming the log, at the first check that fails.
set -uo pipefail
cd "$(dirname "$0")/.."
device=${1:-cuda:0}; work=${2:-/tmp/maese_gpu}
python=${PYTHON:-python3}; [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && python=$PWD/.venv/bin/python
[ -e "$work" ] && { echo "check_gpu.sh: $work exists; give another work folder or delete it" >&2; exit 2; }
mkdir -p "$work"; work=$(cd "$work" && pwd)
"$python" -c "import torch, sys; d = torch.device(sys.argv[1]); torch.zeros(1, device=d)
print('torch', torch.__version__, '|', torch.cuda.get_device_name(d) if d.type == 'cuda' else d)" "$device" \
  || { echo "check_gpu.sh: torch cannot use $device" >&2; exit 1; }
export PYTHONUNBUFFERED=1
check() {  # check N NAME COMMAND...: run COMMAND with its output into $work/N_NAME.log
  local log="$work/$1_$2.log"; shift 2
  echo "[$(date +%T)] $(basename "$log" .log)"
  if ! "$@" > "$log" 2>&1; then echo "check_gpu.sh: FAILED, see $log" >&2; tail -n 5 "$log" >&2; exit 1; fi
}
corpus=(--corpus_folder "$work/corpus")
cd recipes/DNS
check 1 tiny_pipeline ./run.sh --size tiny "${corpus[@]}" --results "$work/tiny" --real_data none --python "$python" \
  -- --device "$device"
paper=(--size paper --corpus_size tiny "${corpus[@]}" --prep_folder "$work/paper_prepared" --device "$device"
       --precision bf16 --num_workers 2)
check 2 bf16_paper_pretrain "$python" train.py hparams/pretrain.yaml "${paper[@]}" --output_folder "$work/bf16/pretrain" \
  --number_of_epochs 2 --batch_size 8
check 2 bf16_paper_finetune "$python" train.py hparams/finetune_denoise.yaml "${paper[@]}" \
  --output_folder "$work/bf16/finetune" --pretrained_folder "$work/bf16/pretrain/save" --finetune_epochs 1 \
  --finetune_batch_size 8 --examples_per_epoch 32
tiny=(--size tiny "${corpus[@]}" --prep_folder "$work/tiny/prepared" --distributed_backend nccl)
check 3 nccl_pretrain "$python" -m torch.distributed.run --nproc_per_node=1 train.py hparams/pretrain.yaml "${tiny[@]}" \
  --output_folder "$work/nccl/pretrain"
check 3 nccl_finetune "$python" -m torch.distributed.run --nproc_per_node=1 train.py hparams/finetune_denoise.yaml \
  "${tiny[@]}" --output_folder "$work/nccl/finetune" --pretrained_folder "$work/nccl/pretrain/save"
cd ../..
noisy=$work/corpus/test_set/indomain/denoise/noisy
for where in "$device" cpu; do
  check 4 "enhance_${where/:/}" "$python" -m maese.cli.enhance "$noisy" -o "$work/enhanced_${where/:/}" \
    --model "$work/tiny/finetune_denoise" --device "$where"
done
check 4 enhance_compare "$python" -c "import sys, pathlib, soundfile as sf, numpy as np
a, b = (pathlib.Path(p) for p in sys.argv[1:])
diffs = [np.abs(sf.read(f)[0] - sf.read(b / f.name)[0]).max() for f in sorted(a.glob('*.wav'))]
print(len(diffs), 'files; largest sample difference', max(diffs))
assert diffs and max(diffs) < 1e-3, 'the device and the CPU enhance differently'" \
  "$work/enhanced_${device/:/}" "$work/enhanced_cpu"
cat "$work/4_enhance_compare.log"
check 5 bench_pretrain_b64 "$python" tools/bench_pretrain.py --sizes tiny small paper --device "$device" --batch 64 \
  --seconds 4 --steps 5
check 5 bench_pretrain_b128 "$python" tools/bench_pretrain.py --sizes paper --device "$device" --batch 128 \
  --seconds 4 --steps 5
grep -h -E "^(device|\|)" "$work"/5_bench_pretrain_b*.log
echo "check_gpu.sh: all checks passed on $device; logs in $work"
