"""dimple: Python bindings of dimple.cpp's C API (libdimple), through ctypes.

    import dimple
    with dimple.Model("models/dimple-shapes") as model:
        r = model.generate("How many shapes are there?", images=["examples/shapes-1.png"], temperature=0)
        print(r.text, r.steps)

The library is found through $DIMPLE_LIBRARY (a path), then `pkg-config --variable=libdir dimple`,
then the dynamic loader's "libdimple.so.0"; it is loaded on first use (`load_library` loads it now).

This file only gathers the public names; the code lives in the private modules: _capi (the ctypes
declarations and the library lookup), _errors, _library (process-wide calls), _convert and _inputs
(arguments into C values and structs), _results (ModelInfo, Result, Step) and _model (Model, Stream).
"""

from ._capi import LibraryError
from ._errors import Error, InvalidArgumentError
from ._inputs import DECODING_OPTIONS
from ._library import api_version, load_library, set_threads, version
from ._model import Model, Stream
from ._results import ModelInfo, Result, Step

__version__ = "0.1.0"

__all__ = [
    "Model", "ModelInfo", "Result", "Step", "Stream", "Error", "InvalidArgumentError", "LibraryError",
    "load_library", "version", "api_version", "set_threads", "DECODING_OPTIONS",
]

# Public names say they are dimple's, not the private module's that defines them: tracebacks print
# "dimple.Error: ...", reprs and help() show dimple.Model, and pickles refer to dimple.X.
for _name in __all__:
    if hasattr(globals()[_name], "__module__"):
        globals()[_name].__module__ = __name__
del _name
