#!/usr/bin/env bash
# The engine's decoding options on LLaDA-V at full size: one image question through `dimple run`
# per option, each on top of prefilling, and LLaDA-V's own call (no prefilling) for reference.
# Prints load, prompt (vision) time, the first step, the later steps' mean and peak RSS.
#   bench/llada_v_options.sh [MODEL_DIR] [IMAGE] [ANSWER]
#     MODEL_DIR  default /tmp/llada-v-synthetic-int8 (bench_llada_v writes it), run in int8
#     IMAGE      default /tmp/bench_llada_v_384.bmp (bench_llada_v writes it too)
#     ANSWER     answer tokens = steps (default 32)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-/tmp/llada-v-synthetic-int8} IMAGE=${2:-/tmp/bench_llada_v_384.bmp} N=${3:-32}
# The prompt bench_llada_v uses: LLaDA-V's chat turn around the image (-200) and a 6-word question.
IDS=126080,126346,3840,126347,198,-200,198,3838,374,304,279,6683,30,126348,126346,598,126347,198
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
lscpu | sed -n 's/^Model name: *//p'
run() {
  local name=$1
  shift
  /usr/bin/time -v "${DIMPLE:-build/dimple}" run --model "$MODEL" --image "$IMAGE" --prompt-ids "$IDS" -t 0 --json \
    --max-prompt-tokens 1600 --threads "${THREADS:-2}" --compute int8 "$@" >"$out" 2>"$err"
  python3 - "$name" "$*" "$out" "$err" <<'PY'
import json, re, sys
name, flags, out, err = sys.argv[1:]
t = json.load(open(out))["timing"]
s = t["step_s"]
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(err).read()).group(1)) / 2**20
print("| %s | `%s` | %.1f | %.1f | %.2f | %.3f | %.2f |" % (name, flags, t["load_s"], t["prompt_s"], s[0],
                                                         sum(s[1:]) / max(len(s) - 1, 1), rss), flush=True)
PY
}
echo "| run | options | load s | prompt s | first step s | then s/step | peak RSS GiB |"
echo "|---|---|---|---|---|---|---|"
run "prefilling" -n "$N" -s "$N" --cache
run "prefilling, blocks of 8" -n "$N" -s "$N" --cache --block-length 8
run "blocks of 8 + dual cache" -n "$N" -s "$N" --cache --block-length 8 --dual-cache
run "prefilling, layers 16-31/2 skipped from step 2" -n "$N" -s "$N" --cache --skip-layers 16-31/2 --skip-from 2
run "prefilling, image rows pruned to half after layer 2" -n "$N" -s "$N" --cache --prune-layer 2 --prune-keep 0.5
run "no prefilling (LLaDA-V's own call), 4 steps" -n 4 -s 4 --no-cache
