"""A request's inputs as the C structs of the C API: images (paths, PIL images, HxWx3 uint8 numpy
arrays) as dimple_image, chats (a prompt string or message dicts) as dimple_message, and keyword
decoding options as dimple_decoding_options (DECODING_OPTIONS names them). Every buffer a struct
points into is appended to the caller's `keep` list, which must outlive the C call.
"""

import ctypes
import numbers
import os
import sys

import numpy as np

from . import _capi
from ._convert import _cstr, _float, _I32, _I64, _int, _path_bytes, _U64
from ._errors import InvalidArgumentError


def _is_pil_image(value):
    pil = sys.modules.get("PIL.Image")  # a PIL image implies PIL.Image is imported
    return pil is not None and isinstance(value, pil.Image)


def _is_image(value):
    return isinstance(value, (str, bytes, os.PathLike, np.ndarray)) or _is_pil_image(value)


def _fill_image(target, value, keep, name):
    """Fills a dimple_image from a path, a PIL image or an HxWx3 uint8 array; `keep` holds the buffers."""
    if isinstance(value, (str, bytes, os.PathLike)):
        path = _path_bytes(value, name)
        keep.append(path)
        target.path = path
        return
    if _is_pil_image(value):
        value = np.asarray(value if value.mode == "RGB" else value.convert("RGB"))
    if not isinstance(value, np.ndarray):
        raise TypeError("%s must be a path, a PIL image or a numpy uint8 array HxWx3, not %s"
                        % (name, type(value).__name__))
    if value.dtype != np.uint8:
        raise TypeError("%s: a numpy image must be uint8 (got %s)" % (name, value.dtype))
    if value.ndim != 3 or value.shape[2] != 3 or value.shape[0] < 1 or value.shape[1] < 1:
        raise InvalidArgumentError("%s: a numpy image must be HxWx3 RGB (got shape %s)" % (name, value.shape))
    if value.shape[0] > _I32[1] or value.shape[1] > _I32[1]:
        raise InvalidArgumentError("%s: image too large" % name)
    pixels = np.ascontiguousarray(value)
    keep.append(pixels)
    target.path = None
    target.rgb = pixels.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8))
    target.height, target.width = int(pixels.shape[0]), int(pixels.shape[1])


def _image_list(images, name):
    if images is None:
        return []
    if _is_image(images):
        return [images]
    try:
        return list(images)
    except TypeError:
        raise TypeError("%s must be a list of images (paths, PIL images or numpy arrays), not %s"
                        % (name, type(images).__name__)) from None


def _image_array(images, keep, name):
    """(pointer to dimple_image[n] or None, n)."""
    images = _image_list(images, name)
    if not images:
        return None, 0
    arr = (_capi.image * len(images))()
    for i, img in enumerate(images):
        _fill_image(arr[i], img, keep, "%s[%d]" % (name, i))
    keep.append(arr)
    return ctypes.cast(arr, ctypes.POINTER(_capi.image)), len(images)


_MESSAGE_KEYS = {"role", "content", "images"}


def _messages(prompt, images, system):
    """The chat as a list of (role, text, images) from generate's arguments."""
    if isinstance(prompt, str):
        chat = [("user", prompt, _image_list(images, "images"))]
    elif isinstance(prompt, (list, tuple)):
        if images is not None:
            raise TypeError("with a list of messages, give the images in each message's 'images'")
        chat = []
        for i, m in enumerate(prompt):
            if not isinstance(m, dict):
                raise TypeError("messages[%d] must be a dict {'role', 'content', 'images'}, not %s"
                                % (i, type(m).__name__))
            unknown = set(m) - _MESSAGE_KEYS
            if unknown:
                raise TypeError("messages[%d]: unknown key(s) %s (expected role, content, images)"
                                % (i, ", ".join(sorted(map(repr, unknown)))))
            if "role" not in m:
                raise TypeError("messages[%d] has no 'role'" % i)
            chat.append((m["role"], m.get("content", ""), _image_list(m.get("images"), "messages[%d]['images']" % i)))
    else:
        raise TypeError("prompt must be a string, a list of message dicts or a list of token ids, not %s"
                        % type(prompt).__name__)
    if system is not None:
        chat.insert(0, ("system", system, []))
    return chat


def _message_array(chat, keep):
    arr = (_capi.message * max(len(chat), 1))()
    for i, (role, text, images) in enumerate(chat):
        m = arr[i]
        role_b, text_b = _cstr(role, "messages[%d]['role']" % i), _cstr(text, "messages[%d]['content']" % i)
        keep += [role_b, text_b]
        m.role, m.text = role_b, text_b
        ptr, m.n_images = _image_array(images, keep, "messages[%d]['images']" % i)
        if ptr is not None:
            m.images = ptr
    keep.append(arr)
    return arr, len(chat)


def _is_id_prompt(prompt):
    if isinstance(prompt, np.ndarray):
        return True
    return isinstance(prompt, (list, tuple)) and len(prompt) > 0 and all(
        isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in prompt)


# name: kind. The fields of dimple_decoding_options, in its order.
DECODING_OPTIONS = {
    "max_new_tokens": "i32", "steps": "i32", "alg": "str", "pipeline": "str", "threshold": "float",
    "temperature": "float", "top_p": "float", "top_k": "i32", "alg_temp": "float", "eps": "float",
    "use_cache": "bool", "original_confidence": "bool", "seed": "u64", "answer_template": "str?",
    "length": "i64?", "fix_ids": "fix_ids", "early_stop": "str", "block_length": "i32", "dual_cache": "bool",
    "cache_refresh": "i32", "skip_layers": "str?", "skip_from": "i32", "prune_layer": "i32?",
    "prune_keep": "float", "prune_when": "str", "prune_step": "i32", "dllm_cache": "str?",
    "remasking": "str?", "cfg_scale": "float", "speed": "str?",
}


def _decoding_options(options, keep):
    o = _capi.new_decoding_options()
    for name, value in options.items():
        kind = DECODING_OPTIONS.get(name)
        if kind is None:
            raise TypeError("unknown decoding option %r (the options: %s)" % (name, ", ".join(DECODING_OPTIONS)))
        if kind in ("i32", "i64?", "i32?", "u64"):
            if value is None and kind.endswith("?"):
                value = -1  # length / prune_layer: off
            lo_hi = {"i32": _I32, "i32?": _I32, "i64?": _I64, "u64": _U64}[kind]
            value = _int(value, name, *lo_hi)
        elif kind == "bool":
            if not isinstance(value, (bool, numbers.Integral)):
                raise TypeError("%s must be a bool, not %s" % (name, type(value).__name__))
            value = 1 if value else 0
        elif kind == "float":
            value = _float(value, name)
        elif kind in ("str", "str?"):
            value = _cstr(value, name, nullable=kind == "str?")
            keep.append(value)
        elif kind == "fix_ids":
            if isinstance(value, dict):
                value = value.items()
            if value is not None and not isinstance(value, (str, bytes)):
                try:
                    value = ",".join("%d:%d" % (_int(k, "fix_ids offset", *_I64), _int(v, "fix_ids id", *_I32))
                                     for k, v in value)
                except (TypeError, ValueError) as e:
                    if isinstance(e, InvalidArgumentError):
                        raise
                    raise TypeError("fix_ids must be 'OFFSET:ID,...', a dict {offset: id} or (offset, id) pairs")
            value = _cstr(value, name, nullable=True)
            keep.append(value)
        setattr(o, name, value)
    return o
