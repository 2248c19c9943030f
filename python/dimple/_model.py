"""Model, a loaded model folder, and Stream, the step-by-step iteration of one of its requests.

Model holds the engine's dimple_model handle and offers everything done with it: tokenizing and the
chat template, generate / stream / generate_batch, and a bare forward pass. Stream owns one
dimple_request; the model keeps a weak set of its open streams so that closing the model frees them
first.
"""

import ctypes
import os
import threading
import weakref

import numpy as np

from . import _capi
from ._convert import _cstr, _I64, _ids_array, _ids_pointer, _int, _memory_limit, _path_bytes
from ._errors import _STATUS_NAMES, _check, Error
from ._inputs import _decoding_options, _image_array, _is_id_prompt, _message_array, _messages
from ._library import set_threads
from ._results import ModelInfo, Step, _read_result, _text


class Model:
    """A loaded model folder (Hugging Face layout). Use as a context manager, or call close().

    compute: "auto", "f32", "bf16" or "int8". threads: the OpenMP pool, process-wide (0: every core;
    None: leave it as it is). memory_limit: bytes or "12G" (None: what the machine has).
    max_prompt_tokens, max_answer_tokens, max_images: the largest request it will run (they size
    the working memory; larger requests are refused). chat_template: a family to force ("qwen2-vl",
    "qwen2"; None: detected)."""

    def __init__(self, path, compute="auto", threads=0, memory_limit=None, max_prompt_tokens=4096,
                 max_answer_tokens=64, max_images=1, chat_template=None):
        self._handle = None
        self._streams = weakref.WeakSet()
        self._lock = threading.Lock()
        lib = _capi.lib()
        o = _capi.new_model_options()
        compute_b = _cstr(compute, "compute", nullable=True)
        template_b = _cstr(chat_template, "chat_template", nullable=True)
        o.compute = compute_b
        o.chat_template = template_b
        o.memory_limit = _memory_limit(memory_limit)
        o.max_prompt_tokens = _int(max_prompt_tokens, "max_prompt_tokens", *_I64)
        o.max_answer_tokens = _int(max_answer_tokens, "max_answer_tokens", *_I64)
        o.max_images = _int(max_images, "max_images", *_I64)
        path_b = _path_bytes(path, "path")
        if threads is not None:
            set_threads(threads)
        handle = _capi.model_p()
        _check(lib.dimple_model_load(path_b, ctypes.byref(o), ctypes.byref(handle)), "dimple_model_load")
        self._handle = handle
        try:
            info = _capi.new_model_info()
            _check(lib.dimple_model_get_info(handle, ctypes.byref(info)), "dimple_model_get_info")
        except BaseException:
            self.close()
            raise

        def opt_id(v):
            return None if v < 0 else int(v)

        self.info = ModelInfo(
            path=os.fsdecode(path_b), family=_text(info.family), compute=_text(info.compute),
            compute_reason=_text(info.compute_reason), vocab_size=info.vocab_size,
            hidden_size=info.hidden_size, num_layers=info.num_layers, max_positions=info.max_positions,
            has_vision=bool(info.has_vision), has_tokenizer=bool(info.has_tokenizer),
            pad_id=opt_id(info.pad_id), bos_id=opt_id(info.bos_id), eos_id=opt_id(info.eos_id),
            mask_id=opt_id(info.mask_id), image_id=opt_id(info.image_id))

    # -- lifetime

    def close(self):
        """Frees the model (and the requests of its open streams); later calls raise ValueError.
        Close it once no other thread is using it."""
        with self._lock:
            for s in list(self._streams):
                s.close()
            handle, self._handle = self._handle, None
        if handle is not None:
            _capi.lib().dimple_model_free(handle)

    @property
    def closed(self):
        return self._handle is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        if self._handle is None:
            return "<dimple.Model closed>"
        return "<dimple.Model %r family=%s compute=%s>" % (self.info.path, self.info.family, self.info.compute)

    def _h(self):
        h = self._handle
        if h is None:
            raise ValueError("the model is closed")
        return h

    # -- text

    def tokenize(self, text):
        """Token ids of `text` (no chat template, no special tokens added)."""
        lib, h = _capi.lib(), self._h()
        b = _cstr(text, "text")
        capacity = len(b) + 16
        while True:
            buf = (_capi.token * capacity)()
            count = ctypes.c_size_t()
            status = lib.dimple_tokenize(h, b, buf, capacity, ctypes.byref(count))
            if status == _capi.ERROR_BUFFER_TOO_SMALL and count.value > capacity:
                capacity = count.value
                continue
            _check(status, "dimple_tokenize")
            return list(buf[:count.value])

    def detokenize(self, ids, skip_special=False):
        """The text of `ids` (invalid UTF-8, as a token boundary inside a character makes, is replaced)."""
        return self._detokenize_bytes(ids, skip_special).decode("utf-8", "replace")

    def _detokenize_bytes(self, ids, skip_special):
        lib, h = _capi.lib(), self._h()
        a = _ids_array(ids)
        capacity = 16 * len(a) + 64
        while True:
            buf = ctypes.create_string_buffer(capacity)
            length = ctypes.c_size_t()
            status = lib.dimple_detokenize(h, _ids_pointer(a), len(a), 1 if skip_special else 0, buf, capacity,
                                           ctypes.byref(length))
            if status == _capi.ERROR_BUFFER_TOO_SMALL and length.value + 1 > capacity:
                capacity = length.value + 1
                continue
            _check(status, "dimple_detokenize")
            return buf.raw[:length.value]

    def chat_template(self, messages, system=None):
        """The prompt text the chat template makes of `messages` ([{"role", "content", "images"}], or
        a string as one user turn), images as their placeholders, ending with the assistant's opening."""
        lib, h = _capi.lib(), self._h()
        keep = []
        arr, n = _message_array(_messages(messages, None, system), keep)
        capacity = 1024
        while True:
            buf = ctypes.create_string_buffer(capacity)
            length = ctypes.c_size_t()
            status = lib.dimple_apply_chat_template(h, arr, n, buf, capacity, ctypes.byref(length))
            if status == _capi.ERROR_BUFFER_TOO_SMALL and length.value + 1 > capacity:
                capacity = length.value + 1
                continue
            _check(status, "dimple_apply_chat_template")
            return buf.raw[:length.value].decode("utf-8", "replace")

    # -- requests

    def _create_request(self, prompt, images, system, options):
        lib, h = _capi.lib(), self._h()
        keep = []  # every buffer the C call reads, alive until it returns
        opts = _decoding_options(options, keep)
        req = _capi.request_p()
        if _is_id_prompt(prompt):
            if system is not None:
                raise TypeError("system needs a text prompt (raw prompt ids get no chat template)")
            ids = _ids_array(prompt, "prompt")
            img, n_img = _image_array(images, keep, "images")
            if img is None:
                img = ctypes.POINTER(_capi.image)()
            _check(lib.dimple_request_create_from_ids(h, _ids_pointer(ids), len(ids), img, n_img, ctypes.byref(opts),
                                                      ctypes.byref(req)), "dimple_request_create_from_ids")
        else:
            arr, n = _message_array(_messages(prompt, images, system), keep)
            _check(lib.dimple_request_create(h, arr, n, ctypes.byref(opts), ctypes.byref(req)),
                   "dimple_request_create")
        del keep
        return req

    def generate(self, prompt, images=None, system=None, **options):
        """Answers `prompt` and returns a Result.

        prompt: a string (one user turn, `images` before its text, `system` before it when given),
        a list of messages {"role", "content", "images"}, or a list / 1-D array of raw prompt ids
        (no template; one image per image-pad id). images: paths, PIL images or HxWx3 uint8 numpy
        arrays. options: the fields of dimple_decoding_options by name (DECODING_OPTIONS), e.g.
        max_new_tokens=32, steps=16, temperature=0, alg="maskgit_plus"; an unknown name is a TypeError."""
        req = self._create_request(prompt, images, system, options)
        try:
            _check(_capi.lib().dimple_request_run(req, _capi.step_callback(), None), "dimple_request_run")
            return _read_result(req)
        finally:
            _capi.lib().dimple_request_free(req)

    def stream(self, prompt, images=None, system=None, **options):
        """generate's arguments; returns a Stream, an iterator of Step (one per step, by
        dimple_request_step). After the last step, `stream.result` is the Result. Closing the
        stream early (close(), `with`, or dropping it) cancels the request."""
        req = self._create_request(prompt, images, system, options)
        try:
            s = Stream(self, req)
        except BaseException:
            _capi.lib().dimple_request_free(req)
            raise
        with self._lock:
            self._streams.add(s)
        return s

    def generate_batch(self, prompts, **options):
        """Answers several prompts together (dimple_batch_run: one forward pass per step for all);
        each answers as it would alone. Each item is a prompt as generate takes it, or a dict of
        generate's arguments {"prompt", "images", "system", options...}; `options` apply to every
        item (an item's own options win). Returns the Results in order."""
        prompts = list(prompts)
        lib = _capi.lib()
        reqs = []
        try:
            for i, item in enumerate(prompts):
                if isinstance(item, dict):
                    kw = dict(item)
                    if "prompt" not in kw:
                        raise TypeError("prompts[%d] has no 'prompt'" % i)
                    prompt, images, system = kw.pop("prompt"), kw.pop("images", None), kw.pop("system", None)
                    reqs.append(self._create_request(prompt, images, system, {**options, **kw}))
                else:
                    reqs.append(self._create_request(item, None, None, options))
            if not reqs:
                return []
            arr = (_capi.request_p * len(reqs))(*reqs)
            _check(lib.dimple_batch_run(arr, len(reqs), _capi.step_callback(), None), "dimple_batch_run")
            return [_read_result(r) for r in reqs]
        finally:
            for r in reqs:
                lib.dimple_request_free(r)

    # -- the model alone

    def forward(self, ids):
        """Logits of one bidirectional pass over `ids` (text only): float32 array [len(ids), vocab_size]."""
        lib, h = _capi.lib(), self._h()
        a = _ids_array(ids)
        out = np.empty((len(a), self.info.vocab_size), dtype=np.float32)
        count = ctypes.c_size_t()
        _check(lib.dimple_forward(h, _ids_pointer(a), len(a), out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                  out.size, ctypes.byref(count)), "dimple_forward")
        if count.value != out.size:
            raise Error("dimple_forward wrote %d floats for %d ids of a %d-token vocabulary"
                        % (count.value, len(a), self.info.vocab_size), _capi.ERROR_INTERNAL,
                        _STATUS_NAMES[_capi.ERROR_INTERNAL], "dimple_forward")
        return out

    # -- steps

    def _read_step(self, req):
        st = _capi.new_step()
        _check(_capi.lib().dimple_request_get_step(req, ctypes.byref(st)), "dimple_request_get_step")
        n = st.answer_len
        ids = list(st.answer[:n]) if st.answer and n else []
        committed = [bool(c) for c in st.committed[:n]] if st.committed and n else [False] * len(ids)
        newly = list(st.newly_committed[:st.n_newly_committed]) if st.newly_committed and st.n_newly_committed else []
        return Step(step=int(st.step), ids=ids, committed=committed, newly_committed=newly,
                    masks_left=int(st.masks_left), elapsed_seconds=float(st.elapsed_seconds),
                    finished=bool(st.finished), text=self._final_text(ids, committed), request=int(st.request))

    def _final_text(self, ids, committed):
        """The committed prefix of the canvas up to the first end token, as text (specials skipped)."""
        if not self.info.has_tokenizer:
            return ""
        info = self.info
        prefix = []
        for tok, done in zip(ids, committed):
            if not done or tok == info.eos_id:
                break
            if tok != info.pad_id and tok != info.mask_id:
                prefix.append(tok)
        return self.detokenize(prefix, skip_special=True) if prefix else ""


class Stream:
    """The steps of one request (Model.stream): iterate to get each Step; once the last step has run,
    `result` is the Result (None before). close() (or leaving a `with` block) frees the request,
    cancelling it if unfinished; `result` then holds the answer so far (finished False) if any step ran."""

    def __init__(self, model, req):
        self._model = model
        self._req = req
        self.result = None
        self.steps_run = 0

    def __iter__(self):
        return self

    def __next__(self):
        req = self._req
        if req is None:
            raise StopIteration
        lib = _capi.lib()
        try:
            if lib.dimple_request_finished(req):
                self.result = _read_result(req)
                self._free()
                raise StopIteration
            _check(lib.dimple_request_step(req), "dimple_request_step")
            self.steps_run += 1
            step = self._model._read_step(req)
            if step.finished:
                self.result = _read_result(req)
                self._free()
            return step
        except StopIteration:
            raise
        except BaseException:
            self._free()
            raise

    @property
    def finished(self):
        return self.result is not None and self.result.finished

    def close(self):
        """Frees the request; an unfinished one is cancelled, its answer so far in `result`."""
        req = self._req
        if req is None:
            return
        try:
            if self.steps_run and self.result is None:
                self.result = _read_result(req)
        finally:
            self._free()

    def _free(self):
        req, self._req = self._req, None
        if req is not None:
            _capi.lib().dimple_request_free(req)
            self._model._streams.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self._free()
        except Exception:
            pass
