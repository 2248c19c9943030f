#!/usr/bin/python3
"""Golden outputs of the ORIGINAL LLaDA-V code (ML-GSAI/LLaDA-V 2252769, train/llava) on a tiny random
LLaDA-V (CPU, float32, SDPA attention as in generate_demo.py).

Usage:
  bash tools/llada/get_originals.sh /tmp/llada-orig
  /usr/bin/python3 tools/llada/make_tiny_llada_v.py /tmp/llada-v-tiny
  /usr/bin/python3 tools/llada/make_llada_v_goldens.py /tmp/llada-v-tiny tests/goldens/llada-v-tiny \
      [--orig /tmp/llada-orig] [--images tests/data/images]

What runs unchanged: process_images / process_anyres_image / select_best_resolution /
resize_and_pad_image / divide_to_patches / get_anyres_image_grid_shape (mm_utils), the SigLIP processor,
tower and projector, LlavaMetaForCausalLM.prepare_inputs_labels_for_multimodal (unpad_image, the
anyres_max interpolation, image_newline), the LLaMA-style LLaDA LM, LlavaLLaDAModelLM.generate ->
generate_with_embeds. Observed through forward hooks and by wrapping (record, then call through)
processor.preprocess, llava_arch.unpad_image and torch.nn.functional.interpolate. The step rule of
generate_with_embeds is replayed on the recorded logits for the margins; the replay must give every
next step's input and the returned ids exactly (checked).
"""
import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import originals  # noqa: E402

MARGIN = 1e-5
IDS = {"bos": 126080, "eos": 126081, "mask": 126336, "start_header": 126346, "end_header": 126347,
       "eot": 126348, "assistant": 598}
BANNED = [126081, 126080, 126346, 126347]


def sha(b):
    return hashlib.sha256(b).hexdigest()


def sha_file(p):
    with open(p, "rb") as f:
        return sha(f.read())


class Out:
    def __init__(self, folder):
        self.folder = folder
        self.arrays = {}

    def save(self, name, arr, meaning):
        arr = np.ascontiguousarray(arr)
        np.save(os.path.join(self.folder, name + ".npy"), arr)
        self.arrays[name + ".npy"] = {"shape": list(arr.shape), "dtype": str(arr.dtype), "meaning": meaning}


# ------------------------------------------------------------------------------------------------
# images
# ------------------------------------------------------------------------------------------------
def synthetic(w, h):
    """Deterministic RGB test pattern (integers only): R = (3x + 5y) mod 256,
    G = 7 (x xor y) mod 256, B = floor(x y / 64) mod 256, x = column, y = row."""
    x = np.arange(w, dtype=np.int64)[None, :]
    y = np.arange(h, dtype=np.int64)[:, None]
    r = (3 * x + 5 * y) % 256
    g = (7 * (x ^ y)) % 256
    b = (x * y // 64) % 256
    return Image.fromarray(np.stack([r, g, b], -1).astype(np.uint8), "RGB")


def image_cases(img_dir):
    cases = []
    p = lambda f: os.path.join(img_dir, f)  # noqa: E731
    for f, name in [("1_resize.jpg", "photo1"), ("2_resize.jpg", "photo2"), ("3_resize.jpg", "photo3")]:
        cases.append((name, Image.open(p(f)).convert("RGB"), f"tests/data/images/{f}, convert('RGB')"))
    cases.append(("rgba512", Image.open(p("rgba_512.png")).convert("RGB"),
                  "tests/data/images/rgba_512.png, convert('RGB') (alpha dropped, as training and lmms-eval do)"))
    im1 = Image.open(p("1_resize.jpg")).convert("RGB")
    for box in [(0, 0, 541, 100), (120, 0, 200, 360), (10, 20, 410, 320), (0, 0, 385, 360)]:
        w, h = box[2] - box[0], box[3] - box[1]
        cases.append((f"photo1_crop{w}x{h}", im1.crop(box), f"photo1 .crop({box})"))
    for (w, h) in [(384, 384), (640, 480), (1024, 768), (1920, 1080), (4000, 3000), (100, 900), (2000, 300),
                   (37, 53), (1152, 384), (768, 769)]:
        cases.append((f"syn{w}x{h}", synthetic(w, h), f"synthetic({w}, {h})"))
    return cases


FULL = {"photo3", "photo1", "syn1024x768"}   # every vision intermediate stored for these


# ------------------------------------------------------------------------------------------------
def load_model(V, mdir, tdir, dtype):
    cfg = V.llava_llada.LlavaLLaDAConfig.from_pretrained(mdir)
    cfg.mm_vision_tower = tdir  # the real config names the hub tower; here the tiny tower folder
    return V.llava_llada.LlavaLLaDAModelLM.from_pretrained(mdir, config=cfg, attn_implementation="sdpa",
                                                            torch_dtype=dtype)


class Recorder:
    """Record inputs/outputs of the vision path while the original code runs."""

    def __init__(self, V, model):
        self.V, self.model = V, model
        self.reset()

    def reset(self):
        self.crops, self.unpad, self.interp, self.tower_hs, self.proj = [], [], [], None, None

    def __enter__(self):
        V, m = self.V, self.model
        proc = m.get_vision_tower().image_processor
        orig_pre = type(proc).preprocess

        def pre(images, return_tensors):
            imgs = [images] if isinstance(images, Image.Image) else images
            for im in imgs:
                self.crops.append(np.array(im))
            return orig_pre(proc, images, return_tensors)
        proc.preprocess = pre
        self._proc = proc
        self._unpad = V.llava_arch.unpad_image

        def unpad(t, size):
            out = self._unpad(t, size)
            self.unpad.append((t.detach().clone(), tuple(size), out.detach().clone()))
            return out
        V.llava_arch.unpad_image = unpad
        self._interp = torch.nn.functional.interpolate

        def interp(inp, size=None, *a, **k):
            out = self._interp(inp, size, *a, **k)
            self.interp.append((inp.detach().clone(), list(size), k.get("mode"), out.detach().clone()))
            return out
        torch.nn.functional.interpolate = interp
        self._hooks = [
            m.get_vision_tower().vision_tower.register_forward_hook(
                lambda mod, i, o: setattr(self, "tower_hs", [h.detach().clone() for h in o.hidden_states])),
            m.get_model().mm_projector.register_forward_hook(
                lambda mod, i, o: setattr(self, "proj", o.detach().clone())),
        ]
        return self

    def __exit__(self, *exc):
        del self._proc.preprocess
        self.V.llava_arch.unpad_image = self._unpad
        torch.nn.functional.interpolate = self._interp
        for h in self._hooks:
            h.remove()


def pixel_rule(u8):
    """The processor's arithmetic, checked bit for bit against its output: x/255 in float64 -> float32,
    then (x - 0.5) / 0.5 in float32, channels first."""
    x = (u8.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.float32(0.5)) / np.float32(0.5)
    return x.transpose(2, 0, 1)


def prompt_with_image(q):
    # <|startoftext|><|start_header_id|>user<|end_header_id|>\n\n<image>\nQ<|eot_id|><|start_header_id|>assistant...
    USER, NLNL, NL = 882, 271, 198  # stand-ins for "user", "\n\n", "\n" (any ordinary ids)
    return ([IDS["bos"], IDS["start_header"], USER, IDS["end_header"], NLNL, -200, NL] + q +
            [IDS["eot"], IDS["start_header"], IDS["assistant"], IDS["end_header"], NLNL])


def run_vision(V, model, model64, cases, out, manifest, tol):
    cfg = model.config
    proc = model.get_vision_tower().image_processor
    results = {}
    errs = {"image_rows": 0.0, "image_rows_maxabs": 0.0, "tower": 0.0, "tower_maxabs": 0.0,
            "projector": 0.0, "projector_maxabs": 0.0}
    for name, img, src in cases:
        W, H = img.size
        rec = Recorder(V, model)
        with rec:
            pix = V.mm_utils.process_images([img], proc, cfg)
            images = [t for t in pix]
            ids = torch.tensor([[IDS["bos"], 11, -200, 12]])
            with torch.no_grad():
                _, _, _, _, emb, _ = model.prepare_inputs_labels_for_multimodal(
                    ids, None, None, None, None, images, ["image"], image_sizes=[img.size])
        pix0 = images[0].numpy()
        crops = np.stack(rec.crops)
        for c in range(len(crops)):
            if not np.array_equal(pixel_rule(crops[c]).view(np.uint32), pix0[c].view(np.uint32)):
                raise SystemExit(f"{name}: pixel rule does not reproduce crop {c}")
        best = V.mm_utils.select_best_resolution(img.size, cfg.image_grid_pinpoints)
        gw, gh = V.mm_utils.get_anyres_image_grid_shape(img.size, cfg.image_grid_pinpoints, 384)
        padded = V.mm_utils.resize_and_pad_image(img, best)
        rows = emb[0, 2:-1]  # between the two leading ids and the trailing one
        n_rows = rows.shape[0]
        r = {"source": src, "size_wh": [W, H], "best_resolution_wh": list(best), "grid_cols_rows": [gw, gh],
             "n_crops": int(pix0.shape[0]), "padded_sha256": sha(np.array(padded).tobytes()),
             "crop_u8_sha256": [sha(c.tobytes()) for c in crops],
             "pixel_f32_sha256": [sha(p.astype("<f4").tobytes()) for p in pix0], "n_image_rows": int(n_rows)}
        if rec.unpad:
            t_in, size, t_out = rec.unpad[0]
            r["map_before_unpad_chw"] = list(t_in.shape)
            r["map_after_unpad_chw"] = list(t_out.shape)
            c_, h_, w_ = t_out.shape
            r["times"] = math.sqrt(h_ * w_ / (4 * 27 ** 2))
        if rec.interp:
            r["interpolated_hw"] = rec.interp[0][1]
            r["interpolate_mode"] = rec.interp[0][2]
        results[name] = r
        out.save(f"{name}_image_rows_every8", rows[::8].numpy(),
                 "the image's rows in inputs_embeds (base 729, then map rows + image_newline), rows 0, 8, ...")
        # float64 run of the original on the same pixels
        with torch.no_grad():
            _, _, _, _, emb64, _ = model64.prepare_inputs_labels_for_multimodal(
                ids, None, None, None, None, [t.double() for t in images], ["image"], image_sizes=[img.size])
        e = float((emb64[0, 2:-1] - rows.double()).abs().max())
        errs["image_rows"] = max(errs["image_rows"], e)
        errs["image_rows_maxabs"] = max(errs["image_rows_maxabs"], float(rows.abs().max()))
        r["image_rows_err_vs_f64"] = e
        if name in FULL:
            out.save(f"{name}_crops_u8_every16", crops[:, ::16],
                     f"{src}: the processor's input crops [base, tile 0, ...] (uint8 HWC), rows 0, 16, 32, ... "
                     "(vision.json has the sha256 of every whole crop and of its float32 pixel values)")
            out.save(f"{name}_image_rows", rows.numpy(), "all the image's rows in inputs_embeds")
            if rec.unpad:
                out.save(f"{name}_map_before_unpad", rec.unpad[0][0].numpy(),
                         "tiles' projected rows as a (16, rows*27, cols*27) map, before unpad_image "
                         "(its output is a slice of this map: shape in vision.json)")
            if rec.interp:
                out.save(f"{name}_map_after_interpolate", rec.interp[0][3][0].numpy(),
                         "after the anyres_max_4 bilinear downscaling (before image_newline)")
            if name in ("photo3", "photo1"):
                out.save(f"{name}_projected", rec.proj.numpy(), "mm_projector output per crop (crops, 729, 16)")
            if name == "photo3":
                hs = rec.tower_hs
                for k, h in enumerate(hs):
                    out.save(f"{name}_tower_hidden{k}", h.numpy(),
                             "SigLIP tower hidden_states[%d] (crops, 729, 32): %s" % (
                                 k, "patch + position embeddings" if k == 0 else
                                 f"output of encoder layer {k - 1}" + (
                                     " = the feature LLaDA-V uses (no post_layernorm)" if k == len(hs) - 1 else "")))
            with torch.no_grad():
                t64 = model64.get_vision_tower()(images[0].double())
                p64 = model64.get_model().mm_projector(t64)
            errs["tower"] = max(errs["tower"], float((t64 - rec.tower_hs[-1].double()).abs().max()))
            errs["tower_maxabs"] = max(errs["tower_maxabs"], float(rec.tower_hs[-1].abs().max()))
            errs["projector"] = max(errs["projector"], float((p64 - rec.proj.double()).abs().max()))
            errs["projector_maxabs"] = max(errs["projector_maxabs"], float(rec.proj.abs().max()))
        print(f"{name:22s} {W}x{H} grid {gw}x{gh} crops {pix0.shape[0]:2d} rows {n_rows} "
              f"{r.get('map_after_unpad_chw')} {r.get('interpolated_hw')}", flush=True)
    tol["vision_vs_original_f64"] = errs
    return results


# ------------------------------------------------------------------------------------------------
# language model forward
# ------------------------------------------------------------------------------------------------
def run_lm_forward(V, model, model64, img, out, manifest, tol):
    proc = model.get_vision_tower().image_processor
    images = [t for t in V.mm_utils.process_images([img], proc, model.config)]
    q = [791, 2217, 315, 420, 2217, 30]
    cases = {"text": torch.tensor([[IDS["bos"], IDS["start_header"], 882, IDS["end_header"], 271] + q +
                                    [IDS["eot"], IDS["start_header"], IDS["assistant"], IDS["end_header"], 271] +
                                    [IDS["mask"]] * 8]),
             "image": torch.tensor([prompt_with_image(q) + [IDS["mask"]] * 8])}
    errs = {}
    for name, ids in cases.items():
        with torch.no_grad():
            if name == "image":
                _, _, _, _, emb, _ = model.prepare_inputs_labels_for_multimodal(
                    ids, None, None, None, None, images, ["image"], image_sizes=[img.size])
                _, _, _, _, emb64, _ = model64.prepare_inputs_labels_for_multimodal(
                    ids, None, None, None, None, [t.double() for t in images], ["image"], image_sizes=[img.size])
            else:
                emb = model.get_model().embed_tokens(ids)
                emb64 = model64.get_model().embed_tokens(ids)
            o = model.get_model()(inputs_embeds=emb, output_hidden_states=True)
            lg = model.lm_head(o[0]).float()
            o64 = model64.get_model()(inputs_embeds=emb64, output_hidden_states=True)
            lg64 = model64.lm_head(o64[0])
        hs = torch.stack(o.hidden_states)[:, 0]
        out.save(f"lm_{name}_input_ids", ids.numpy().astype(np.int64), "prompt ids (-200 = the image)")
        out.save(f"lm_{name}_inputs_embeds", emb[0].numpy(), "rows fed to the LM (image rows spliced in)")
        out.save(f"lm_{name}_hidden_states", hs.numpy(),
                 "[layers+1, L, 16]: inputs_embeds, output of layer 0, final-norm output")
        top = torch.topk(lg[0], 8, dim=-1)
        out.save(f"lm_{name}_top8_ids", top.indices.numpy().astype(np.int64), "per row, the 8 largest logits' ids")
        out.save(f"lm_{name}_top8_logits", top.values.numpy(), "their logits (float32), largest first")
        out.save(f"lm_{name}_logits_last_row", lg[0, -1].numpy(), "the full logits [126464] of the last row")
        errs[name] = {"logits": float((lg64 - lg.double()).abs().max()), "logits_maxabs": float(lg.abs().max()),
                      "hidden": float((torch.stack(o64.hidden_states)[:, 0] - hs.double()).abs().max()),
                      "hidden_maxabs": float(hs.abs().max()), "L": int(emb.shape[1])}
    tol["lm_vs_original_f64"] = errs


# ------------------------------------------------------------------------------------------------
# generation
# ------------------------------------------------------------------------------------------------
class IdTokenizer:
    """Stand-in tokenizer for generate_with_embeds' two calls (stop strings, suffix): string -> ids."""

    def __init__(self, table):
        self.table = table

    def encode(self, s, add_special_tokens=False):
        return list(self.table[s])


TOKENS = {"<|eot_id|>": [IDS["eot"]], "The answer is": [791, 4320, 374], "END": [4794]}


def replay(gen_model_cls, emb_weight, calls, ret, L0, opts, seed):
    """generate_with_embeds' step rule on the recorded answer rows (x_embeds[L0:], logits[L0:]).
    Prompt rows are never masks (checked on the first forward), so they take no part in a decision;
    offsets below count from the first answer row. Returns steps info, margins, uniforms."""
    mask_id = IDS["mask"]
    g, bl, steps = opts["gen_length"], opts["block_length"], opts["steps"]
    T, cfg, rm = opts.get("temperature", 0.0), opts.get("cfg_scale", 0.0), opts.get("remasking", "low_confidence")
    suffix = TOKENS[opts["generation_suffix"]] if opts.get("generation_suffix") else []
    stops = [TOKENS[s] for s in opts.get("stopping_criteria") or []]
    S_ = len(suffix)
    A = g + S_
    m = emb_weight[mask_id]
    x_emb = calls[0][0][:1].clone()
    x = torch.full((1, A), mask_id, dtype=torch.long)
    if S_:
        x[:, -S_:] = torch.tensor(suffix)
    nb, s = g // bl, steps // (g // bl)
    stop_pos, found = g, False
    torch.manual_seed(seed)
    info, uniforms, t = [], [], 0
    mm, where = math.inf, None
    for b in range(nb):
        bs, be = b * bl, (b + 1) * bl
        if found and stop_pos <= bs:
            break
        bmask = torch.all(torch.abs(x_emb[:, bs:be] - m) < 1e-5, dim=2)
        counts = gen_model_cls.get_num_transfer_tokens(bmask, s)
        for i in range(s):
            mask_index = torch.all(torch.abs(x_emb - m) < 1e-5, dim=2)
            if found and not mask_index[0, :stop_pos].any():
                break
            if not mask_index[0, bs:be].any():
                break
            xin, lg = calls[t]
            if not torch.equal(xin[:1], x_emb):
                raise SystemExit(f"replay: input of forward {t} differs")
            logits = lg.float()
            if cfg > 0:
                c_, u_ = torch.chunk(logits, 2, dim=0)
                logits = u_ + (cfg + 1) * (c_ - u_)
            for tid in BANNED:
                logits[:, :, tid] = torch.where(mask_index, -float("inf"), logits[:, :, tid])
            if T > 0:  # the original draws its noise over ALL rows: draw the same, keep the answer rows
                full = torch.rand((1, L0 + A, logits.shape[-1]), dtype=torch.float64)[:, L0:]
                lwn = logits.to(torch.float64).exp() / (-torch.log(full)) ** T
            else:
                lwn = logits
            x0 = torch.argmax(lwn, dim=-1)
            if rm == "low_confidence":
                p = torch.softmax(logits.to(torch.float64), dim=-1)
                x0_p = torch.gather(p, -1, x0[..., None])[..., 0]
            else:
                x0_p = torch.rand((1, L0 + A))
                uniforms.append(x0_p.numpy().copy())
                x0_p = x0_p[:, L0:]
            if found:
                x0_p[:, stop_pos:] = -np.inf
            else:
                x0_p[:, be:] = -np.inf
            if S_:
                x0_p[:, -S_:] = -np.inf
            x0_emb = emb_weight[x0]
            x0_emb = torch.where(mask_index.unsqueeze(-1).expand_as(x_emb), x0_emb, x_emb)
            x0 = torch.where(mask_index, x0, x)
            conf = torch.where(mask_index, x0_p, torch.tensor(-np.inf, dtype=x0_p.dtype))
            k = int(counts[0, i])
            cand = torch.nonzero(torch.isfinite(conf[0])).flatten()
            sel = torch.topk(conf[0], k=k).indices if k else torch.tensor([], dtype=torch.long)
            cs = torch.sort(conf[0][cand].double(), descending=True).values
            km = None if k == 0 else (float(cs[k - 1] - cs[k]) if k < len(cand) else (math.inf if k == len(cand) else 0.0))
            top2 = torch.topk(lwn[0].double() if T > 0 else logits[0], 2, dim=-1).values
            gaps = (top2[:, 0] - top2[:, 1])
            ag = [float(gaps[j]) for j in sorted(sel.tolist())]
            for val, what in ([(km, "topk")] if km is not None else []) + [(v, "argmax") for v in ag]:
                if val < mm:
                    mm, where = val, {"forward": t, "kind": what}
            tr = torch.zeros_like(x0, dtype=torch.bool)
            tr[0, sel] = True
            x_emb = x_emb.clone()
            x_emb[tr] = x0_emb[tr]
            x[tr] = x0[tr]
            if stops:
                gen_part = x[0, :g]
                for stop_seq in stops:
                    for st in range(gen_part.size(0) - len(stop_seq) + 1):
                        if torch.all(gen_part[st:st + len(stop_seq)] == torch.tensor(stop_seq)):
                            if not found or st < stop_pos:
                                stop_pos, found = st, True
                            break
                    if found:
                        break
            info.append({"block": b, "step_in_block": i, "count": k,
                         "masked": torch.nonzero(mask_index[0]).flatten().tolist(),
                         "transfer": sorted(sel.tolist()),
                         "x0": [int(x0[0, j]) for j in sorted(sel.tolist())],
                         "kth_conf": float(cs[k - 1]) if 0 < k <= len(cand) else None,
                         "next_conf": float(cs[k]) if 0 < k < len(cand) else None,
                         "topk_margin": km, "argmax_gap_transfer": ag,
                         "answer_after": x[0].tolist(), "stop_position": stop_pos if found else None})
            t += 1
    if t != len(calls):
        raise SystemExit(f"replay used {t} forwards, the original made {len(calls)}")
    end = stop_pos if found else g
    mine = torch.cat([x[:, :end], x[:, A - S_:]], 1) if S_ else x[:, :end]
    if not torch.equal(mine, ret):
        raise SystemExit("replay: returned ids differ")
    return info, (mm, where), uniforms


def gen_specs():
    """(name, prompt, options, seed). Text runs are cheap; each image run re-runs the LM over the
    ~1500 image rows at every step (and the float64 check does it again), so there are fewer."""
    S = []
    for (g, b, s) in [(16, 16, 16), (16, 16, 8), (16, 8, 8), (16, 4, 8), (12, 4, 6), (8, 8, 12)]:
        S.append((f"lc_text_g{g}_b{b}_s{s}", "text", dict(steps=s, gen_length=g, block_length=b), 0))
    for j, (g, b, s) in enumerate([(16, 16, 16), (16, 8, 8), (16, 4, 8)]):
        S.append((f"rand_text_g{g}_b{b}_s{s}", "text", dict(steps=s, gen_length=g, block_length=b,
                  remasking="random"), 100 + j))
    for (g, b, s) in [(16, 16, 16), (16, 8, 8)]:
        S.append((f"cfg1.0_lc_text_g{g}_b{b}_s{s}", "text", dict(steps=s, gen_length=g, block_length=b,
                  cfg_scale=1.0), 0))
    for (g, b, s) in [(16, 16, 16), (16, 8, 8), (16, 4, 8), (12, 4, 12)]:
        S.append((f"stop_lc_text_g{g}_b{b}_s{s}", "text", dict(steps=s, gen_length=g, block_length=b,
                  stopping_criteria=["<|eot_id|>"]), 0))
    S.append(("stop2_lc_text_g16_b8_s8", "text", dict(steps=8, gen_length=16, block_length=8,
              stopping_criteria=["END", "<|eot_id|>"]), 0))
    S.append(("suffix_lc_text_g16_b8_s8", "text", dict(steps=8, gen_length=16, block_length=8,
              generation_suffix="The answer is"), 0))
    S.append(("suffix_stop_lc_text_g16_b16_s16", "text", dict(steps=16, gen_length=16, block_length=16,
              generation_suffix="The answer is", stopping_criteria=["<|eot_id|>"]), 0))
    S.append(("temp0.8_lc_text_g16_b8_s8", "text", dict(steps=8, gen_length=16, block_length=8,
              temperature=0.8), 7))
    for (g, b, s) in [(16, 16, 8), (16, 8, 8), (12, 4, 6)]:
        S.append((f"lc_image_g{g}_b{b}_s{s}", "image", dict(steps=s, gen_length=g, block_length=b), 0))
    S.append(("rand_image_g16_b8_s8", "image", dict(steps=8, gen_length=16, block_length=8, remasking="random"), 110))
    S.append(("cfg1.0_lc_image_g16_b8_s4", "image", dict(steps=4, gen_length=16, block_length=8, cfg_scale=1.0), 0))
    S.append(("stop_lc_image_g16_b8_s8", "image", dict(steps=8, gen_length=16, block_length=8,
              stopping_criteria=["<|eot_id|>"]), 0))
    S.append(("suffix_lc_image_g16_b8_s8", "image", dict(steps=8, gen_length=16, block_length=8,
              generation_suffix="The answer is"), 0))
    return S


PROMPT_Q = [791, 2217, 315, 420, 2217, 30]


class Generation:
    """Runs the original generate on the float32 model (and its float64 twin for the check) and
    records each forward's answer input rows (layer 0's input) and logits (lm_head's output)."""

    def __init__(self, V, model, model64, img):
        self.model, self.model64, self.img = model, model64, img
        proc = model.get_vision_tower().image_processor
        self.images = [t for t in V.mm_utils.process_images([img], proc, model.config)]
        self.prompts = {"text": [IDS["bos"], IDS["start_header"], 882, IDS["end_header"], 271] + PROMPT_Q +
                        [IDS["eot"], IDS["start_header"], IDS["assistant"], IDS["end_header"], 271],
                        "image": prompt_with_image(PROMPT_Q)}
        self.tok = IdTokenizer(TOKENS)
        self.calls = []
        self.cur = {"L0": None}
        with torch.no_grad():
            _, _, _, _, e_img, _ = model.prepare_inputs_labels_for_multimodal(
                torch.tensor([self.prompts["image"]]), None, None, None, None, self.images, ["image"],
                image_sizes=[img.size])
        self.rows = {"text": len(self.prompts["text"]), "image": int(e_img.shape[1])}
        m_emb = model.get_model().embed_tokens.weight[IDS["mask"]].detach()
        if torch.all(torch.abs(e_img[0] - m_emb) < 1e-5, dim=1).any():
            raise SystemExit("an image row equals the mask embedding")
        self.emb_w = model.get_model().embed_tokens.weight.detach()
        self.V = V

    def __enter__(self):
        cur, calls = self.cur, self.calls

        def on_layer0(mod, i, o):
            if cur["L0"] is None:
                return
            x = i[0].detach()
            if cur["first"] is None:
                cur["first"] = x[:, :cur["L0"]].clone()
            elif not torch.equal(x[:1, :cur["L0"]], cur["first"][:1]):
                raise SystemExit("prompt rows changed between forwards")
            cur["x"] = x[:, cur["L0"]:].clone()

        def on_head(mod, i, o):
            if cur["L0"] is not None:
                calls.append((cur["x"], o.detach()[:, cur["L0"]:].clone()))
        self.hooks = [self.model.get_model().layers[0].register_forward_hook(on_layer0),
                      self.model.lm_head.register_forward_hook(on_head)]
        return self

    def __exit__(self, *exc):
        for h in self.hooks:
            h.remove()

    def generate(self, model, pk, opts, seed, double=False):
        kw = dict(opts)
        if "stopping_criteria" in kw or "generation_suffix" in kw:
            kw["tokenizer"] = self.tok
        torch.manual_seed(seed)
        ids = torch.tensor([self.prompts[pk]])
        with torch.no_grad():
            if pk != "image":
                return model.generate(ids, **kw)
            images = [t.double() for t in self.images] if double else self.images
            return model.generate(ids, images=images, image_sizes=[self.img.size], **kw)

    def run(self, name, pk, opts, seed, out):
        """One run: the original's answer, the replayed steps and margins, the float64 check."""
        self.calls.clear()
        L0 = self.cur["L0"] = self.rows[pk]
        self.cur["first"] = None
        ret = self.generate(self.model, pk, opts, seed)
        self.cur["L0"] = None  # the float64 twin is not recorded
        info, (mm, where), unif = replay(self.V.modeling.LLaDAModelLM, self.emb_w, list(self.calls), ret, L0,
                                         opts, seed)
        run = {"name": name, "prompt": pk, "prompt_ids": self.prompts[pk], "prompt_rows": L0,
               "image": "photo3" if pk == "image" else None, "options": dict(opts, mask_id=IDS["mask"]),
               "tokenizer_table": {k: TOKENS[k] for k in (opts.get("stopping_criteria") or []) +
                                   ([opts["generation_suffix"]] if opts.get("generation_suffix") else [])},
               "seed": seed, "returned": ret[0].tolist(), "n_forward": len(self.calls), "steps": info,
               "min_margin": mm, "min_margin_at": where}
        if unif:
            fn = f"gen_{name}_uniforms.npy"
            np.save(os.path.join(out.folder, fn), np.stack(unif).astype(np.float32))
            out.arrays[fn] = {"shape": list(np.stack(unif).shape), "dtype": "float32",
                              "meaning": f"run {name}: the [1, L] uniforms of each forward"}
            run["uniforms_file"] = fn
        if opts.get("temperature", 0) == 0:
            run["f64_identical"] = bool(torch.equal(self.generate(self.model64, pk, opts, seed, double=True), ret))
        else:
            run["f64_identical"] = None
        run["contract"] = opts.get("temperature", 0) == 0
        run["usable"] = bool(run["contract"] and run["f64_identical"] and mm >= MARGIN)
        print(f"{name:34s} fwd {len(self.calls):3d} ret {len(ret[0]):2d} margin {mm:.3g} "
              f"f64 {run['f64_identical']} usable {run['usable']}", flush=True)
        return run


def run_generation(V, model, model64, img, out):
    with Generation(V, model, model64, img) as g:
        return [g.run(name, pk, opts, seed, out) for name, pk, opts, seed in gen_specs()]


IMAGES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "data", "images")


def start(a):
    """The original LLaDA-V modules and the tiny model's two folders (a.model); one thread; a.out made."""
    V = originals.load_v(a.orig)
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    return V, os.path.join(a.model, "model"), os.path.join(a.model, "siglip-tiny")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="folder written by make_tiny_llada_v.py (model/ and siglip-tiny/)")
    ap.add_argument("out")
    ap.add_argument("--orig", default="/tmp/llada-orig")
    ap.add_argument("--only", default="vision,lm,gen", help="stages to run (for development)")
    ap.add_argument("--images", default=IMAGES)
    a = ap.parse_args()
    V, mdir, tdir = start(a)
    # the tower folder travels with the goldens (small); the model is rebuilt by make_tiny_llada_v.py
    shutil.rmtree(os.path.join(a.out, "siglip-tiny"), ignore_errors=True)
    shutil.copytree(tdir, os.path.join(a.out, "siglip-tiny"))
    os.makedirs(os.path.join(a.out, "model"), exist_ok=True)
    for fn in ("config.json", "generation_config.json", "model.safetensors.index.json", "params.txt"):
        shutil.copy(os.path.join(mdir, fn), os.path.join(a.out, "model", fn))
    model = load_model(V, mdir, tdir, torch.float32)
    model64 = load_model(V, mdir, tdir, torch.float64)
    out = Out(a.out)
    tol = {}
    cases = image_cases(a.images)
    only = a.only.split(",")
    vis = run_vision(V, model, model64, cases, out, None, tol) if "vision" in only else {}
    photo3 = [c[1] for c in cases if c[0] == "photo3"][0]
    if "lm" in only:
        run_lm_forward(V, model, model64, photo3, out, None, tol)
    runs = run_generation(V, model, model64, photo3, out) if "gen" in only else []
    with open(os.path.join(a.out, "vision.json"), "w") as f:
        json.dump({"synthetic_rule": synthetic.__doc__.split("pattern (integers only): ")[1].strip(),
                   "full_intermediates": sorted(FULL), "cases": vis}, f, indent=1)
    with open(os.path.join(a.out, "generation.json"), "w") as f:
        json.dump({"mask_id": IDS["mask"], "banned_at_masks": BANNED, "margin_threshold": MARGIN,
                   "usable_rule": "temperature 0 and f64_identical and min_margin >= 1e-5",
                   "runs": runs}, f, separators=(",", ":"))
    with open(os.path.join(a.out, "tolerances.json"), "w") as f:
        json.dump(tol, f, indent=1)
    manifest = {
        "what": "outputs of the original LLaDA-V code on a tiny random LLaDA-V, CPU float32, SDPA attention",
        "originals": originals.check(a.orig, repos=("ML-GSAI/LLaDA-V",)),
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                     "PIL": Image.__version__, "threads": torch.get_num_threads()},
        "model_files": {os.path.join(d, fn): sha_file(os.path.join(a.model, d, fn))
                        for d in ("model", "siglip-tiny") for fn in sorted(os.listdir(os.path.join(a.model, d)))},
        "arrays": out.arrays,
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"{len(runs)} runs, {sum(r['usable'] for r in runs)} usable; tolerances {json.dumps(tol)[:400]}")


if __name__ == "__main__":
    main()
