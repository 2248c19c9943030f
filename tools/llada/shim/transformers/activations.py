"""ACT2FN with the two activations the LLaDA-V files use (transformers 4.40 semantics)."""
import torch.nn as nn
import torch.nn.functional as F


class PytorchGELUTanh(nn.Module):
    def forward(self, x):
        return F.gelu(x, approximate="tanh")


class _ClassInstantier(dict):
    def __getitem__(self, key):
        return super().__getitem__(key)()


ACT2FN = _ClassInstantier({"silu": nn.SiLU, "swish": nn.SiLU, "gelu": nn.GELU,
                           "gelu_pytorch_tanh": PytorchGELUTanh, "relu": nn.ReLU})
