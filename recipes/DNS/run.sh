#!/usr/bin/env bash
# The DNS recipe end to end, ESPnet-style:
#   ./run.sh [--size tiny|small|paper] [--stage N] [--stop_stage M] [--tag NAME] [--results DIR]
#            [--pretrain_opts "ARGS"] [--finetune_opts "ARGS"] [--pretrained_folder DIR]
#            [--fractions "F1 F2 ..."] [--tasks "denoise dereverb"] [--data_folder DIR] [--corpus_folder DIR]
#            [--speech_folder DIR --noise_folder DIR [--rir_folder DIR]]
#            [--real_data DIR|none] [--metrics "M1 M2 ..."] [--jobs N] [--python PY] [-- ARGS for every train.py stage]
#   ./run.sh --stage 0 --download_folder DIR [--dns_subset "read_speech noise rirs"] [--jobs N] [--delete_archives]
#            [--archives FILE] [--results DIR ...]
#
#   0  download               (only with --stage 0) the DNS Challenge archives into --download_folder, checked and
#                             unpacked into the release's layout (download.py); the later stages use the --data_folder
#                             it prints: datasets/ (16 kHz) or datasets_fullband/. --dns_subset picks a slice (default
#                             "read_speech noise rirs", 85 GB unpacked; "16k", "fullband" and the others in README.md;
#                             the space needed is printed before anything starts); --jobs N: archives fetched at once
#                             (default 4); --delete_archives: each removed once unpacked; --archives FILE: a JSON list
#                             replacing download.py's (a mirror)
#   1  corpus                 the embedded corpus, built once (skipped with --data_folder); with --speech_folder,
#                             the corpus made from your folders (maese/simulation/folders.py) in <results>/corpus
#   2  MAE pre-training       hparams/pretrain.yaml (writes the manifests first; skipped with --pretrained_folder)
#   3  fine-tune, denoising   hparams/finetune_denoise.yaml
#   4  fine-tune, dereverb    hparams/finetune_dereverb.yaml
#   5  scratch baselines      hparams/scratch_{denoise,dereverb}.yaml
#   6  score                  evaluate.py on the in-domain and out-of-domain test sets; with --data_folder DIR (a
#                             DNS release), on its test_set/synthetic/{no_reverb,with_reverb} (denoising; prepared
#                             into <results>/prepared/test_set/ by stages 3-5); and on the real-speech validation
#                             set (--real_data; built into <results>/prepared/real_set/). The unprocessed input and
#                             the classical methods are scored once into classical/<split>_<task>/, the models into
#                             eval/<split>_<task>/, whose tables hold all of them
#   7  report                 <results>/RESULTS.md, printed, its header from <results>/run.json: before its first
#                             stage each run.sh adds its command, date, git commit, versions, CPUs/GPUs and threads
#                             there (python -m maese.runinfo; a re-run of the same command at the same commit adds
#                             nothing)
#
# Results go to results/<size>/ (--results DIR: DIR/), or with --tag NAME to results/<size>/NAME/. The tags share
# the data preparation in results/<size>/prepared/ (the same noisy inputs and splits); a run whose options change
# it (e.g. -- --data_seed 7) stops, naming them, before training: give it its own --results DIR (a training seed,
# -- --seed 7, shares it). Paths are relative
# to the folder run.sh is called from. Options:
#   --pretrain_opts "ARGS"    extra train.py args for stage 2 only (e.g. "--stack_preset single-speaker")
#   --finetune_opts "ARGS"    extra train.py args for stages 3-5 only (e.g. "--finetune_epochs 20")
#   -- ARGS                   extra train.py args for stages 2-5 (keys of both pretrain.yaml and finetune.yaml,
#                             e.g. --compression_name none, which must be the same in both)
#   --pretrained_folder DIR   reuse that pre-training's save/ folder: stage 2 does nothing, stages 3-5 use DIR
#   --fractions "F1 F2 ..."   fine-tune, train from scratch and score once per paired fraction, into
#                             finetune_<task>_p<F>/, scratch_<task>_p<F>/, eval/p<F>/; the report adds a
#                             data-efficiency table (default: the yaml's paired_fraction, one run, no suffix)
#   --tasks "denoise ..."     the enhancement tasks of stages 3-6 (default: denoise dereverb)
#   --speech_folder DIR, --noise_folder DIR, --rir_folder DIR
#                             train on your own plain folders of clean speech, noise and (optional) impulse responses
#                             (without it, simulated rooms). Each is split into train / valid / test by its train/
#                             valid/ test/ sub-folders, or else by sub-folder (speaker) or file, seeded. Stage 1 lays
#                             them out as a DNS corpus in <results>/corpus/: pre-training gets the train speech mixed
#                             with train noise (noisy recordings only, never their clean side), fine-tuning paired
#                             fractions of the train speech, scoring the test speech with the test noise and the test
#                             rooms (test_set/indomain). Default --results: results/folders_<size>; default
#                             --fractions: "0.01 0.1 1.0"
#   --corpus_folder DIR       the embedded corpus (default ../../data/embedded_<size>); --data_folder DIR: a DNS
#                             Challenge layout instead (stage 1 does nothing)
#   --jobs N                  trainings of stages 2-5, then the test sets of stage 6, N at a time (default: 2 for
#                             tiny and small where the machine has 2 CPUs or more, else 1); each job's output goes
#                             to run.log in its folder and each gets OMP_NUM_THREADS = CPUs / N unless it is set.
#                             With N > 1, what needs no pre-training (stage 5's scratch baselines, then stage 6's
#                             scores of the input and the classical methods) runs beside it, stages 3-4 wait for it
#                             and, once it has ended, take the next free slots before whatever of those is still
#                             queued, and a task's tables are scored as soon as its two models are trained: one-thread
#                             jobs side by side get more out of the CPUs than one job on all of them
#   --real_data DIR           a folder laid out like shared/data (real speech, noise, RIRs; see maese/realdata.py):
#                             stages 3-5 build its real-speech validation set (real recordings mixed with real noise
#                             and reverberation; never trained on) and enhance it, stage 6 scores it as real_<task>
#                             (default: ../../../shared/data, next to the repository, when it exists; none: skip it)
#   --metrics "M1 M2 ..."     stage 6's metrics, of pesq stoi estoi si_sdr dnsmos (default: all five for paper; no
#                             dnsmos for tiny and small, where it would take 20 of the main job's minutes on 2 CPUs;
#                             the METRICS environment variable is read when --metrics is not given)
#
# The paper's ablations, one command each (recipes/DNS/ablations.sh runs them; compare each report with the
# default run's results/<size>/RESULTS.md):
#   ./run.sh --size small                                                        # default: multi-speaker, log1p
#   ./run.sh --size small --tag single-speaker --pretrain_opts "--stack_preset single-speaker"
#   ./run.sh --size small --tag no-compression -- --compression_name none
#   ./run.sh --size small --tag fractions --fractions "0.01 0.1 1.0" --pretrained_folder results/small/pretrain/save
#
# Each stage skips finished work (training stages leave a .done file in their folder; scoring is redone
# when its models were retrained) and resumes a killed run: re-run the same command.
set -euo pipefail
caller=$PWD
typed=("$0" "$@")  # the command as typed, recorded in <results>/run.json
cd "$(dirname "$0")"
source ../../maese/shell/recipe_lib.sh  # parse_options, die, abspath, check_size, record_run, finish_run, log, ...

stage=1 stop_stage=7 size=small tag= pretrain_opts= finetune_opts= fractions= tasks="denoise dereverb" jobs=
metrics= real_data= dns_subset= delete_archives=
data_folder= corpus_folder= speech_folder= noise_folder= rir_folder= results= pretrained_folder= download_folder=
archives=
python=${PYTHON:-python}
[ -x ../../.venv/bin/python ] && [ -z "${PYTHON:-}" ] && python=../../.venv/bin/python
parse_options "stage stop_stage size tag pretrain_opts finetune_opts fractions tasks jobs metrics real_data python
  dns_subset" "data_folder corpus_folder speech_folder noise_folder rir_folder results pretrained_folder download_folder
  archives" "delete_archives" "$@"
results_base=$results  # --results DIR: the untagged run's folder; $results becomes this run's (with its --tag) below
[ -z "$real_data" ] || [ "$real_data" = none ] || real_data=$(abspath "$real_data")  # a folder, or none
if [ -n "$speech_folder$noise_folder$rir_folder" ]; then
  [ -n "$speech_folder" ] && [ -n "$noise_folder" ] || die "--speech_folder and --noise_folder go together"
  [ -z "$data_folder$corpus_folder" ] || die "--speech_folder builds its own corpus: drop --data_folder/--corpus_folder"
  for folder in "$speech_folder" "$noise_folder" $rir_folder; do [ -d "$folder" ] || die "no folder ${folder}"; done
  fractions=${fractions:-0.01 0.1 1.0}
fi
split_opts() {  # split_opts NAME "ARGS": words of ARGS (quotes as in the shell, nothing run) into array NAME
  local words
  words=$(xargs -r -n1 printf '%s\n' <<< "$2") || die "cannot split the options '$2' (unmatched quote?)"
  mapfile -t "$1" <<< "$words"; [ -n "$words" ] || eval "$1=()"
}
pretrain_extra=(); finetune_extra=()
split_opts pretrain_extra "$pretrain_opts"
split_opts finetune_extra "$finetune_opts"
read -ra fraction_list <<< "$fractions"
read -ra task_list <<< "$tasks"

# ---- checks, before any work -------------------------------------------------
check_size "$size"
[[ "$stage" =~ ^[0-9]+$ && "$stop_stage" =~ ^[0-9]+$ ]] || die "--stage and --stop_stage take stage numbers (0-7)"
if [ -n "$tag" ]; then
  [[ "$tag" =~ ^[A-Za-z0-9_.+-]+$ ]] || die "--tag '$tag': use letters, digits and _.+- only"
  case "$tag" in
    pretrain|prepared|eval|finetune_*|scratch_*|RESULTS*) die "--tag '$tag' names a folder of the untagged run" ;;
  esac
fi
for f in "${fraction_list[@]}"; do
  if ! [[ "$f" =~ ^(0?\.[0-9]+|0|1|1\.0*)$ ]] || ! awk -v f="$f" 'BEGIN { exit !(f > 0 && f <= 1) }'; then
    die "--fractions: '$f' is not a share in (0, 1]"
  fi
done
[ "$(printf '%s\n' "${fraction_list[@]}" | sort | uniq -d)" = "" ] || die "--fractions: '$fractions' repeats a value"
[ ${#task_list[@]} -gt 0 ] || die "--tasks: give denoise and/or dereverb"
for t in "${task_list[@]}"; do case "$t" in denoise|dereverb) ;; *) die "--tasks: unknown task '$t'" ;; esac; done
cpus=$(env -u OMP_NUM_THREADS nproc 2>/dev/null || echo 1)  # nproc alone obeys OMP_NUM_THREADS
download_jobs=${jobs:-4}
if [ -z "$jobs" ]; then jobs=1; [ "$size" != paper ] && [ "$cpus" -ge 2 ] && jobs=2; fi
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs: '$jobs' is not a positive number of jobs"
check_metrics "$size"
if [ -z "$real_data" ] && [ -d ../../../shared/data ]; then real_data=$(cd ../../../shared/data && pwd); fi
[ "$real_data" != none ] || real_data=
[ -z "$real_data" ] || [ -d "$real_data" ] || die "--real_data: no folder ${real_data} (give a folder laid out like shared/data, or none)"
if [ -n "$pretrained_folder" ] && [ ${#pretrain_extra[@]} -gt 0 ]; then
  die "--pretrain_opts has no effect with --pretrained_folder (stage 2 does not train); drop one of them"
fi
last_value() {  # last_value KEY ARGS...: the value of the last --KEY in ARGS (empty if none)
  local key=$1 value='' prev=''; shift
  for a in "$@"; do
    [ "$prev" = "--$key" ] && value=$a
    case "$a" in "--$key="*) value=${a#*=} ;; esac
    prev=$a
  done
  echo "$value"
}
yaml_value() { sed -n "s/^$1: *\([^ #]*\).*/\1/p" "$2"; }  # yaml_value KEY FILE: a top-level value
# Pre-training and fine-tuning must compress the spectrogram the same way (the encoder's input).
pre_c=$(last_value compression_name "${extra[@]}" "${pretrain_extra[@]}")
pre_c=${pre_c:-$(yaml_value compression_name hparams/pretrain.yaml)}
if [ -n "$pretrained_folder" ] && [ -f "${pretrained_folder}/../hyperparams.yaml" ]; then
  pre_c=$(yaml_value compression_name "${pretrained_folder}/../hyperparams.yaml")  # as that pre-training ran
fi
fine_c=$(last_value compression_name "${extra[@]}" "${finetune_extra[@]}")
fine_c=${fine_c:-$(yaml_value compression_name hparams/finetune.yaml)}
if [ "$pre_c" != "$fine_c" ]; then
  die "pre-training uses compression_name ${pre_c}, fine-tuning ${fine_c}: they must match (give it after --)"
fi

if run_stage 0; then
  [ -z "$speech_folder" ] || die "--speech_folder builds its corpus from your folders: it downloads nothing" \
    "(drop --stage 0)"
  log 0 "download the DNS Challenge (${dns_subset:-read_speech noise rirs})"
  # shellcheck disable=SC2086
  download_corpus --jobs "$download_jobs" ${dns_subset:+--subsets $dns_subset} ${archives:+--archives "$archives"} \
    ${delete_archives:+--delete_archives}
fi

if [ -n "$speech_folder" ]; then results_base=${results_base:-results/folders_${size}}; fi
results_base=${results_base:-results/${size}}
if [ -n "$speech_folder" ]; then
  case "$results_base" in /*) data_folder=${results_base}/corpus ;; *) data_folder=${PWD}/${results_base}/corpus ;; esac
fi
results=${results_base}${tag:+/${tag}}
corpus=${corpus_folder:-../../data/embedded_${size}}
prep=${results_base}/prepared
common=(--size "$size" --corpus_folder "$corpus" --prep_folder "$prep")
if [ -n "$data_folder" ]; then common+=(--data_folder "$data_folder"); corpus=$data_folder; fi
pretrain_dir=${results}/pretrain
pretrained=${pretrained_folder:-${pretrain_dir}/save}
# One "run" per paired fraction: (train.py args, folder suffix); the default is the yaml's fraction, no suffix.
if [ ${#fraction_list[@]} -eq 0 ]; then fraction_list=(""); fi
fraction_args() { [ -z "$1" ] || echo "--paired_fraction $1"; }
suffix() { echo "${1:+_p$1}"; }
eval_dir() { echo "${results}/eval${1:+/p$1}"; }

has_task() { [[ " ${task_list[*]} " == *" $1 "* ]]; }
SECONDS=0
job_threads=${OMP_NUM_THREADS:-$(( cpus / jobs > 0 ? cpus / jobs : 1 ))}  # each job's threads (with --jobs > 1)
if [ "$stop_stage" -ge 1 ] && [ "$stage" -le 7 ]; then  # the run's record, for the report's header
  threads=${OMP_NUM_THREADS:-}; [ "$jobs" -eq 1 ] || threads=$job_threads
  record_run "$results" "$jobs" "$threads" "${typed[@]}"
fi

# spawn LOG COMMAND...: with --jobs 1, run COMMAND here; else in the background, at most $jobs at once,
# its output into LOG; once the pre-training job has ended well, its fine-tunings are started first (see
# start_finetunings). finish: wait for the spawned commands; stop if one failed, naming its log.
spawned=(); spawned_logs=()
pretrain_job=  # the PID of the pre-training job, until the fine-tunings that wait for it are started
trap 'kill $(jobs -rp) 2>/dev/null || true' EXIT  # a stopped run.sh stops its jobs (re-run to resume them)
spawn() {
  local log=$1 running; shift
  if [ "$jobs" -eq 1 ]; then "$@"; return; fi
  while :; do
    running=$(jobs -rp)  # one look, for both checks: a job ending in between cannot take the slot unseen
    if [ -n "$pretrain_job" ] && ! grep -qx "$pretrain_job" <<< "$running" && [ -f "${pretrain_dir}/.done" ]; then
      start_finetunings  # the pre-training has ended well: they take the free slots before this job
      continue
    fi
    [ "$(grep -c . <<< "$running")" -ge "$jobs" ] || break
    wait -n || true
  done
  mkdir -p "$(dirname "$log")"
  echo "  started: $(dirname "$log") (in the background; log: ${log})"
  ( export OMP_NUM_THREADS=$job_threads; "$@" ) > "$log" 2>&1 &
  spawned+=($!); spawned_logs+=("$log")
}
# await PID: wait for that spawned job; if it failed, wait for the others and stop (as finish does).
await() {
  local i
  for i in "${!spawned[@]}"; do
    [ "${spawned[$i]}" = "$1" ] || continue
    wait "$1" || finish
    echo "  finished: ${spawned_logs[$i]}"
    unset "spawned[$i]" "spawned_logs[$i]"
  done
}
finish() {
  local i failed=()
  for i in "${!spawned[@]}"; do
    if wait "${spawned[$i]}"; then echo "  finished: ${spawned_logs[$i]}"; else failed+=("${spawned_logs[$i]}"); fi
  done
  spawned=(); spawned_logs=()
  for i in "${failed[@]}"; do echo "run.sh: a job failed; the end of ${i}:" >&2; tail -n 20 "$i" >&2; done
  [ ${#failed[@]} -eq 0 ] || die "${#failed[@]} job(s) failed (logs above); re-run the same command to resume"
}

# test_splits TASK: the test sets scored for TASK: test_set/{indomain,ood}/ of the embedded corpus (or of a
# --data_folder holding them), and a DNS release's synthetic ones (denoising only: with_reverb's references
# hold reverberation, so they do not fit the dereverberation task; prepared by stages 3-5); and the real-speech
# set that stages 3-5 build into ${prep}/real_set/ with --real_data.
test_splits() {
  local split
  for split in indomain ood; do [ -z "$data_folder" ] || [ -d "${corpus}/test_set/${split}" ] && echo "$split"; done
  if [ -n "$data_folder" ] && [ "$1" = denoise ]; then
    for name in no_reverb with_reverb; do [ -d "${prep}/test_set/synthetic_${name}" ] && echo "synthetic_${name}"; done
  fi
  [ -n "$real_data" ] && [ -d "${prep}/real_set/$1" ] && echo real
  return 0
}
# test_folder SPLIT TASK, test_name SPLIT TASK: a test set's folder (clean/ and the input) and its name in the tables
test_folder() {
  case "$1" in
    real) echo "${prep}/real_set/$2" ;;
    synthetic_*) echo "${prep}/test_set/$1/$2" ;;
    *) echo "${corpus}/test_set/$1/$2" ;;
  esac
}
test_name() { if [ "$1" = real ]; then echo "real_set/$2"; else echo "test_set/${1/_//}/$2"; fi; }
task_input() { if [ "$1" = denoise ]; then echo noisy; else echo reverb; fi; }
task_baselines() {  # the classical methods of a task, then the peer enhancers (maese/peers.py)
  if [ "$1" = denoise ]; then echo spectral_gating wiener; else echo wpe; fi
  echo rnnoise deepfilternet3
}
classical_dir() { echo "${results}/classical/$1_$2"; }

# classical_missing SPLIT TASK: the systems of TASK with no CSV in its classical scores (in a results folder scored
# before they were baselines)
classical_missing() {
  local system out; out=$(classical_dir "$1" "$2")
  for system in unprocessed $(task_baselines "$2"); do [ -f "${out}/${system}.csv" ] || echo "$system"; done
}
# classical_fresh SPLIT TASK: its classical scores are there, with $metrics, newer than the test set's clean/ and with
# every system of TASK
classical_fresh() {
  local out; out=$(classical_dir "$1" "$2")
  scored_with_metrics "$out" && [ "$out/results.md" -nt "$(test_folder "$1" "$2")/clean" ] \
    && [ -z "$(classical_missing "$1" "$2")" ]
}

# classical_scores: the unprocessed input, the classical methods and the peers of each test set, scored once per
# results folder into classical/<split>_<task>/ (again if --metrics changed, if the test set's clean/ folder changed
# since, e.g. a rebuilt corpus, or if a system has no CSV there); stage 6 puts their rows in its tables.
# They do not need the models: with --jobs > 1 they run while the pre-training finishes.
classical_scores() {
  local task split out overwrite
  for task in "${task_list[@]}"; do
    for split in $(test_splits "$task"); do
      out=$(classical_dir "$split" "$task"); overwrite=()
      if [ -f "$out/results.md" ]; then
        classical_fresh "$split" "$task" && continue
        if ! scored_with_metrics "$out"; then echo "  $out/results.md was scored with other metrics; scored again"
        elif ! [ "$out/results.md" -nt "$(test_folder "$split" "$task")/clean" ]; then
          echo "  $out/results.md is older than its test set; scored again"
        else echo "  $out has no scores of $(classical_missing "$split" "$task" | xargs) (new baselines); scored again"
        fi
        overwrite=(--overwrite)
      fi
      # shellcheck disable=SC2046
      spawn "$out/run.log" "$python" evaluate.py --ref "$(test_folder "$split" "$task")/clean" \
        --noisy "$(test_folder "$split" "$task")/$(task_input "$task")" --baselines $(task_baselines "$task") \
        --metrics $metrics --out "$out" --name "$(test_name "$split" "$task")" "${overwrite[@]}"
    done
  done
}

# score_models TASK FRACTION: mae and scratch of TASK on each test set, in tables with the classical rows (a test
# set whose classical scores are not there yet, or stale, is left to stage 6); a table newer than both models and
# its classical scores, and scored with these metrics, is kept.
score_models() {
  local task=$1 f=$2 mae scratch what split out overwrite classical system
  mae=${results}/finetune_${task}$(suffix "$f")
  scratch=${results}/scratch_${task}$(suffix "$f")
  what="mae = hparams/finetune_${task}.yaml, scratch = hparams/scratch_${task}.yaml (same model, data and steps)"
  for split in $(test_splits "$task"); do
    if [ "$split" = real ] && { [ ! -d "${mae}/enhanced/real/${task}" ] || [ ! -d "${scratch}/enhanced/real/$task" ]; }
    then
      echo "  ${mae} or ${scratch} has not enhanced $(test_folder real "$task") (trained without --real_data):" \
        "not scored"
      continue
    fi
    classical_fresh "$split" "$task" || continue
    out=$(eval_dir "$f")/${split}_${task}
    overwrite=()
    if [ -f "$out/results.md" ]; then
      if ! [ "$out/results.md" -nt "$mae/.done" ] || ! [ "$out/results.md" -nt "$scratch/.done" ]; then
        echo "  $out/results.md is older than its models; scored again"
      elif ! [ "$out/results.md" -nt "$(classical_dir "$split" "$task")/results.md" ]; then
        echo "  $out/results.md is older than its classical scores; scored again"
      elif ! scored_with_metrics "$out"; then
        echo "  $out/results.md was scored with other metrics; scored again"
      else
        echo "  $out/results.md exists; skipped"; continue
      fi
      overwrite=(--overwrite)
    fi
    classical=(); for system in unprocessed $(task_baselines "$task"); do
      classical+=("${system}=$(classical_dir "$split" "$task")/${system}.csv")
    done
    # shellcheck disable=SC2086
    spawn "${out}/run.log" "$python" evaluate.py --ref "$(test_folder "$split" "$task")/clean" \
      --scored "${classical[@]}" --est "mae=${mae}/enhanced/${split}/${task}" \
      "scratch=${scratch}/enhanced/${split}/${task}" --metrics $metrics --out "$out" \
      --name "$(test_name "$split" "$task")" "${overwrite[@]}" \
      --note "size=${size}${f:+, paired_fraction=$f}; ${what}"
  done
}

if run_stage 1 && [ -n "$speech_folder" ]; then
  log 1 "the corpus of ${speech_folder} and ${noise_folder}${rir_folder:+ and ${rir_folder}}"
  "$python" -m maese.simulation.folders --speech "$speech_folder" --noise "$noise_folder" \
    ${rir_folder:+--rirs "$rir_folder"} --out "$data_folder" || die "cannot build the corpus of your folders (above)"
elif [ -n "$speech_folder" ] && [ ! -f "${data_folder}/.done" ]; then
  die "${data_folder} is not built: run stage 1 first"
elif run_stage 1 && [ -z "$data_folder" ]; then
  log 1 "embedded corpus"
  "$python" -m maese.simulation.corpus --out "$corpus" --size "$size"
fi

# train <out folder> <hparams> ARGS...: train.py, unless <out folder>/.done says it finished.
train() {
  local out=$1 hparams=$2; shift 2
  if [ -f "${out}/.done" ]; then echo "  ${out} is done (${out}/.done); skipped"; return; fi
  "$python" train.py "hparams/${hparams}.yaml" "${common[@]}" --output_folder "$out" "$@"
  touch "${out}/.done"
}
# train_job <out folder> <hparams> ARGS...: train, as a job (see spawn) unless it is done.
declare -A job_of=()  # training folder -> PID of its job (with --jobs > 1)
train_job() {
  if [ -f "${1}/.done" ]; then echo "  ${1} is done (${1}/.done); skipped"; return; fi
  spawn "${1}/run.log" train "$@"
  [ "$jobs" -eq 1 ] || job_of["$1"]=${spawned[-1]}
}

finetune() {  # finetune <hparams> <fraction>
  local fargs; read -ra fargs <<< "$(fraction_args "$2")"
  local real=(); [ -z "$real_data" ] || real=(--real_data_folder "$real_data")
  train_job "${results}/$1$(suffix "$2")" "$1" --pretrained_folder "$pretrained" "${fargs[@]}" "${real[@]}" \
    "${extra[@]}" "${finetune_extra[@]}"
}
finetunings() {  # stages 3-4, every paired fraction
  local f at
  for f in "${fraction_list[@]}"; do
    at=${f:+ (paired fraction $f)}
    if run_stage 3 && has_task denoise; then log 3 "fine-tune for denoising${at}"; finetune finetune_denoise "$f"; fi
    if run_stage 4 && has_task dereverb; then
      log 4 "fine-tune for dereverberation${at}"; finetune finetune_dereverb "$f"
    fi
  done
}
# start_finetunings: wait for the pre-training job (stop the run, naming its log, if it failed), then start the
# fine-tunings (once). spawn calls it as soon as the pre-training has ended well; a failed one is waited for here
# only after the jobs queued beside it, which do not need it, have started.
finetunings_started=
start_finetunings() {
  local pid=$pretrain_job
  pretrain_job=
  await "$pid"
  finetunings_started=1
  finetunings
}
scratch_baselines() {  # stage 5, every paired fraction
  local f
  for f in "${fraction_list[@]}"; do
    log 5 "scratch baselines${f:+ (paired fraction $f)}"
    for task in "${task_list[@]}"; do finetune "scratch_${task}" "$f"; done
  done
}
if [ -n "$real_data" ] && { run_stage 3 || run_stage 4 || run_stage 5; }; then
  log 3-5 "real-speech validation set from ${real_data} (built once, before the trainings that enhance it)"
  "$python" -m maese.realdata --data "$real_data" --out "${prep}/real_set"
fi

scratch_started=
if run_stage 2; then
  if [ -n "$pretrained_folder" ]; then
    log 2 "MAE pre-training: reusing ${pretrained_folder}"
  elif [ "$jobs" -gt 1 ] && run_stage 5 && [ ! -f "${pretrain_dir}/.done" ]; then
    log 2 "MAE pre-training, as a job beside stage 5 (the scratch baselines do not need it)"
    train_job "$pretrain_dir" pretrain "${extra[@]}" "${pretrain_extra[@]}"
    pretrain_job=${spawned[-1]}
    scratch_baselines; scratch_started=1
    if run_stage 6; then
      log 6 "the unprocessed input and classical methods of each test set (no model needed)"; classical_scores
    fi
    [ -z "$pretrain_job" ] || start_finetunings  # unless spawn has started them: stages 3-4 need its checkpoint
  else
    log 2 "MAE pre-training"
    train "$pretrain_dir" pretrain "${extra[@]}" "${pretrain_extra[@]}"
  fi
fi

[ -n "$finetunings_started" ] || finetunings
if run_stage 5 && [ -z "$scratch_started" ]; then scratch_baselines; fi
if [ -n "$scratch_started" ] && run_stage 6; then  # a task's tables as soon as its two models are trained
  for f in "${fraction_list[@]}"; do
    for task in "${task_list[@]}"; do
      trained=1
      for model in "finetune_${task}" "scratch_${task}"; do
        folder=${results}/${model}$(suffix "$f")
        [ -z "${job_of[$folder]:-}" ] || await "${job_of[$folder]}"
        [ -f "${folder}/.done" ] || trained=
      done
      [ -z "$trained" ] || { log 6 "scoring ${task}${f:+ (paired fraction $f)}: its models are trained"
                             score_models "$task" "$f"; }
    done
  done
fi
finish

if run_stage 6; then
  log 6 "scoring"
  for task in "${task_list[@]}"; do
    [ -n "$(test_splits "$task")" ] || echo "  no ${task} test set with references (a DNS release's synthetic" \
      "ones are for denoising, linked by stages 3-5): ${task} not scored"
  done
  classical_scores
  finish
  for f in "${fraction_list[@]}"; do
    for task in "${task_list[@]}"; do score_models "$task" "$f"; done
  done
  finish
fi

if run_stage 7; then
  log 7 "report"
  evals=()
  for f in "${fraction_list[@]}"; do evals+=("${f:+$f=}$(eval_dir "$f")"); done
  notes=()
  [ -n "$pretrained_folder" ] && notes+=(--note "pre-training: ${pretrained_folder}")
  [ -n "$pretrain_opts" ] && notes+=(--note "pre-training options: ${pretrain_opts}")
  [ -n "$finetune_opts" ] && notes+=(--note "fine-tuning options: ${finetune_opts}")
  [ ${#extra[@]} -gt 0 ] && notes+=(--note "options of every stage: ${extra[*]}")
  "$python" report.py --out "${results}/RESULTS.md" --title "DNS recipe, size ${size}${tag:+, ${tag}}: results" \
    --run "$results" "${notes[@]}" -- "${evals[@]}"
fi
finish_run "$stage" "$stop_stage"
