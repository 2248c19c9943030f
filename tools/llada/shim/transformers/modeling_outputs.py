"""Output containers with the fields the original files read (see tools/llada/shim/README.md)."""
from collections import OrderedDict


class ModelOutput(OrderedDict):
    _fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__()
        vals = dict(zip(self._fields, args))
        vals.update(kwargs)
        for f in self._fields:
            v = vals.pop(f, None)
            object.__setattr__(self, f, v)
            if v is not None:
                OrderedDict.__setitem__(self, f, v)
        if vals:
            raise TypeError(f"unexpected fields {sorted(vals)} for {type(self).__name__}")

    def __getitem__(self, k):
        if isinstance(k, str):
            return OrderedDict.__getitem__(self, k)
        return self.to_tuple()[k]

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if name in self._fields and value is not None:
            OrderedDict.__setitem__(self, name, value)

    def to_tuple(self):
        return tuple(getattr(self, f) for f in self._fields if getattr(self, f) is not None)


class CausalLMOutputWithPast(ModelOutput):
    _fields = ("loss", "logits", "past_key_values", "hidden_states", "attentions")


class BaseModelOutput(ModelOutput):
    _fields = ("last_hidden_state", "hidden_states", "attentions")


class BaseModelOutputWithPooling(ModelOutput):
    _fields = ("last_hidden_state", "pooler_output", "hidden_states", "attentions")


class BaseModelOutputWithPast(ModelOutput):
    _fields = ("last_hidden_state", "past_key_values", "hidden_states", "attentions")


class QuestionAnsweringModelOutput(ModelOutput):
    _fields = ("loss", "start_logits", "end_logits", "hidden_states", "attentions")


class SequenceClassifierOutputWithPast(ModelOutput):
    _fields = ("loss", "logits", "past_key_values", "hidden_states", "attentions")
