"""einops stand-in (see tools/llada/shim/README.md): imported by the Fast-dLLM file, never called."""


def rearrange(*args, **kwargs):
    raise NotImplementedError("einops is not installed; this path is not used by the goldens")
