#!/usr/bin/python3
"""Run the Python reference on a (tiny) model and write a golden folder like goldens/tiny-a.

Usage: /usr/bin/python3 tools/make_goldens.py MODEL_DIR OUT_DIR [--runs full|small|none]
           [--text-len 20] [--image-grid 8x12] [--two-grids 8x12,10x14] [--batch-len 12 --batch-pad 4]
           [--image-text 5,6] [--max-new-tokens 16] [--threshold 0.2] [--photos DIR] [--no-f64]
           [--seed 20240601]

Same file names, shapes and dtypes as goldens/tiny-a (see its README for the meaning of every
array and of generation.json): forward cases text_*, image_*, batch_*, two_* (random prompt ids in
0..vocab-49), the vision intermediates, timesteps_steps{16,8}.npy, generation.json, manifest.json,
tolerances.json (float32 vs a float64 re-run of the same reference) and a copy of the model.
A Dream (text-only) model gets only the text and batch cases and text generation prompts.

Each generation run records `deterministic` (no random number drawn), the decision gaps, and
`usable` = deterministic and min_margin >= 1e-5 and (unless --no-f64) the float64 re-run
reproduced every step; generation.json's `usable_rule` says which rule was applied.
Grids are patch grids (rows x cols of 14-pixel patches, both even); the raw pictures are random
uint8 arrays of 14*rows x 14*cols pixels (multiples of 28, so preprocessing keeps their size).
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dimple_ref import generate as G  # noqa: E402
from dimple_ref import model as M  # noqa: E402
from dimple_ref import preprocess as PP  # noqa: E402

GAP_EPS = 1e-5


def parse_grid(s):
    h, w = (int(v) for v in s.lower().split("x"))
    if h % 2 or w % 2:
        raise SystemExit(f"grid {s}: rows and cols must be even")
    return h, w


# ----------------------------------------------------------------------------------------------
# run mixes

def plain_specs():
    """The 67 plain specs of tiny-a, in its order."""
    algs = ["origin", "maskgit_plus", "topk_margin", "entropy", "autoregressive"]
    specs = []
    for alg in algs:
        for thr in (None, 0.2):
            for cache in (False, True):
                for steps in (16, 8):
                    specs.append({"decoding_pipeline": "dim", "alg": alg, "alg_p_threshold": thr,
                                  "use_cache": cache, "steps": steps, "temperature": 0.0})
    for alg in algs:
        for cache in (False, True):
            for steps in (16, 8):
                specs.append({"decoding_pipeline": "dream", "alg": alg, "use_cache": cache, "steps": steps,
                              "temperature": 0.0})
    specs += extra_specs()
    return specs


def extra_specs():
    out = []
    for cache in (False, True):
        out.append({"decoding_pipeline": "dream", "alg": "maskgit_plus", "use_cache": cache, "steps": 16,
                    "temperature": 0.0, "top_k": None})
        out.append({"decoding_pipeline": "dim", "alg": "maskgit_plus", "use_cache": cache, "steps": 16,
                    "temperature": 0.0, "top_p": 0.9, "use_original_confidence": False, "alg_p_threshold": 0.5})
    out.append({"decoding_pipeline": "dim", "alg": "maskgit_plus", "use_cache": False, "steps": 16,
                "temperature": 0.7})
    out.append({"decoding_pipeline": "dim", "alg": "maskgit_plus", "use_cache": False, "steps": 16,
                "temperature": 0.0, "alg_temp": 0.5})
    out.append({"decoding_pipeline": "dim", "alg": "origin-ratio", "use_cache": False, "steps": 16,
                "temperature": 0.0})
    return out


def prior_specs():
    """The 26 structure-prior specs of tiny-a."""
    algs = ["maskgit_plus", "topk_margin", "entropy", "autoregressive"]
    specs = []
    for alg in algs:
        for thr in (None, 0.2):
            for cache in (False, True):
                specs.append({"decoding_pipeline": "dim", "alg": alg, "alg_p_threshold": thr, "use_cache": cache,
                              "steps": 16, "temperature": 0.0})
    for alg in algs:
        for cache in (False, True):
            specs.append({"decoding_pipeline": "dream", "alg": alg, "use_cache": cache, "steps": 16,
                          "temperature": 0.0})
    for cache in (False, True):
        specs.append({"decoding_pipeline": "dim", "alg": "maskgit_plus", "alg_p_threshold": None,
                      "use_cache": cache, "steps": 8, "temperature": 0.0})
    return specs


def make_priors(m, n):
    eos, pad = m.eos_id, m.pad_id
    top = m.vocab - 48
    frame = {0: 123 % top, n // 3: 456 % top, 2 * n // 3: 789 % top, n - 1: eos}
    length = {n - 6: eos}
    length.update({k: pad for k in range(n - 5, n)})
    return {"frame": frame, "length": length}


def run_list(mix, prompts):
    """[(prompt, spec, prior_name)]."""
    runs = []
    if mix == "none":
        return runs
    if mix == "full":
        for p in prompts:
            runs += [(p, s, None) for s in plain_specs()]
        for p in prompts:
            for prior in ("frame", "length"):
                runs += [(p, s, prior) for s in prior_specs()]
        return runs
    # small: every pipeline x alg x cache x threshold combination once, steps and prompts alternating,
    # the special options once each, and the priors on both pipelines.
    combos = []
    for alg in ["origin", "maskgit_plus", "topk_margin", "entropy", "autoregressive"]:
        for thr in (None, 0.2):
            for cache in (False, True):
                combos.append({"decoding_pipeline": "dim", "alg": alg, "alg_p_threshold": thr,
                               "use_cache": cache})
    for alg in ["origin", "maskgit_plus", "topk_margin", "entropy", "autoregressive"]:
        for cache in (False, True):
            combos.append({"decoding_pipeline": "dream", "alg": alg, "use_cache": cache})
    for i, c in enumerate(combos):
        spec = dict(c, steps=16 if (i // 2) % 2 == 0 else 8, temperature=0.0)
        runs.append((prompts[i % len(prompts)], spec, None))
    for i, s in enumerate(extra_specs()):
        runs.append((prompts[i % len(prompts)], s, None))
    pri = [({"decoding_pipeline": "dim", "alg": "maskgit_plus", "alg_p_threshold": 0.2, "use_cache": True,
             "steps": 16, "temperature": 0.0}, "frame"),
           ({"decoding_pipeline": "dim", "alg": "autoregressive", "alg_p_threshold": None, "use_cache": False,
             "steps": 16, "temperature": 0.0}, "length"),
           ({"decoding_pipeline": "dream", "alg": "topk_margin", "use_cache": False, "steps": 16,
             "temperature": 0.0}, "length"),
           ({"decoding_pipeline": "dream", "alg": "entropy", "use_cache": True, "steps": 16,
             "temperature": 0.0}, "frame")]
    for i, (s, prior) in enumerate(pri):
        runs.append((prompts[(i + 1) % len(prompts)], s, prior))
    return runs


# ----------------------------------------------------------------------------------------------

class Writer:
    def __init__(self, out):
        self.out = out
        self.files = {}

    def save(self, name, arr, note=None):
        arr = np.ascontiguousarray(arr)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        if arr.dtype not in (np.float32, np.int64, np.uint8):
            arr = arr.astype(np.int64)
        np.save(os.path.join(self.out, name + ".npy"), arr)
        info = {"shape": list(arr.shape), "dtype": str(arr.dtype)}
        if note:
            info["note"] = note
        self.files[name + ".npy"] = info


NOTES = {
    "position_ids": "(3, B, L) M-RoPE ids t/h/w",
    "rope_deltas": "(B, 1)",
    "rope_cos": "(3, B, L, head_dim) per t/h/w id, before mrope_section selection",
    "hidden_states": "(n_layers+1, B, L, H): inputs_embeds, outputs of layers 0..n-2, final-RMSNorm output",
    "logits": "(B, L, V) unshifted lm_head output",
    "pixel_values": "(N, 3*2*14*14) processor patch rows",
    "vis_rot_pos_emb": "(N, head_dim/2) angles, processor patch order",
    "vis_window_index": "merge-unit permutation (window order -> processor order)",
    "vis_cu_window_seqlens_raw": "as computed (contains repeats for empty padding windows)",
    "vis_cu_window_seqlens": "after unique_consecutive, in patches",
    "vis_cu_seqlens": "per-image boundaries used by full-attention blocks, in patches",
    "vis_patch_embed": "(N, vision hidden), processor order",
    "vis_merger_out_windowed": "(N/4, out_hidden), window-permuted order",
    "vis_out": "(N/4, out_hidden), processor order (after reverse permutation)",
    "projected": "(N/4, hidden) = img_projector(vis_out)",
}


def note_for(key):
    if key.startswith("vis_block"):
        return "window-permuted order"
    return NOTES.get(key)


def forward_cases(m, a, rng):
    """Build the forward-case inputs. Returns {case: dict(ids, mask, raws)}."""
    top = m.vocab - 48

    def ids(n):
        return rng.integers(0, top, size=n).tolist()

    cases = {"text": {"ids": [ids(a.text_len)], "mask": [[1] * a.text_len], "raws": []}}
    B_len, B_pad = a.batch_len, a.batch_pad
    cases["batch"] = {"ids": [ids(B_len), [m.pad_id] * B_pad + ids(B_len - B_pad)],
                      "mask": [[1] * B_len, [0] * B_pad + [1] * (B_len - B_pad)], "raws": []}
    if m.vcfg is None:
        return cases

    def raw(grid):
        h, w = grid
        return rng.integers(0, 256, size=(14 * h, 14 * w, 3), dtype=np.uint8)

    def n_pads(grid):
        return grid[0] * grid[1] // 4

    pre, post = (int(v) for v in a.image_text.split(","))
    g1 = parse_grid(a.image_grid)
    raw1 = raw(g1)
    row = ids(pre) + [m.vision_start_id] + [m.image_id] * n_pads(g1) + [m.cfg["vision_end_token_id"]] + ids(post)
    cases["image"] = {"ids": [row], "mask": [[1] * len(row)], "raws": [raw1]}
    grids = [parse_grid(s) for s in a.two_grids.split(",")]
    raws = [raw1 if g == g1 and i == 0 else raw(g) for i, g in enumerate(grids)]
    row = ids(3)
    for i, g in enumerate(grids):
        row += [m.vision_start_id] + [m.image_id] * n_pads(g) + [m.cfg["vision_end_token_id"]]
        row += ids(4 if i == 0 else 5)
    cases["two"] = {"ids": [row], "mask": [[1] * len(row)], "raws": raws}
    return cases


def write_forward(m, m64, W, cases, tol):
    for case, c in cases.items():
        ids = torch.tensor(c["ids"], dtype=torch.long)
        am = torch.tensor(c["mask"], dtype=torch.long)
        W.save(case + "_input_ids", ids.numpy())
        W.save(case + "_attention_mask", am.numpy())
        pv = grid = None
        if c["raws"]:
            if len(c["raws"]) == 1:
                W.save(case + "_raw_uint8_hwc", c["raws"][0], "(H, W, 3) RGB input image")
            else:
                for i, r in enumerate(c["raws"]):
                    W.save(f"{case}_raw{i}_uint8_hwc", r, "(H, W, 3) RGB input image")
            pv, grid = PP.preprocess_many(c["raws"])
            W.save(case + "_pixel_values", pv, NOTES["pixel_values"])
            W.save(case + "_grid_thw", grid)
        res = M.forward_case(m, ids, am, None if pv is None else torch.from_numpy(pv), grid)
        res64 = M.forward_case(m64, ids, am, None if pv is None else torch.from_numpy(pv), grid)
        for k, v in res.items():
            W.save(f"{case}_{k}", v.numpy(), note_for(k))
            if v.is_floating_point():
                tol_entry(tol, f"{case}_{k}", v, res64[k])


def tol_entry(tol, name, v32, v64):
    err = (v32.double() - v64.double()).abs()
    ref = float(v64.double().abs().max()) if v64.numel() else 0.0
    tol[name] = {"max_abs_err": float(err.max()) if err.numel() else 0.0, "max_abs_ref": ref,
                 "rel_to_max": (float(err.max()) / ref) if ref else 0.0}


def write_photos(m, m64, W, folder, tol):
    photos = {}
    for key, fn in (("photo3", "3_resize.jpg"), ("photo1", "1_resize.jpg")):
        path = os.path.join(folder, fn)
        if not os.path.exists(path):
            continue
        from PIL import Image
        with Image.open(path) as im:
            size, mode = list(im.size), im.mode
        pv, grid, resized = PP.preprocess(path)
        W.save(key + "_resized_uint8_hwc", resized,
               f"{fn} after the processor's resize (PIL bicubic), before rescale/normalize")
        W.save(key + "_pixel_values", pv, "(N, 1176) processor patch rows")
        W.save(key + "_grid_thw", grid[None])
        vis = M.vision_forward(m, torch.from_numpy(pv), grid[None])
        vis64 = M.vision_forward(m64, torch.from_numpy(pv), grid[None])
        for k, note in (("vis_out", "(N/4, out_hidden) vision tower output"),
                        ("projected", "(N/4, hidden) img_projector output")):
            W.save(f"{key}_{k}", vis[k].numpy(), note)
            tol_entry(tol, f"{key}_{k}", vis[k], vis64[k])
        photos[key] = {"file": fn, "size_wh": size, "mode": mode, "resized_hw": list(resized.shape[:2]),
                       "grid_thw": grid.tolist()}
    return photos


def generation(m, m64, out, cases, a, use_f64):
    prompts = {}
    for name in ("text", "image"):
        if name not in cases:
            continue
        ids = np.load(os.path.join(out, name + "_input_ids.npy"))
        pv = grid = None
        emb = emb64 = None
        if name == "image":
            pv = np.load(os.path.join(out, "image_pixel_values.npy"))
            grid = np.load(os.path.join(out, "image_grid_thw.npy"))
            emb = M.vision_forward(m, torch.from_numpy(pv), grid)["projected"]
            if use_f64:
                emb64 = M.vision_forward(m64, torch.from_numpy(pv), grid)["projected"]
        prompts[name] = (ids, grid, emb, emb64)
    priors = make_priors(m, a.max_new_tokens)
    runs = []
    steps_used = set()
    for prompt, spec, prior_name in run_list(a.runs, list(prompts)):
        ids, grid, emb, emb64 = prompts[prompt]
        prior = priors[prior_name] if prior_name else None
        steps_used.add(spec["steps"])

        def go(model, embeds, timesteps=None):
            gen = torch.Generator().manual_seed(a.seed)
            return G.diffusion_generate(model, torch.from_numpy(ids), image_grid_thw=grid, image_embeds=embeds,
                                        max_new_tokens=a.max_new_tokens, prior=prior, generator=gen,
                                        timesteps=timesteps, **spec)

        o = go(m, emb)
        det = not o["consumed_rng"]
        gaps = o["gaps"]
        r = {"spec": spec, "prompt": prompt, "prompt_len": int(ids.shape[1]), "prior_name": prior_name,
             "prior": {str(k): v for k, v in prior.items()} if prior else None,
             "sequence": o["sequence"], "history_answer": o["history_answer"], "n_steps_run": o["n_steps_run"],
             "consumed_torch_rng": o["consumed_rng"], "deterministic": det,
             "min_topk_tie_gap": gaps.get("topk"), "min_threshold_gap": gaps.get("threshold"),
             "min_argmax_gap": gaps.get("argmax"), "min_top_p_gap": gaps.get("top_p")}
        if det:
            r["min_margin"] = G.margin_of(gaps)
        if use_f64:
            o64 = go(m64, emb64)
            r["f64_identical"] = det and o64["history_answer"] == o["history_answer"] \
                and o64["sequence"] == o["sequence"]
        ocuda = go(m, emb, G.timesteps_cuda_style(spec["steps"], spec.get("eps", 1e-3)))
        r["schedule_sensitive"] = ocuda["history_answer"] != o["history_answer"]
        r["usable"] = bool(det and r["min_margin"] >= GAP_EPS and (r.get("f64_identical", True)))
        r["step_debug"] = o["step_debug"]
        runs.append(r)
    gj = {"seed_before_each_run": a.seed, "max_new_tokens": a.max_new_tokens, "threshold": a.threshold,
          "usable_rule": ("deterministic and min_margin >= 1e-5 and f64_identical (float64 re-run of the same "
                          "reference reproduced sequence and history)") if use_f64 else
                         "deterministic and min_margin >= 1e-5 (margin only, no float64 re-run)",
          "priors": {k: {str(o): t for o, t in v.items()} for k, v in priors.items()}, "runs": runs}
    return gj, steps_used


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--runs", default="full", choices=["full", "small", "none"])
    ap.add_argument("--text-len", type=int, default=20)
    ap.add_argument("--image-grid", default="8x12", help="patch grid rows x cols of the image case")
    ap.add_argument("--image-text", default="5,6", help="text ids before/after the image in the image case")
    ap.add_argument("--two-grids", default="8x12,10x14", help="patch grids of the two-image case")
    ap.add_argument("--batch-len", type=int, default=12)
    ap.add_argument("--batch-pad", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--threshold", type=float, default=0.2,
                    help="recorded in generation.json (the specs use 0.2 and 0.5 as in tiny-a)")
    ap.add_argument("--photos", default=None, help="folder with 3_resize.jpg / 1_resize.jpg to add photo cases")
    ap.add_argument("--no-f64", action="store_true", help="usable from margins only (no float64 re-run)")
    ap.add_argument("--seed", type=int, default=20240601)
    a = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    m = M.Model(a.model)
    m64 = M.Model(a.model, dtype=torch.float64)
    os.makedirs(a.out, exist_ok=True)
    mdir = os.path.join(a.out, "model")
    if os.path.abspath(mdir) != os.path.abspath(a.model):
        shutil.rmtree(mdir, ignore_errors=True)
        shutil.copytree(a.model, mdir)
    W = Writer(a.out)
    rng = np.random.default_rng(a.seed)
    cases = forward_cases(m, a, rng)
    tol = {}
    write_forward(m, m64, W, cases, tol)
    photos = write_photos(m, m64, W, a.photos, tol) if a.photos else {}
    t1 = time.time()
    gj, steps_used = generation(m, m64, a.out, cases, a, not a.no_f64)
    for s in sorted(steps_used | {8, 16}):
        W.save(f"timesteps_steps{s}", G.timesteps_cpu(s, 1e-3).numpy(),
               "float32 torch.linspace(1, 1e-3, steps+1) (CPU)")
    with open(os.path.join(a.out, "generation.json"), "w") as f:
        json.dump(gj, f, indent=1)
    t2 = time.time()
    runs = gj["runs"]
    n_det = sum(r["deterministic"] for r in runs)
    n_use = sum(r["usable"] for r in runs)
    worst = sorted(tol.items(), key=lambda kv: -kv[1]["max_abs_err"])[:5]
    with open(os.path.join(a.out, "tolerances.json"), "w") as f:
        json.dump({"gap_eps": GAP_EPS, "reference": "float64 re-run of tools/dimple_ref on the same stored weights",
                   "arrays": tol,
                   "worst_rel_to_max": max([v["rel_to_max"] for v in tol.values()] or [0.0]),
                   "worst_max_abs_err": {k: v["max_abs_err"] for k, v in worst},
                   "generation": {"runs": len(runs), "deterministic": n_det,
                                  "f64_identical": sum(bool(r.get("f64_identical")) for r in runs),
                                  "usable": n_use,
                                  "schedule_sensitive": sum(r["schedule_sensitive"] for r in runs)}},
                  f, indent=1)
    import PIL
    manifest = {
        "profile": os.path.basename(os.path.abspath(a.out)),
        "generator": "tools/make_goldens.py " + " ".join(sys.argv[1:]),
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__, "numpy": np.__version__,
                     "PIL": PIL.__version__, "device": "cpu, 1 thread",
                     "reference": "dimple.cpp tools/dimple_ref (written from spec/dimple.md and tiny-a README)"},
        "stored_weight_dtypes": m.stored_dtypes,
        "compute_dtype": "float32 (weights upcast exactly from the stored values)",
        "seed": a.seed,
        "special_ids": {k: m.cfg[k] for k in ("pad_token_id", "bos_token_id", "eos_token_id",
                                              "vision_start_token_id", "vision_end_token_id", "vision_token_id",
                                              "image_token_id", "video_token_id", "mask_token_id") if k in m.cfg},
        "processor": {"min_pixels": 3136, "max_pixels": 200704},
        "inputs": {f"{c}_ids": (v["ids"][0] if len(v["ids"]) == 1 else v["ids"]) for c, v in cases.items()},
        "photos": photos,
        "files": dict(W.files, **{"generation.json": {"note": "decoding runs"},
                                  "tolerances.json": {"note": "float32 vs float64 re-run"}}),
        "generation_runs": len(runs),
        "deterministic_runs": n_det,
        "usable_runs": n_use,
        "seconds": {"total": round(t2 - t0, 1), "generation": round(t2 - t1, 1)},
    }
    if "batch" in cases:
        manifest["inputs"]["batch_attention_mask"] = cases["batch"]["mask"]
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(a.out, "README.md"), "w") as f:
        f.write(f"# Golden set `{manifest['profile']}`\n\n"
                f"Written by `{manifest['generator']}` from the project's own Python reference "
                "(`tools/dimple_ref`), which reproduces `../shared/goldens/tiny-a` (run "
                "`tools/check_shared_goldens.py`). File names, shapes, dtypes, the generation.json run format "
                "and the tolerances to use are those of tiny-a's README. "
                f"`usable` rule: {gj['usable_rule']}.\n\n"
                f"Model: `model/` ({m.model_type}, stored {','.join(m.stored_dtypes)}). Runs: {len(runs)}, "
                f"deterministic {n_det}, usable {n_use}.\n")
    print(f"wrote {a.out}: {len(W.files)} arrays, {len(runs)} runs ({n_det} deterministic, {n_use} usable) "
          f"in {t2 - t0:.1f}s; worst f32-vs-f64 error {worst[0][0] if worst else '-'} "
          f"{worst[0][1]['max_abs_err'] if worst else 0:.3g}")


if __name__ == "__main__":
    main()
