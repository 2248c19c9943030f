from . import PreTrainedModel  # noqa: F401
