"""What the engine reports back, as Python dataclasses: ModelInfo (a loaded model), Result (a
finished or cancelled request) and Step (the canvas after one step), and the reading of a request's
dimple_result into a Result. A Step is read by Model, which turns its committed prefix into text.
"""

import ctypes
from dataclasses import dataclass, field
from typing import List, Optional

from . import _capi
from ._errors import _check


@dataclass(frozen=True)
class ModelInfo:
    """What dimple_model_get_info says; ids are None where the model has none."""
    path: str
    family: str
    compute: str
    compute_reason: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    max_positions: int
    has_vision: bool
    has_tokenizer: bool
    pad_id: Optional[int]
    bos_id: Optional[int]
    eos_id: Optional[int]
    mask_id: Optional[int]
    image_id: Optional[int]


@dataclass
class Result:
    """A finished (or cancelled) request: the answer's text and ids, and its timing."""
    text: str                       # the answer: tokens up to the first end token, specials skipped
    ids: List[int]                  # every answer position's id (max_new_tokens of them; end and pad included)
    answer_tokens: int              # tokens before the first end token
    prompt_tokens: int              # image tokens included
    steps: int                      # steps run
    finished: bool
    prompt_seconds: float           # template, tokens and images to embeddings
    decode_seconds: float           # the steps, summed
    step_seconds: List[float] = field(default_factory=list)  # each step's time


@dataclass
class Step:
    """The canvas after one step."""
    step: int                       # steps run so far (1 after the first)
    ids: List[int]                  # the answer so far: mask_id where still masked
    committed: List[bool]           # per answer position: True once it holds its token for good
    newly_committed: List[int]      # answer offsets this step committed
    masks_left: int
    elapsed_seconds: float          # since decoding began
    finished: bool
    text: str                       # the text that is final: the committed prefix up to the first end token
    request: int = 0                # index in a batch (0 alone)


def _text(b):
    return b.decode("utf-8", "replace") if b else ""


def _read_result(req):
    r = _capi.new_result()
    _check(_capi.lib().dimple_request_get_result(req, ctypes.byref(r)), "dimple_request_get_result")
    steps = int(r.steps)
    return Result(
        text=_text(r.text),
        ids=list(r.answer[:r.answer_len]) if r.answer and r.answer_len else [],
        answer_tokens=int(r.answer_tokens), prompt_tokens=int(r.prompt_tokens), steps=steps,
        finished=bool(r.finished), prompt_seconds=float(r.prompt_seconds), decode_seconds=float(r.decode_seconds),
        step_seconds=list(r.step_seconds[:steps]) if r.step_seconds and steps > 0 else [])
