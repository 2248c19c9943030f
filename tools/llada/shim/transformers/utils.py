"""Decorators and helpers the original files import from transformers.utils (no effect)."""
import logging as _logging

from .modeling_outputs import ModelOutput  # noqa: F401


def add_start_docstrings(*docstr):
    return lambda fn: fn


add_start_docstrings_to_model_forward = add_start_docstrings


def replace_return_docstrings(*args, **kwargs):
    return lambda fn: fn


def is_flash_attn_2_available():
    return False


def is_flash_attn_greater_or_equal_2_10():
    return False


class _Logger:
    def __init__(self, name):
        self._l = _logging.getLogger(name)
        self._once = set()

    def __getattr__(self, k):
        return getattr(self._l, k)

    def warning_once(self, msg, *args):
        if msg not in self._once:
            self._once.add(msg)
            self._l.warning(msg, *args)


class logging:  # noqa: N801  (transformers.utils.logging)
    @staticmethod
    def get_logger(name=None):
        return _Logger(name)
