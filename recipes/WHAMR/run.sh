#!/usr/bin/env bash
# The WHAMR! dereverberation recipe end to end, ESPnet-style:
#   ./run.sh --data_folder DIR [--size tiny|small|paper] [--stage N] [--stop_stage M] [--results DIR]
#            [--pretrained_folder DIR] [--version wav16k/min] [--input_folder s1_reverb|mix_single_reverb]
#            [--cache_folder DIR] [--prep_folder DIR] [--metrics "M1 ..."] [--python PY] [-- ARGS for train.py]
#   ./run.sh --stage 0 --download_folder DIR --wsj0_folder DIR [--jobs N] [--archives FILE] [...]
#
#   0  download           (only with --stage 0) the WHAM! noise and the WHAMR! scripts into --download_folder, then
#                         the scripts' generation of WHAMR! from WSJ0 (download.py); the later stages use the folder
#                         it prints
#   1  fine-tune          hparams/finetune.yaml, encoder from --pretrained_folder (caches the pairs at 16 kHz
#                         and writes the manifests first)
#   2  scratch baseline   hparams/scratch.yaml (same model, data and steps, random encoder)
#   3  score              maese-score on tt: unprocessed, WPE, mae, scratch (target: s1_anechoic)
#
#   --data_folder DIR        the WHAMR! folder holding wav16k/ (see README.md)
#   --download_folder DIR    stage 0's folder: archives/, wham_noise/, whamr_scripts/ and the generated whamr/ (see
#                            README.md for the space); --wsj0_folder DIR: the folder holding wsj0/ (LDC93S6A, from the
#                            LDC) as wav files; --jobs N: archives fetched at once (default 4); --archives FILE: a JSON
#                            list replacing download.py's
#   --pretrained_folder DIR  the save/ folder of a DNS pre-training (default ../DNS/results/<size>/pretrain/save)
#   --input_folder NAME      s1_reverb (default: dereverberation) or mix_single_reverb (also denoising)
#   --cache_folder DIR       the pairs resampled to 16 kHz (default results/cache); --prep_folder DIR: the
#                            manifests (default results/prepared/<input_folder>)
#   --metrics "M1 M2 ..."    the scores, of pesq stoi estoi si_sdr dnsmos (default: all five for paper, no dnsmos
#                            for tiny and small; the METRICS environment variable is read when --metrics is not
#                            given); a table scored with other metrics is scored again
#
# Results go to results/<size>/<input_folder>/ (--results DIR: DIR/). Each stage skips finished work.
set -euo pipefail
caller=$PWD
typed=("$0" "$@")  # the command as typed, recorded in <results>/run.json
cd "$(dirname "$0")"
source ../../maese/shell/recipe_lib.sh

stage=1 stop_stage=3 size=small data_folder= results= pretrained_folder= prep_folder= metrics=
version=wav16k/min input_folder=s1_reverb cache_folder=results/cache
download_folder= wsj0_folder= jobs=4 archives=
python=${PYTHON:-python}
[ -x ../../.venv/bin/python ] && [ -z "${PYTHON:-}" ] && python=../../.venv/bin/python
parse_options "stage stop_stage size python version input_folder metrics jobs" \
  "data_folder results pretrained_folder cache_folder prep_folder download_folder wsj0_folder archives" "" "$@"
check_size "$size"
check_metrics "$size"
if run_stage 0; then
  log 0 "download the WHAM! noise and the WHAMR! scripts, generate WHAMR!"
  download_corpus --jobs "$jobs" ${wsj0_folder:+--wsj0_folder "$wsj0_folder"} ${archives:+--archives "$archives"}
fi
[ -n "$data_folder" ] || die "--data_folder: give the WHAMR! folder, or make it first with --stage 0" \
  "--download_folder DIR --wsj0_folder DIR (see README.md)"
results=${results:-results/${size}/${input_folder}}
prep_folder=${prep_folder:-results/prepared/${input_folder}}
pretrained_folder=${pretrained_folder:-../DNS/results/${size}/pretrain/save}
common=(--size "$size" --data_folder "$data_folder" --version "$version" --input_folder "$input_folder"
        --cache_folder "$cache_folder" --prep_folder "$prep_folder")
tt=${cache_folder}/${version}/tt
SECONDS=0
[ "$stop_stage" -lt 1 ] || record_run "$results" 1 "${OMP_NUM_THREADS:-}" "${typed[@]}"  # not for a download alone

train_stages "$results" "${common[@]}" "${extra[@]}"
if run_stage 3; then
  log 3 "scoring"
  score_once "${results}/eval" "${results}/finetune" "${results}/scratch" -- --ref "${tt}/s1_anechoic" \
    --noisy "${tt}/${input_folder}" --name "WHAMR! ${version} tt, ${input_folder}" \
    --baselines wpe rnnoise deepfilternet3 \
    --note "size=${size}; mae = hparams/finetune.yaml, scratch = hparams/scratch.yaml" \
    --est "mae=${results}/finetune/enhanced/test" "scratch=${results}/scratch/enhanced/test"
fi
finish_run "$stage" "$stop_stage"
