#!/usr/bin/env bash
# LLaDA's language model, the same weights in both engines: `dimple run` against llama.cpp's
# `llama-diffusion-cli` on a GGUF written from the same folder (tools/llada/to_gguf.py), one block,
# no prefilling (llama.cpp has none), the same prompt ids, answer length and steps, the same
# threads. Prints each engine's seconds per step (llama.cpp's own "time per step"; ours from
# --json), load (llama.cpp: its wall time less its generation time) and peak RSS (/usr/bin/time -v).
#
#   bench/llada_vs_llama_cpp.sh MODEL_DIR GGUF COMPUTE [GEN] [STEPS] [THREADS]
#     MODEL_DIR  a LLaDA-family folder for dimple (bf16, or the int8 folder of `dimple quantize`)
#     GGUF       the same weights for llama.cpp (to_gguf.py's bf16; llama-quantize's Q8_0)
#     COMPUTE    dimple's --compute (bf16 | int8 | f32)
# Environment: LLAMA_CPP (default /tmp/llama.cpp: tools/llada/get_llama_cpp.sh), DIMPLE (default
# build/dimple), TOKENIZER (a folder with the tokenizer both engines use: tokenizer.json and
# tokenizer_config.json; default MODEL_DIR), PROMPT.
# Random weights: the answers are noise; time per step is the point. llama.cpp's diffusion tool
# counts its blocks over the whole sequence (prompt included) and samples at temperature 0 from
# top-k 40 / top-p 0.95 unless top-k is 1: here one block as long as the sequence, --top-k 1.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=$1 GGUF=$2 COMPUTE=$3 GEN=${4:-128} STEPS=${5:-4} THREADS=${6:-2}
LLAMA_CPP=${LLAMA_CPP:-/tmp/llama.cpp} DIMPLE=${DIMPLE:-build/dimple} TOKENIZER=${TOKENIZER:-$MODEL}
PROMPT=${PROMPT:-What is in this picture?}

ids=$("$DIMPLE" tokenize --model "$TOKENIZER" --chat --text "$PROMPT")
n_input=$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])))' "$ids")
total=$((n_input + GEN))
echo "prompt: $n_input ids (the chat template's), answer: $GEN masks, $STEPS steps, $THREADS threads"
lscpu | sed -n 's/^Model name: *//p'

log=$(mktemp)
trap 'rm -f "$log"' EXIT
/usr/bin/time -v "$LLAMA_CPP/build/bin/llama-diffusion-cli" -m "$GGUF" -p "$PROMPT" -ub "$total" -c "$total" \
  -b "$total" --diffusion-block-length "$total" --diffusion-steps "$STEPS" --top-k 1 -t "$THREADS" --seed 1 \
  >"$log" 2>&1
# "total time: T ms, time per step: S ms, sampling time per step: ..."
llama_total=$(sed -n 's/.*total time: \([0-9.]*\)ms, time per step: .*/\1/p' "$log")
llama_step=$(sed -n 's/.*total time: [0-9.]*ms, time per step: \([0-9.]*\)ms.*/\1/p' "$log")
llama_wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
llama_rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")

/usr/bin/time -v "$DIMPLE" run --model "$MODEL" --compute "$COMPUTE" --prompt-ids "$(echo "$ids" | tr -d '[] ')" \
  -n "$GEN" --steps "$STEPS" --block-length "$GEN" --no-cache -t 0 --threads "$THREADS" --json >"$log.json" 2>"$log"
ours_rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
python3 - "$log.json" "$llama_step" "$llama_total" "$llama_wall" "$llama_rss" "$ours_rss" "$COMPUTE" <<'PY'
import json, sys
path, llama_step, llama_total, llama_wall, llama_rss, ours_rss, compute = sys.argv[1:]
t = json.load(open(path))["timing"]
s = t["step_s"]
mean, later = sum(s) / len(s), sum(s[1:]) / max(len(s) - 1, 1)
h = [float(x) for x in llama_wall.split(":")]
wall = h[-1] + 60 * h[-2] + (3600 * h[-3] if len(h) > 2 else 0)
llama = float(llama_step) / 1000
print("%-14s %8s %8s %9s" % ("engine", "s/step", "load s", "peak GiB"))
print("%-14s %8.2f %8.1f %9.2f" % ("llama.cpp", llama, wall - float(llama_total) / 1000, int(llama_rss) / 2**20))
print("%-14s %8.2f %8.1f %9.2f   (first step %.2f, then %.2f)" % ("dimple " + compute, mean, t["load_s"],
                                                                   int(ours_rss) / 2**20, s[0], later))
print("llama.cpp / dimple, seconds per step: %.2f" % (llama / mean))
PY
rm -f "$log.json"
