"""Name only (used by the LLaDA-V file on CUDA with a padding mask, never here)."""


class AttentionMaskConverter:
    @staticmethod
    def _unmask_unattended(mask, min_dtype):
        raise NotImplementedError("CUDA-only path")
