"""The package's exceptions and the check of every C call's status.

Error carries what the engine said about a failed call (dimple_last_error, the dimple_status and
its name, the C function); InvalidArgumentError is the same for values this package refuses before
they reach the engine. _check turns a dimple_status into an Error, reading this thread's last error
right after the call that failed.
"""

from . import _capi


# dimple_status_name's words, for errors raised before the library is reached
_STATUS_NAMES = {
    0: "ok", 1: "invalid argument", 2: "buffer too small", 3: "refused", 4: "cancelled", 5: "out of memory",
    6: "internal error",
}


class Error(Exception):
    """A failed call: `message` is the engine's (dimple_last_error()), `status` the dimple_status
    number, `status_name` its name (dimple_status_name()), `function` the C function that failed."""

    def __init__(self, message, status=None, status_name=None, function=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.status_name = status_name
        self.function = function

    def __str__(self):
        return "%s (%s)" % (self.message, self.status_name) if self.status_name else self.message


class InvalidArgumentError(Error, ValueError):
    """A value refused before it reached the engine (out of range, not a size...): an Error with
    status DIMPLE_ERROR_INVALID_ARGUMENT ("invalid argument"), and a ValueError."""

    def __init__(self, message):
        super().__init__(message, _capi.ERROR_INVALID_ARGUMENT, _STATUS_NAMES[_capi.ERROR_INVALID_ARGUMENT])


def _status_name(status):
    try:
        name = _capi.lib().dimple_status_name(status)
    except Exception:
        name = None
    return name.decode("utf-8", "replace") if name else _STATUS_NAMES.get(status, "status %d" % status)


def _check(status, function):
    if status == _capi.OK:
        return
    message = _capi.lib().dimple_last_error()  # this thread's, right after the failing call
    message = message.decode("utf-8", "replace") if message else ""
    raise Error(message or "%s failed" % function, status, _status_name(status), function)
