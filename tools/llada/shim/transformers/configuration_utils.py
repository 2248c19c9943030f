from . import PretrainedConfig  # noqa: F401
