"""What the tests of the `dimple` Python package (python/dimple) share: where things are, the
package itself, the `dimple` CLI they compare against, and the model most of them use.

Run every test file from the repository root with Debian's python3:
    DIMPLE_LIBRARY=build/libdimple.so DIMPLE_CLI=build/dimple /usr/bin/python3 -m unittest discover -v -s tests/python -p 'test_*.py'
(one file: -p test_text_forward.py). tests/python is not a package: discover puts it on sys.path,
which is how the test files import this module, from any working folder.

Environment: DIMPLE_LIBRARY (the library; else the package's own lookup), DIMPLE_CLI (the built
`dimple` binary; default build/dimple), DIMPLE_MODEL (default models/dimple-shapes), DIMPLE_GOLDENS
(default tests/goldens/tiny-a). The package is imported from python/ in the source tree, unless
DIMPLE_TEST_INSTALLED=1: then it must come from an installation (tests/python/venv_install.sh), which
test_package_errors.py checks.
"""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INSTALLED = os.environ.get("DIMPLE_TEST_INSTALLED") == "1"
if not INSTALLED:
    sys.path.insert(0, os.path.join(REPO, "python"))

import dimple  # noqa: E402  (from python/ unless INSTALLED: the sys.path line above)

CLI = os.environ.get("DIMPLE_CLI") or os.path.join(REPO, "build", "dimple")
MODEL = os.environ.get("DIMPLE_MODEL") or os.path.join(REPO, "models", "dimple-shapes")
GOLDENS = os.environ.get("DIMPLE_GOLDENS") or os.path.join(REPO, "tests", "goldens", "tiny-a")
EXAMPLES = os.path.join(REPO, "examples")
SHAPES1 = os.path.join(EXAMPLES, "shapes-1.png")
SHAPES3 = os.path.join(EXAMPLES, "shapes-3.png")
THREADS = 1  # the tests share the machine with the build and other tests


def run_cli(*args, stdin=None):
    done = subprocess.run([CLI] + [str(a) for a in args], input=stdin, capture_output=True, timeout=120)
    if done.returncode != 0:
        raise AssertionError("%s %s exited %d:\n%s" % (CLI, " ".join(map(str, args)), done.returncode,
                                                      done.stderr.decode(errors="replace")))
    return done.stdout


def open_test_model():
    """The model a test file shares across its tests (max_images=2 for the two-image test)."""
    return dimple.Model(MODEL, threads=THREADS, max_answer_tokens=64, max_images=2)
