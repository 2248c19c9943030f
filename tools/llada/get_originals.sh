#!/usr/bin/env bash
# Extract the ORIGINAL LLaDA / LLaDA-V files the golden scripts run, unchanged, at pinned commits,
# into a folder OUTSIDE the repository (default /tmp/llada-orig). Nothing here is committed.
#
#   bash tools/llada/get_originals.sh [OUT]
#
# Sources: a local git directory per repository if given (FASTDLLM_GIT, LLADA_GIT, LLADAV_GIT: any
# git dir holding the pinned commit, e.g. a bare mirror), otherwise a blob-less clone from GitHub.
# The SHA-256 of every file is checked against tools/llada/originals.py.
set -euo pipefail
OUT=${1:-/tmp/llada-orig}
HERE="$(cd "$(dirname "$0")" && pwd)"
FASTDLLM_COMMIT=24cc59e75f20a6384bae8c905965bb090b96388e
LLADA_COMMIT=b7e6c3565f194352da44b38dd12b6970597309f3
LLADAV_COMMIT=22527697b9c7de0ea2ac16ca95b632cc1bc84966
mkdir -p "$OUT"
case "$(cd "$OUT" && pwd)/" in
  "$(cd "$HERE/../.." && pwd)/"*) echo "refusing to write originals inside the repository: $OUT" >&2; exit 1 ;;
esac

gitdir_for() {  # repo-slug env-var-value -> a git dir holding the repository
  local slug=$1 given=$2
  if [ -n "$given" ]; then echo "$given"; return; fi
  local d="$OUT/.git-$(echo "$slug" | tr / +)"
  if [ ! -d "$d" ]; then
    git clone --quiet --bare --filter=blob:none "https://github.com/$slug.git" "$d" >&2
  fi
  echo "$d"
}

extract() {  # gitdir commit path-in-repo local-path
  mkdir -p "$(dirname "$OUT/$4")"
  git -C "$1" show "$2:$3" > "$OUT/$4"
}

G=$(gitdir_for NVlabs/Fast-dLLM "${FASTDLLM_GIT:-}")
for f in __init__.py configuration_llada.py modeling_llada.py; do
  extract "$G" $FASTDLLM_COMMIT "llada/model/$f" "Fast-dLLM/llada/model/$f"
done
extract "$G" $FASTDLLM_COMMIT llada/generate.py Fast-dLLM/llada/generate.py
G=$(gitdir_for ML-GSAI/LLaDA "${LLADA_GIT:-}")
extract "$G" $LLADA_COMMIT generate.py LLaDA/generate.py
if [ "${WITH_LLADA_V:-1}" = 1 ]; then
  G=$(gitdir_for ML-GSAI/LLaDA-V "${LLADAV_GIT:-}")
  for p in $(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$HERE'); import originals
for rel, (repo, path, _) in originals.ORIGINAL_FILES.items():
    if repo == 'ML-GSAI/LLaDA-V': print(path)"); do
    extract "$G" $LLADAV_COMMIT "$p" "LLaDA-V/$p"
  done
fi
/usr/bin/python3 -c "import sys; sys.path.insert(0, '$HERE'); import originals, json
print(json.dumps(originals.check('$OUT', only_present=True), indent=1))" >/dev/null
echo "originals in $OUT (sha256 checked)"
