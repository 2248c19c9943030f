"""Conversions of single arguments into what the C API takes, with the checks that make a bad value a
TypeError or an InvalidArgumentError here rather than undefined behaviour in C: integers in the
range of their C type, floats, NUL-free UTF-8 strings and file paths, memory sizes ("12G"), and
token ids as a contiguous int32 array.
"""

import ctypes
import math
import numbers
import os
import re

import numpy as np

from . import _capi
from ._errors import InvalidArgumentError


_I32 = (-2**31, 2**31 - 1)
_I64 = (-2**63, 2**63 - 1)
_U64 = (0, 2**64 - 1)


def _int(value, name, lo, hi):
    if isinstance(value, float) or not isinstance(value, numbers.Integral):
        raise TypeError("%s must be an integer, not %s" % (name, type(value).__name__))
    value = int(value)
    if not lo <= value <= hi:
        raise InvalidArgumentError("%s: %d is out of range [%d, %d]" % (name, value, lo, hi))
    return value


def _float(value, name):
    if not isinstance(value, numbers.Real):
        raise TypeError("%s must be a number, not %s" % (name, type(value).__name__))
    return float(value)


def _cstr(value, name, nullable=False):
    if value is None and nullable:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif not isinstance(value, bytes):
        raise TypeError("%s must be a string, not %s" % (name, type(value).__name__))
    if b"\0" in value:
        raise InvalidArgumentError("%s: embedded NUL character" % name)
    return value


def _path_bytes(value, name):
    value = os.fsencode(value)
    if b"\0" in value:
        raise InvalidArgumentError("%s: embedded NUL character" % name)
    return value


_SIZE = re.compile(r"\s*((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*([KkMmGgTt]?)(i?)([Bb]?)\s*")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def _memory_limit(value):
    """Bytes from None (0: what the machine has), an int, or "12G" / "512M" / "1.5GiB" (units of 1024)."""
    if value is None:
        return 0
    if isinstance(value, str):
        m = _SIZE.fullmatch(value)
        if not m or ((m.group(3) or m.group(4)) and not m.group(2)):
            raise InvalidArgumentError("memory_limit: '%s' is not a size (e.g. 16G, 512M, 1073741824)" % value)
        size = float(m.group(1)) * _UNITS[m.group(2).lower()]
        if not (math.isfinite(size) and 0 < size < 1.8e19):
            raise InvalidArgumentError("memory_limit: '%s' is not a positive size" % value)
        return int(size)
    return _int(value, "memory_limit", *_U64)


def _ids_array(ids, name="ids"):
    """A C-contiguous int32 array of token ids from a list or a 1-D integer array."""
    a = np.asarray(ids)
    if a.size == 0:
        return np.zeros(0, dtype=np.int32)
    if a.ndim != 1:
        raise InvalidArgumentError("%s must be one-dimensional (got shape %s)" % (name, a.shape))
    if a.dtype.kind not in "iu":
        raise TypeError("%s must be integers (got %s)" % (name, a.dtype))
    if a.dtype != np.int32 and (int(a.min()) < _I32[0] or int(a.max()) > _I32[1]):
        raise InvalidArgumentError("%s: an id outside int32" % name)
    return np.ascontiguousarray(a, dtype=np.int32)


def _ids_pointer(a):
    return a.ctypes.data_as(ctypes.POINTER(_capi.token))
