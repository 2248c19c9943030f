#!/usr/bin/env bash
# The `dimple` Python package installed the documented way, offline, and tested from the installation:
#   python3 -m venv --system-site-packages VENV      (Debian's numpy, setuptools and wheel show through)
#   VENV/bin/pip install --no-build-isolation --no-index python/
# then tests/python/test_*.py run by the venv's python from a folder outside the repository, with
# DIMPLE_TEST_INSTALLED=1 (test_package_errors.py checks that `dimple` came from the venv's site-packages).
# Usage: venv_install.sh REPO [WORKDIR]; DIMPLE_LIBRARY and DIMPLE_CLI as for the tests; DIMPLE_PYTHON
# picks the interpreter (default /usr/bin/python3). Debian packages: python3-venv, python3-pip,
# python3-setuptools, python3-wheel, python3-numpy (python3-pil for the tests).
set -euo pipefail
repo=$(cd "${1:?usage: venv_install.sh REPO [WORKDIR]}" && pwd)
work=${2:-}
if [[ -z $work ]]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
python=${DIMPLE_PYTHON:-/usr/bin/python3}

rm -rf "$work/venv" "$work/src" "$work/run"
mkdir -p "$work/run"
# pip builds in the source folder (build/, dimple.egg-info/): build from a copy, not the checkout.
cp -r "$repo/python" "$work/src"
rm -rf "$work/src/build" "$work/src"/*.egg-info

"$python" -m venv --system-site-packages "$work/venv"
# Only what is installed counts: no pip.conf, no find-links or index from the environment, no prompts.
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL
export PIP_CONFIG_FILE=/dev/null PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
"$work/venv/bin/python" -m pip install --no-build-isolation --no-index "$work/src"
"$work/venv/bin/python" -m pip show dimple

cd "$work/run"
export DIMPLE_TEST_INSTALLED=1
export DIMPLE_MODEL=${DIMPLE_MODEL:-$repo/models/dimple-shapes}
export DIMPLE_GOLDENS=${DIMPLE_GOLDENS:-$repo/tests/goldens/tiny-a}
export DIMPLE_CLI=${DIMPLE_CLI:-$repo/build/dimple}
"$work/venv/bin/python" -c 'import dimple, sys; print("dimple", dimple.__version__, "from", dimple.__file__); sys.exit("not from the venv" if "site-packages" not in dimple.__file__ else 0)'
"$work/venv/bin/python" -m unittest discover -v -s "$repo/tests/python" -p "test_*.py"  # not exec: the trap cleans up
