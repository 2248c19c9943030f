#!/usr/bin/env bash
# Copies the original implementation's golden set tiny-a and the real photos from the shared folder
# (default ../shared beside the checkout) into the repository, where the tests read them:
#   SHARED/goldens/tiny-a -> tests/goldens/tiny-a      (every file, but see below)
#   SHARED/data/images    -> tests/data/images
# The photos' pixel values are the only bulky arrays (photo1 4.6 MB, photo3 3.2 MB of float32): they
# are kept as every 8th row (photoN_pixel_values_every8.npy, the original's rows, unchanged). The
# tests check the resized photos bit for bit in full, these rows bit for bit, and feed the vision
# tower the rows the engine computes from the photo (equal to the original's wherever checked).
# Run it again when the shared goldens change; tools/check_shared_goldens.py checks the reference
# against the copy.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${1:-../shared}
[ -d "$SHARED/goldens/tiny-a" ] || { echo "no $SHARED/goldens/tiny-a" >&2; exit 2; }
dst=tests/goldens/tiny-a
rm -rf "$dst" tests/data/images
mkdir -p "$dst" tests/data
cp -r "$SHARED/goldens/tiny-a/." "$dst/"
cp -r "$SHARED/data/images" tests/data/images
chmod -R u+w "$dst" tests/data/images
/usr/bin/python3 - "$dst" <<'PY'
import glob, os, sys
import numpy as np
for path in sorted(glob.glob(os.path.join(sys.argv[1], "photo*_pixel_values.npy"))):
    rows = np.load(path)
    np.save(path[:-4] + "_every8.npy", np.ascontiguousarray(rows[::8]))
    os.remove(path)
    print(f"{os.path.basename(path)}: {rows.shape[0]} rows -> every 8th ({(rows.shape[0] + 7) // 8})")
PY
du -sh "$dst" tests/data/images
