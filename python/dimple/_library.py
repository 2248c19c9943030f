"""Process-wide calls on the library itself, no model needed: loading it, its version and API
version, and the size of the OpenMP thread pool.
"""

from . import _capi
from ._convert import _int


def load_library(path=None):
    """Loads libdimple now (from `path`, or by the usual lookup) and checks its API version."""
    _capi.load(path)


def version():
    """The library's version, e.g. "0.1.0"."""
    return _capi.lib().dimple_version().decode()


def api_version():
    """DIMPLE_API_VERSION the library was built with (this package needs 1)."""
    return _capi.lib().dimple_api_version()


def set_threads(threads):
    """Threads of the OpenMP pool, process-wide (0: every core). Call it before decoding."""
    _capi.lib().dimple_set_threads(_int(threads, "threads", 0, 2**31 - 1))
