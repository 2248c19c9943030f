#!/usr/bin/env bash
# llama.cpp's sources and its diffusion tool, built beside the project (never part of it), for the
# peer measurement in BENCHMARKS.md ("LLaDA at full size against llama.cpp"). GitHub is out of reach
# here; the npm package node-llama-cpp carries llama.cpp's source tree as a git bundle
# (llama/gitRelease.bundle), which the npm registry serves.
#   tools/llada/get_llama_cpp.sh [DIR]      # default /tmp/llama.cpp; builds DIR/build/bin/llama-*
set -euo pipefail
DIR=${1:-/tmp/llama.cpp}
VERSION=3.22.1  # node-llama-cpp; its llama/llama.cpp.info.json names the llama.cpp release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-llama-cpp@$VERSION" >/dev/null && tar xzf "node-llama-cpp-$VERSION.tgz")
cat "$work/package/llama/llama.cpp.info.json"
rm -rf "$DIR"
git clone --quiet "$work/package/llama/gitRelease.bundle" "$DIR"
git -C "$DIR" log --oneline -1 | cat
cmake -S "$DIR" -B "$DIR/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null
cmake --build "$DIR/build" --target llama-diffusion-cli llama-quantize -j "$(nproc)"
echo "built: $DIR/build/bin/llama-diffusion-cli, llama-quantize; gguf-py: $DIR/gguf-py"
