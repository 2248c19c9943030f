"""ctypes declarations of the C API (include/dimple.h, DIMPLE_API_VERSION 1), and finding the library.

Every struct here mirrors dimple.h field for field; the structs with a `size` field are always made
by `new_*()`, which calls the library's *_init function (it sets `size` and the defaults).

The library is looked for, in this order:
1. $DIMPLE_LIBRARY, a path to libdimple.so (when set, nothing else is tried);
2. `pkg-config --variable=libdir dimple`, where pkg-config and dimple.pc are installed;
3. the dynamic loader's "libdimple.so.0" (LD_LIBRARY_PATH, ld.so.cache, the system folders).
"""

import ctypes
import os
import shutil
import subprocess
import threading

API_VERSION = 1

# dimple_status
OK = 0
ERROR_INVALID_ARGUMENT = 1
ERROR_BUFFER_TOO_SMALL = 2
ERROR_REFUSED = 3
ERROR_CANCELLED = 4
ERROR_OUT_OF_MEMORY = 5
ERROR_INTERNAL = 6

token = ctypes.c_int32
status = ctypes.c_int


class model_options(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_size_t),
        ("compute", ctypes.c_char_p),
        ("memory_limit", ctypes.c_uint64),
        ("chat_template", ctypes.c_char_p),
        ("max_prompt_tokens", ctypes.c_int64),
        ("max_answer_tokens", ctypes.c_int64),
        ("max_images", ctypes.c_int64),
    ]


class model_info(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_size_t),
        ("family", ctypes.c_char_p),
        ("compute", ctypes.c_char_p),
        ("compute_reason", ctypes.c_char_p),
        ("vocab_size", ctypes.c_int32),
        ("hidden_size", ctypes.c_int32),
        ("num_layers", ctypes.c_int32),
        ("max_positions", ctypes.c_int64),
        ("has_vision", ctypes.c_int32),
        ("has_tokenizer", ctypes.c_int32),
        ("pad_id", token),
        ("bos_id", token),
        ("eos_id", token),
        ("mask_id", token),
        ("image_id", token),
    ]


class image(ctypes.Structure):
    _fields_ = [
        ("path", ctypes.c_char_p),
        ("rgb", ctypes.POINTER(ctypes.c_uint8)),
        ("width", ctypes.c_int32),
        ("height", ctypes.c_int32),
    ]


class message(ctypes.Structure):
    _fields_ = [
        ("role", ctypes.c_char_p),
        ("text", ctypes.c_char_p),
        ("images", ctypes.POINTER(image)),
        ("n_images", ctypes.c_size_t),
    ]


class decoding_options(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_size_t),
        ("max_new_tokens", ctypes.c_int32),
        ("steps", ctypes.c_int32),
        ("alg", ctypes.c_char_p),
        ("pipeline", ctypes.c_char_p),
        ("threshold", ctypes.c_float),
        ("temperature", ctypes.c_float),
        ("top_p", ctypes.c_float),
        ("top_k", ctypes.c_int32),
        ("alg_temp", ctypes.c_float),
        ("eps", ctypes.c_float),
        ("use_cache", ctypes.c_int32),
        ("original_confidence", ctypes.c_int32),
        ("seed", ctypes.c_uint64),
        ("answer_template", ctypes.c_char_p),
        ("length", ctypes.c_int64),
        ("fix_ids", ctypes.c_char_p),
        ("early_stop", ctypes.c_char_p),
        ("block_length", ctypes.c_int32),
        ("dual_cache", ctypes.c_int32),
        ("cache_refresh", ctypes.c_int32),
        ("skip_layers", ctypes.c_char_p),
        ("skip_from", ctypes.c_int32),
        ("prune_layer", ctypes.c_int32),
        ("prune_keep", ctypes.c_float),
        ("prune_when", ctypes.c_char_p),
        ("prune_step", ctypes.c_int32),
        ("dllm_cache", ctypes.c_char_p),
        ("remasking", ctypes.c_char_p),
        ("cfg_scale", ctypes.c_float),
        ("speed", ctypes.c_char_p),
    ]


class step(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_size_t),
        ("request", ctypes.c_size_t),
        ("step", ctypes.c_int32),
        ("answer", ctypes.POINTER(token)),
        ("committed", ctypes.POINTER(ctypes.c_uint8)),
        ("answer_len", ctypes.c_size_t),
        ("newly_committed", ctypes.POINTER(ctypes.c_int64)),
        ("n_newly_committed", ctypes.c_size_t),
        ("masks_left", ctypes.c_int64),
        ("elapsed_seconds", ctypes.c_double),
        ("finished", ctypes.c_int32),
    ]


class result(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_size_t),
        ("text", ctypes.c_char_p),
        ("answer", ctypes.POINTER(token)),
        ("answer_len", ctypes.c_size_t),
        ("answer_tokens", ctypes.c_int64),
        ("prompt_tokens", ctypes.c_int64),
        ("steps", ctypes.c_int32),
        ("finished", ctypes.c_int32),
        ("prompt_seconds", ctypes.c_double),
        ("decode_seconds", ctypes.c_double),
        ("step_seconds", ctypes.POINTER(ctypes.c_double)),
    ]


# Opaque handles.
model_p = ctypes.c_void_p
request_p = ctypes.c_void_p

step_callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(step), ctypes.c_void_p)

_P = ctypes.POINTER
_size = ctypes.c_size_t

# name: (restype, argtypes)
_SIGNATURES = {
    "dimple_api_version": (ctypes.c_int, []),
    "dimple_version": (ctypes.c_char_p, []),
    "dimple_status_name": (ctypes.c_char_p, [status]),
    "dimple_last_error": (ctypes.c_char_p, []),
    "dimple_set_threads": (None, [ctypes.c_int]),
    "dimple_model_options_init": (None, [_P(model_options)]),
    "dimple_model_load": (status, [ctypes.c_char_p, _P(model_options), _P(model_p)]),
    "dimple_model_free": (None, [model_p]),
    "dimple_model_info_init": (None, [_P(model_info)]),
    "dimple_model_get_info": (status, [model_p, _P(model_info)]),
    "dimple_tokenize": (status, [model_p, ctypes.c_char_p, _P(token), _size, _P(_size)]),
    "dimple_detokenize": (status, [model_p, _P(token), _size, ctypes.c_int, ctypes.c_char_p, _size, _P(_size)]),
    "dimple_apply_chat_template": (status, [model_p, _P(message), _size, ctypes.c_char_p, _size, _P(_size)]),
    "dimple_decoding_options_init": (None, [_P(decoding_options)]),
    "dimple_request_create": (status, [model_p, _P(message), _size, _P(decoding_options), _P(request_p)]),
    "dimple_request_create_from_ids": (status, [model_p, _P(token), _size, _P(image), _size,
                                                _P(decoding_options), _P(request_p)]),
    "dimple_request_free": (None, [request_p]),
    "dimple_step_init": (None, [_P(step)]),
    "dimple_request_step": (status, [request_p]),
    "dimple_request_run": (status, [request_p, step_callback, ctypes.c_void_p]),
    "dimple_request_get_step": (status, [request_p, _P(step)]),
    "dimple_request_finished": (ctypes.c_int, [request_p]),
    "dimple_batch_step": (status, [_P(request_p), _size]),
    "dimple_batch_run": (status, [_P(request_p), _size, step_callback, ctypes.c_void_p]),
    "dimple_result_init": (None, [_P(result)]),
    "dimple_request_get_result": (status, [request_p, _P(result)]),
    "dimple_forward": (status, [model_p, _P(token), _size, _P(ctypes.c_float), _size, _P(_size)]),
}


class LibraryError(OSError):
    """libdimple could not be found or loaded, or is of another API version; the message says what was tried."""


def _pkg_config_libdir():
    """(libdir or None, what happened) from `pkg-config --variable=libdir dimple`."""
    exe = shutil.which("pkg-config")
    if exe is None:
        return None, "pkg-config: not installed"
    try:
        done = subprocess.run([exe, "--variable=libdir", "dimple"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return None, "pkg-config: %s" % e
    libdir = done.stdout.strip()
    if done.returncode != 0 or not libdir:
        why = done.stderr.strip().splitlines()
        return None, "pkg-config --variable=libdir dimple: %s" % (why[0] if why else "no dimple.pc found")
    return libdir, None


def _declare(lib):
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise LibraryError("%s lacks %s: not a libdimple of API version %d" % (lib._name, name, API_VERSION))
        fn.restype = restype
        fn.argtypes = argtypes
    version = lib.dimple_api_version()
    if version != API_VERSION:
        raise LibraryError("%s has API version %d; this dimple package speaks version %d"
                           % (lib._name, version, API_VERSION))
    return lib


def find_and_load():
    """Loads libdimple (see the module's docstring for the order) and declares its functions."""
    env = os.environ.get("DIMPLE_LIBRARY")
    if env:
        try:
            lib = ctypes.CDLL(env)
        except OSError as e:
            raise LibraryError("cannot load libdimple from $DIMPLE_LIBRARY=%s: %s" % (env, e)) from None
        return _declare(lib)

    tried = ["$DIMPLE_LIBRARY: not set"]
    libdir, why = _pkg_config_libdir()
    if libdir is None:
        tried.append(why)
    else:
        for name in ("libdimple.so.0", "libdimple.so"):
            path = os.path.join(libdir, name)
            if not os.path.exists(path):
                tried.append("pkg-config's libdir: %s does not exist" % path)
                continue
            try:
                return _declare(ctypes.CDLL(path))
            except OSError as e:
                tried.append("pkg-config's libdir: %s" % e)
    try:
        return _declare(ctypes.CDLL("libdimple.so.0"))
    except LibraryError:
        raise
    except OSError as e:
        tried.append("the dynamic loader: %s" % e)
    raise LibraryError("cannot find libdimple (set DIMPLE_LIBRARY to the path of libdimple.so). Tried:\n  "
                       + "\n  ".join(tried))


_lib = None
_lock = threading.Lock()


def lib():
    """The loaded library (loaded on first use)."""
    global _lib
    if _lib is None:
        with _lock:
            if _lib is None:
                _lib = find_and_load()
    return _lib


def load(path=None):
    """Loads the library now, from `path` when given (else the usual lookup); returns it."""
    global _lib
    with _lock:
        if path is not None:
            try:
                _lib = _declare(ctypes.CDLL(os.fspath(path)))
            except LibraryError:
                raise
            except OSError as e:
                raise LibraryError("cannot load libdimple from %s: %s" % (path, e)) from None
        elif _lib is None:
            _lib = find_and_load()
    return _lib


def _new(cls, init_name):
    s = cls()
    getattr(lib(), init_name)(ctypes.byref(s))
    return s


def new_model_options():
    return _new(model_options, "dimple_model_options_init")


def new_model_info():
    return _new(model_info, "dimple_model_info_init")


def new_decoding_options():
    return _new(decoding_options, "dimple_decoding_options_init")


def new_step():
    return _new(step, "dimple_step_init")


def new_result():
    return _new(result, "dimple_result_init")
