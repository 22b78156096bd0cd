#!/usr/bin/env bash
# The VoiceBank-DEMAND recipe end to end, ESPnet-style:
#   ./run.sh --data_folder DIR [--size tiny|small|paper] [--stage N] [--stop_stage M] [--results DIR]
#            [--pretrained_folder DIR] [--dns_model DIR] [--cache_folder DIR] [--prep_folder DIR]
#            [--metrics "M1 ..."] [--python PY] [-- ARGS for train.py]
#   ./run.sh --stage 0 --download_folder DIR [--voicebank_sets "28spk 56spk"] [--jobs N] [--archives FILE] [...]
#
#   0  download             (only with --stage 0) the DataShare zips into --download_folder, checked against the
#                           published MD5s and unpacked (download.py); the later stages use the folder it prints
#   1  fine-tune            hparams/finetune.yaml, encoder from --pretrained_folder (resamples the corpus
#                           once into the cache and writes the manifests first)
#   2  scratch baseline     hparams/scratch.yaml (same model, data and steps, random encoder)
#   3  score                maese-score on the test set: unprocessed, spectral gating, Wiener, mae, scratch
#   4  out-of-domain        a DNS-recipe fine-tuned model (--dns_model) enhances and scores the same test set
#
#   --data_folder DIR        the corpus as distributed: clean_trainset_28spk_wav/, noisy_trainset_28spk_wav/,
#                            clean_testset_wav/, noisy_testset_wav/ (48 kHz; see README.md)
#   --download_folder DIR    stage 0's folder: archives/ and the unpacked VoiceBank/ (5.6 GB for 28spk, twice that
#                            with the zips kept); --voicebank_sets: 28spk (default; the test set and the 28-speaker
#                            training set), 56spk (the 56-speaker training set beside it, unused); --jobs N: zips
#                            fetched at once (default 4); --archives FILE: a JSON list replacing download.py's
#   --pretrained_folder DIR  the save/ folder of a DNS pre-training (default ../DNS/results/<size>/pretrain/save)
#   --dns_model DIR          stage 4's model (default ../DNS/results/<size>/finetune_denoise)
#   --cache_folder DIR       the corpus resampled to 16 kHz (default results/wav16k, shared by all sizes)
#   --prep_folder DIR        the manifests (default results/prepared)
#   --metrics "M1 M2 ..."    the scores, of pesq stoi estoi si_sdr dnsmos (default: all five for paper, no dnsmos
#                            for tiny and small; the METRICS environment variable is read when --metrics is not
#                            given); a table scored with other metrics is scored again
#
# Results go to results/<size>/ (--results DIR: DIR/). Each stage skips finished work: re-run the same command.
set -euo pipefail
caller=$PWD
typed=("$0" "$@")  # the command as typed, recorded in <results>/run.json
cd "$(dirname "$0")"
source ../../maese/shell/recipe_lib.sh

stage=1 stop_stage=4 size=small data_folder= results= pretrained_folder= dns_model= metrics=
download_folder= voicebank_sets=28spk jobs=4 archives=
cache_folder=results/wav16k prep_folder=results/prepared
python=${PYTHON:-python}
[ -x ../../.venv/bin/python ] && [ -z "${PYTHON:-}" ] && python=../../.venv/bin/python
parse_options "stage stop_stage size python metrics voicebank_sets jobs" \
  "data_folder results pretrained_folder dns_model cache_folder prep_folder download_folder archives" "" "$@"
check_size "$size"
check_metrics "$size"
if run_stage 0; then
  log 0 "download VoiceBank-DEMAND (${voicebank_sets})"
  # shellcheck disable=SC2086
  download_corpus --jobs "$jobs" --subsets $voicebank_sets ${archives:+--archives "$archives"}
fi
[ -n "$data_folder" ] || die "--data_folder: give the VoiceBank-DEMAND folder, or download it first with" \
  "--stage 0 --download_folder DIR (see README.md)"
results=${results:-results/${size}}
pretrained_folder=${pretrained_folder:-../DNS/results/${size}/pretrain/save}
dns_model=${dns_model:-../DNS/results/${size}/finetune_denoise}
common=(--size "$size" --data_folder "$data_folder" --cache_folder "$cache_folder" --prep_folder "$prep_folder")
test_set=(--ref "${cache_folder}/clean_testset_wav" --noisy "${cache_folder}/noisy_testset_wav"
          --name "VoiceBank-DEMAND test (16 kHz)")
SECONDS=0
[ "$stop_stage" -lt 1 ] || record_run "$results" 1 "${OMP_NUM_THREADS:-}" "${typed[@]}"  # not for a download alone

train_stages "$results" "${common[@]}" "${extra[@]}"
if run_stage 3; then
  log 3 "scoring"
  score_once "${results}/eval" "${results}/finetune" "${results}/scratch" -- "${test_set[@]}" \
    --baselines spectral_gating wiener rnnoise deepfilternet3 \
    --note "size=${size}; mae = hparams/finetune.yaml, scratch = hparams/scratch.yaml" \
    --est "mae=${results}/finetune/enhanced/test" "scratch=${results}/scratch/enhanced/test"
fi
if run_stage 4; then
  log 4 "out-of-domain: ${dns_model} on the VoiceBank test set"
  "$python" prepare.py --data_folder "$data_folder" --cache_folder "$cache_folder" --save_folder "$prep_folder"
  "$(tool maese-enhance)" "${cache_folder}/noisy_testset_wav" -o "${results}/dns_ood/enhanced" --model "$dns_model"
  score_once "${results}/dns_ood" -- "${test_set[@]}" --est "dns=${results}/dns_ood/enhanced" \
    --note "model: ${dns_model} (DNS recipe, pre-trained and fine-tuned there)"
fi
finish_run "$stage" "$stop_stage"
