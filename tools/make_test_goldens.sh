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
# llada-v-tiny: the tiny LLaDA-V whose original-code outputs tests/goldens/llada-v-tiny holds. Its
# model is not committed (8 MB of random embeddings) but rebuilt (integer-hash weights, numpy only)
# and checked file by file against the SHA-256 in the goldens' manifest.json; a cached copy is reused
# while it still matches.
#   OUT/llada-v-tiny/rebuilt/{model,siglip-tiny}: exactly what make_tiny_llada_v.py writes
#   OUT/llada-v-tiny/model: the folder the tests load: links to the rebuilt model's files, except
#     config.json, whose mm_vision_tower ("google/siglip2-so400m-patch14-384" as published) is
#     replaced by the absolute path of the committed tests/goldens/llada-v-tiny/siglip-tiny
make_llada_v() {
  local dir="$OUT/llada-v-tiny" sums f
  sums=$($PY -c 'import json, sys
for f, h in sorted(json.load(open(sys.argv[1]))["model_files"].items()): print(h + "  " + f)' \
    tests/goldens/llada-v-tiny/manifest.json)
  if ! (cd "$dir/rebuilt" 2>/dev/null && sha256sum --quiet --status -c <<<"$sums"); then
    rm -rf "$dir"
    $PY tools/llada/make_tiny_llada_v.py "$dir/rebuilt" >/dev/null
    if ! (cd "$dir/rebuilt" && sha256sum --quiet -c <<<"$sums" >&2); then
      echo "make_test_goldens.sh: the rebuilt tiny LLaDA-V in $dir/rebuilt differs from" \
           "tests/goldens/llada-v-tiny/manifest.json (model_files)" >&2
      exit 1
    fi
  fi
  rm -rf "$dir/model"
  mkdir -p "$dir/model"
  for f in "$dir/rebuilt/model/"*; do
    [ "${f##*/}" = config.json ] || ln -s "../rebuilt/model/${f##*/}" "$dir/model/${f##*/}"
  done
  $PY -c 'import json, sys
c = json.load(open(sys.argv[1]))
c["mm_vision_tower"] = sys.argv[3]
json.dump(c, open(sys.argv[2], "w"), indent=2)' \
    "$dir/rebuilt/model/config.json" "$dir/model/config.json" "$PWD/tests/goldens/llada-v-tiny/siglip-tiny"
}
make_llada_v
# llada-tiny-chat: the committed tiny LLaDA (tests/goldens/llada-tiny/model, linked) with a
# LLaDA-style tokenizer and chat template of our own (tools/llada/make_llada_tokenizer.py; LLaDA's
# tokenizer.json cannot be fetched here), for the commands and the server with text prompts.
make_llada_chat() {
  local dir="$OUT/llada-tiny-chat" f
  rm -rf "$dir"
  mkdir -p "$dir"
  for f in tests/goldens/llada-tiny/model/*; do ln -s "$PWD/$f" "$dir/${f##*/}"; done
  $PY tools/llada/make_llada_tokenizer.py "$dir" >/dev/null
}
make_llada_chat
echo "goldens written to $OUT"
