"""BatchFeature and get_size_dict as LLaDA-V's SigLIP processor uses them (transformers 4.40)."""
import numpy as np
import torch


class BatchFeature(dict):
    def __init__(self, data=None, tensor_type=None):
        super().__init__(data or {})
        if tensor_type == "pt":
            for k, v in list(self.items()):
                if isinstance(v, (list, tuple)) and len(v) > 0 and isinstance(v[0], np.ndarray):
                    v = np.array(v)
                self[k] = torch.tensor(v)

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k)


def get_size_dict(size=None, max_size=None, height_width_order=True, default_to_square=True, param_name="size"):
    if isinstance(size, dict):
        return dict(size)
    if isinstance(size, int):
        return {"height": size, "width": size} if default_to_square else {"shortest_edge": size}
    if isinstance(size, (tuple, list)) and len(size) == 2:
        h, w = size if height_width_order else size[::-1]
        return {"height": h, "width": w}
    raise ValueError(f"cannot convert {size} to a size dict")
