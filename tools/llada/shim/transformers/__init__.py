"""A minimal stand-in for Hugging Face transformers: only what the original LLaDA files import.

See tools/llada/shim/README.md. Loading reads safetensors with tools/dimple_ref/safetensors_io.py.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

from .models.auto import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer  # noqa: F401

_TOOLS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)
from dimple_ref import safetensors_io as _S  # noqa: E402

__version__ = "0.0-shim"


class PretrainedConfig:
    model_type = ""

    def __init__(self, **kwargs):
        self._attn_implementation = kwargs.pop("attn_implementation", None) or "eager"
        self.return_dict = kwargs.pop("return_dict", True)
        self.output_hidden_states = kwargs.pop("output_hidden_states", False)
        self.output_attentions = kwargs.pop("output_attentions", False)
        self.torchscript = kwargs.pop("torchscript", False)
        self.torch_dtype = kwargs.pop("torch_dtype", None)
        for k, v in kwargs.items():
            setattr(self, k, v)

    @property
    def use_return_dict(self):
        return self.return_dict and not self.torchscript

    def to_dict(self):
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    @classmethod
    def from_dict(cls, d, **kwargs):
        d = dict(d)
        d.update(kwargs)
        return cls(**d)

    @classmethod
    def _set_token_in_kwargs(cls, kwargs, token=None):
        kwargs.pop("token", None)

    @classmethod
    def get_config_dict(cls, folder, **kwargs):
        with open(os.path.join(folder, "config.json")) as f:
            return json.load(f), kwargs

    @classmethod
    def from_pretrained(cls, folder, **kwargs):
        d, kwargs = cls.get_config_dict(folder, **kwargs)
        return cls.from_dict(d, **kwargs)


def load_state_dict(folder):
    """{name: float32 torch tensor} from model.safetensors or its shards (bf16 upcast exactly)."""
    out = {}
    for name, (dt, arr) in _S.read_folder(folder).items():
        out[name] = torch.from_numpy(np.ascontiguousarray(_S.to_float(dt, arr)))
    return out


class PreTrainedModel(nn.Module):
    config_class = PretrainedConfig
    base_model_prefix = ""
    _no_split_modules = []
    supports_gradient_checkpointing = False

    def __init__(self, config, *args, **kwargs):
        super().__init__()
        self.config = config

    @property
    def device(self):
        return next(self.parameters()).device

    @property
    def dtype(self):
        return next(self.parameters()).dtype

    def post_init(self):
        pass

    def _init_weights(self, module):
        pass

    def can_generate(self):
        return False

    @classmethod
    def from_pretrained(cls, folder, *args, config=None, torch_dtype=None, attn_implementation=None,
                        device_map=None, low_cpu_mem_usage=None, **kwargs):
        if config is None:
            config = cls.config_class.from_pretrained(folder)
        if attn_implementation is not None:
            config._attn_implementation = attn_implementation
        model = cls(config)
        sd = load_state_dict(folder)
        own = model.state_dict()
        missing = sorted(set(own) - set(sd))
        unexpected = sorted(set(sd) - set(own))
        if missing or unexpected:
            raise KeyError(f"checkpoint/model mismatch: missing {missing[:8]} unexpected {unexpected[:8]}")
        for k, v in sd.items():
            if tuple(own[k].shape) != tuple(v.shape):
                raise ValueError(f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}")
        model.load_state_dict(sd, strict=True)
        model.to(torch_dtype or torch.float32)
        model.eval()
        return model


class StoppingCriteria:  # name only (llava.mm_utils)
    pass


class LlamaConfig(PretrainedConfig):  # names only (llava_llada.py imports them, never uses them)
    model_type = "llama"


class LlamaModel(PreTrainedModel):
    pass


class LlamaForCausalLM(PreTrainedModel):
    pass
