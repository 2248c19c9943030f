"""Auto-class registration stubs (see tools/llada/shim/README.md)."""

REGISTRY = {"config": {}, "model": {}}


class AutoConfig:
    @staticmethod
    def register(model_type, config_class, exist_ok=False):
        REGISTRY["config"][model_type] = config_class


class AutoModel:
    @staticmethod
    def register(config_class, model_class, exist_ok=False):
        REGISTRY["model"][config_class] = model_class


class AutoModelForCausalLM(AutoModel):
    pass


class AutoTokenizer:
    @staticmethod
    def from_pretrained(*args, **kwargs):
        raise NotImplementedError("no tokenizer in the shim: the goldens use token ids")
