#!/usr/bin/env bash
# Writes the golden sets the C++ tests compare against, from the project's own PyTorch reference,
# for tiny models of shapes other than the shared tiny-a: OUT/<name>/ in tiny-a's format.
#   ref-b: Dimple, GQA 3:1, head_dim 16, 3 layers, bf16 in 2 shards, padded vision windows
#   ref-c: Dream (text only), GQA 4:1, head_dim 32, f16
#   ref-d: Dimple, no GQA, head_dim 64, mrope [8,12,12], f32 weights, wider vision heads
set -euo pipefail
OUT=${1:?usage: make_test_goldens.sh OUT_DIR}
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
mkdir -p "$OUT"
make_set() {  # name, model flags..., --, golden flags...
  local name=$1; shift
  local model_flags=() golden_flags=()
  while [ "$1" != "--" ]; do model_flags+=("$1"); shift; done; shift
  golden_flags=("$@")
  [ -f "$OUT/$name/generation.json" ] && return 0
  rm -rf "$OUT/$name.model" "$OUT/$name"
  $PY tools/make_tiny_model.py "$OUT/$name.model" "${model_flags[@]}" >/dev/null
  $PY tools/make_goldens.py "$OUT/$name.model" "$OUT/$name" --runs small "${golden_flags[@]}" >/dev/null
  rm -rf "$OUT/$name.model"
}
make_set ref-b --hidden 96 --intermediate 192 --layers 3 --heads 6 --kv-heads 2 --mrope 2,3,3 --vocab 1536 \
  --vision-depth 3 --vision-hidden 48 --vision-heads 3 --vision-intermediate 96 --fullatt 2 --out-hidden 80 \
  --shards 2 --seed 11 -- --image-grid 10x8 --two-grids 12x16,6x18 --text-len 24 --batch-len 10 --batch-pad 3
make_set ref-c --dream --dtype f16 --hidden 128 --intermediate 160 --layers 2 --heads 4 --kv-heads 1 \
  --mrope 16,0,0 --vocab 1024 --seed 3 -- --text-len 17 --batch-len 9 --batch-pad 5
make_set ref-d --dtype f32 --hidden 128 --intermediate 256 --layers 2 --heads 2 --kv-heads 2 --mrope 8,12,12 \
  --vocab 1280 --vision-depth 2 --vision-hidden 64 --vision-heads 2 --vision-intermediate 96 --fullatt 0 \
  --out-hidden 96 --seed 5 -- --image-grid 6x6 --two-grids 4x10,14x8 --text-len 31 --batch-len 14 --batch-pad 6
echo "goldens written to $OUT"
