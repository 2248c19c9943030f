#!/usr/bin/env bash
# Installs the build into a fresh prefix (cmake --install), then builds the C example against the
# installed tree as a user would, through pkg-config (shared and static) and find_package(dimple)
# (shared and static), and runs each on the installed shipped model.
#   install_test.sh BUILD_DIR SOURCE_DIR   (CFLAGS: extra compiler flags, e.g. the sanitizers')
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name dimple.pc)")/..
model=$prefix/share/dimple/models/dimple-shapes
example=$src/examples/c/ask_image.c
image=$src/examples/shapes-1.png
expected="There are three shapes: a green triangle, a blue square and a green circle."
export PKG_CONFIG_PATH=$libdir/pkgconfig
cflags="-std=c11 -Wall -Wextra -pedantic -Werror ${CFLAGS:-}"

check() {  # NAME PROGRAM: runs it on the installed model, expects the example's answer
  local out
  out=$(LD_LIBRARY_PATH=$libdir "$2" "$model" "$image" "Describe the image.")
  grep -qxF "$expected" <<<"$out" || { echo "$1: unexpected output:"; echo "$out"; exit 1; }
  echo "$1: ok"
}

# The installed command answers with the installed model when given none.
out=$("$prefix/bin/dimple" run -q -t 0 -p "Describe the image." -i "$image" 2>/dev/null)
[ "$out" = "$expected" ] || { echo "installed dimple run: unexpected output: $out"; exit 1; }
echo "dimple run (installed, shipped model): ok"

cc $cflags "$example" -o "$work/pc_shared" $(pkg-config --cflags --libs dimple)
check "pkg-config, shared" "$work/pc_shared"
readelf -d "$work/pc_shared" | grep -q "NEEDED.*libdimple.so.0" || { echo "pc_shared does not need libdimple.so.0"; exit 1; }
cc $cflags "$example" -o "$work/pc_static" $(pkg-config --cflags dimple) "$libdir/libdimple.a" \
   $(pkg-config --libs-only-other --libs-only-l --static dimple | sed 's/-ldimple//') ${CFLAGS:-}
if readelf -d "$work/pc_static" | grep -q "NEEDED.*libdimple"; then echo "pc_static needs libdimple.so"; exit 1; fi
check "pkg-config, static" "$work/pc_static"

cmake -S "$src/tests/api/find_package" -B "$work/user" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
      -DEXAMPLE="$example" -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="${CFLAGS:-}" >/dev/null
cmake --build "$work/user" >/dev/null
check "find_package, dimple::dimple" "$work/user/ask_shared"
check "find_package, dimple::dimple_static" "$work/user/ask_static"
