#!/usr/bin/python3
"""Check the Python reference (tools/dimple_ref) against a golden folder (default: tiny-a).

Usage: /usr/bin/python3 tools/check_shared_goldens.py [GOLDEN_DIR] [--model DIR] [--images DIR]

Checks every array with the README's tolerances (exact ids/positions/window index/cu_seqlens/
grids/timesteps; bit-identical pixel values from the raw pictures and from the real photos;
vision atol 1e-4 rtol 1e-4; hidden atol 5e-4 rtol 1e-4; logits atol 1e-3 rtol 1e-4; cos/sin atol
2e-6) and every `usable` generation run token for token, history included. Works on any folder
written by tools/make_goldens.py too (files that are absent are skipped). Exit status 1 on failure.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dimple_ref import generate as G  # noqa: E402
from dimple_ref import model as M  # noqa: E402
from dimple_ref import preprocess as PP  # noqa: E402

VISION_TOL = (1e-4, 1e-4)
HIDDEN_TOL = (5e-4, 1e-4)
LOGITS_TOL = (1e-3, 1e-4)
ROPE_TOL = (2e-6, 0.0)


class Checker:
    def __init__(self, folder):
        self.folder = folder
        self.failures = []
        self.n_checked = 0
        self.worst = {}  # group -> (max abs err, name)
        self.count = {}  # group -> number of arrays

    def has(self, name):
        return os.path.exists(os.path.join(self.folder, name + ".npy"))

    def load(self, name):
        return np.load(os.path.join(self.folder, name + ".npy"))

    def exact(self, name, mine, group="exact"):
        if not self.has(name):
            return
        g = self.load(name)
        mine = np.asarray(mine)
        self.n_checked += 1
        ok = mine.shape == g.shape and mine.dtype == g.dtype and np.array_equal(mine, g)
        if mine.dtype == np.float32 and ok:  # bit-identical, not just equal
            ok = np.array_equal(mine.view(np.uint32), g.view(np.uint32))
        if not ok:
            detail = f"shape {mine.shape}/{g.shape} dtype {mine.dtype}/{g.dtype}"
            if mine.shape == g.shape:
                detail += f", {int((mine != g).sum())} elements differ"
            self.failures.append(f"{name}: not identical ({detail})")
        self._note(group, 0.0 if ok else float("inf"), name)

    def close(self, name, mine, tol, group):
        if not self.has(name):
            return
        g = self.load(name)
        mine = np.asarray(mine)
        self.n_checked += 1
        if mine.shape != g.shape:
            self.failures.append(f"{name}: shape {mine.shape} != golden {g.shape}")
            return
        atol, rtol = tol
        err = np.abs(mine.astype(np.float64) - g.astype(np.float64))
        bad = err > atol + rtol * np.abs(g.astype(np.float64))
        if bad.any():
            self.failures.append(f"{name}: {int(bad.sum())} elements out of tolerance (max abs err {err.max():.3g})")
        self._note(group, float(err.max()) if err.size else 0.0, name)

    def _note(self, group, err, name):
        self.count[group] = self.count.get(group, 0) + 1
        cur = self.worst.get(group)
        if cur is None or err > cur[0]:
            self.worst[group] = (err, name)


def check_forward(ck, m):
    """Forward cases text/image/batch/two, their vision intermediates, pixel values from raw."""
    for case in ("text", "image", "batch", "two"):
        if not ck.has(case + "_input_ids"):
            continue
        ids = ck.load(case + "_input_ids")
        am = ck.load(case + "_attention_mask")
        pv = grid = None
        raws = [n for n in (case + "_raw_uint8_hwc", case + "_raw0_uint8_hwc", case + "_raw1_uint8_hwc",
                            case + "_raw2_uint8_hwc", case + "_raw3_uint8_hwc") if ck.has(n)]
        if raws:
            pv, grid = PP.preprocess_many([ck.load(n) for n in raws])
            ck.exact(case + "_pixel_values", pv, "pixel_values")
            ck.exact(case + "_grid_thw", grid)
        if ck.has(case + "_pixel_values"):  # run the model on the golden pixels
            pv, grid = ck.load(case + "_pixel_values"), ck.load(case + "_grid_thw")
        r = M.forward_case(m, torch.from_numpy(ids), torch.from_numpy(am),
                           None if pv is None else torch.from_numpy(pv), grid)
        for k, v in r.items():
            v = v.numpy()
            name = f"{case}_{k}"
            if k in ("position_ids", "rope_deltas") or k in ("vis_window_index", "vis_cu_window_seqlens_raw",
                                                             "vis_cu_window_seqlens", "vis_cu_seqlens"):
                ck.exact(name, v.astype(np.int64))
            elif k in ("rope_cos", "rope_sin"):
                ck.close(name, v, ROPE_TOL, "rope cos/sin")
            elif k == "hidden_states":
                ck.close(name, v, HIDDEN_TOL, "LLM hidden states")
            elif k == "logits":
                ck.close(name, v, LOGITS_TOL, "logits")
            elif k == "vis_rot_pos_emb":
                ck.close(name, v, VISION_TOL, "vision rot_pos_emb")
            else:
                ck.close(name, v, VISION_TOL, "vision (patch_embed..projected)")


def check_photos(ck, m, images_dir):
    if not os.path.exists(os.path.join(ck.folder, "manifest.json")):
        return
    with open(os.path.join(ck.folder, "manifest.json")) as f:
        photos = json.load(f).get("photos", {})
    for key, info in photos.items():
        path = os.path.join(images_dir, info["file"])
        if not os.path.exists(path):
            ck.failures.append(f"{key}: photo {path} not found")
            continue
        pv, grid, resized = PP.preprocess(path)
        ck.exact(key + "_resized_uint8_hwc", resized, "pixel_values")
        ck.exact(key + "_pixel_values", pv, "pixel_values")
        ck.exact(key + "_pixel_values_every8", pv[::8], "pixel_values")  # the repository's copy
        ck.exact(key + "_grid_thw", grid[None])
        vis = M.vision_forward(m, torch.from_numpy(pv), grid[None])
        ck.close(key + "_vis_out", vis["vis_out"].numpy(), VISION_TOL, "vision (patch_embed..projected)")
        ck.close(key + "_projected", vis["projected"].numpy(), VISION_TOL, "vision (patch_embed..projected)")


def check_timesteps(ck):
    for fn in sorted(os.listdir(ck.folder)):
        if fn.startswith("timesteps_steps") and fn.endswith(".npy"):
            steps = int(fn[len("timesteps_steps"):-4])
            ck.exact(fn[:-4], G.timesteps_cpu(steps, 1e-3).numpy())


def run_generation(m, folder, gj, run, prompts, generator=None):
    ids, pv, grid, emb = prompts[run["prompt"]]
    prior = {int(k): int(v) for k, v in run["prior"].items()} if run.get("prior") else None
    if generator is None:
        generator = torch.Generator().manual_seed(int(gj.get("seed_before_each_run", 0)))
    return G.diffusion_generate(m, torch.from_numpy(ids), image_grid_thw=grid, image_embeds=emb,
                                max_new_tokens=gj["max_new_tokens"], prior=prior,
                                generator=generator, **run["spec"])


def load_prompts(m, folder):
    prompts = {}
    for name in ("text", "image"):
        p = os.path.join(folder, name + "_input_ids.npy")
        if not os.path.exists(p):
            continue
        ids = np.load(p)
        pv = grid = emb = None
        if os.path.exists(os.path.join(folder, name + "_pixel_values.npy")):
            pv = np.load(os.path.join(folder, name + "_pixel_values.npy"))
            grid = np.load(os.path.join(folder, name + "_grid_thw.npy"))
            emb = M.vision_forward(m, torch.from_numpy(pv), grid)["projected"]
        prompts[name] = (ids, pv, grid, emb)
    return prompts


def check_generation(ck, m):
    path = os.path.join(ck.folder, "generation.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        gj = json.load(f)
    prompts = load_prompts(m, ck.folder)
    st = {"runs": len(gj["runs"]), "usable": 0, "usable_ok": 0, "det_unusable": 0, "det_unusable_ok": 0,
          "nondet": 0, "nondet_ok": 0, "flag_mismatch": 0, "debug_max_p_err": 0.0}
    for ri, run in enumerate(gj["runs"]):
        out = run_generation(m, ck.folder, gj, run, prompts)
        same = out["sequence"] == run["sequence"] and out["history_answer"] == run["history_answer"] \
            and out["n_steps_run"] == run["n_steps_run"]
        if out["consumed_rng"] == run["deterministic"]:
            st["flag_mismatch"] += 1
            ck.failures.append(f"run {ri}: consumed_rng={out['consumed_rng']} but golden deterministic="
                               f"{run['deterministic']}")
        if run["usable"]:
            st["usable"] += 1
            if same:
                st["usable_ok"] += 1
            else:
                ck.failures.append(f"run {ri} ({run['prompt']}, {run.get('prior_name')}, {run['spec']}): "
                                   "usable run differs")
            # step debug: ids exact, probabilities close
            for a, b in zip(out["step_debug"], run["step_debug"]):
                if (a["n_in"], a["mask_pos"], a["argmax"]) != (b["n_in"], b["mask_pos"], b["argmax"]):
                    ck.failures.append(f"run {ri} step {b['step']}: step_debug ids differ")
                    break
                e = max([0.0] + [abs(u - v) for key in ("p_top1", "p_top2") for u, v in zip(a[key], b[key])])
                st["debug_max_p_err"] = max(st["debug_max_p_err"], e)
        elif run["deterministic"]:
            st["det_unusable"] += 1
            st["det_unusable_ok"] += int(same)
            if not same:
                st.setdefault("det_unusable_differ", []).append(ri)
        else:
            st["nondet"] += 1
            st["nondet_ok"] += int(same)
    if st["debug_max_p_err"] > 5e-5:
        ck.failures.append(f"step_debug probabilities differ by {st['debug_max_p_err']:.3g} (> 5e-5)")
    return st


def main():
    repo = os.path.dirname(HERE)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("golden", nargs="?", default=os.path.join(repo, "tests", "goldens", "tiny-a"))
    ap.add_argument("--model", default=None, help="model folder (default GOLDEN/model)")
    ap.add_argument("--images", default=None, help="folder of the real photos (default GOLDEN/../../data/images)")
    ap.add_argument("--skip-generation", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    folder = os.path.abspath(args.golden)
    model_dir = args.model or os.path.join(folder, "model")
    images = args.images or os.path.join(folder, "..", "..", "data", "images")
    t0 = time.time()
    m = M.Model(model_dir)
    ck = Checker(folder)
    check_forward(ck, m)
    check_photos(ck, m, images)
    check_timesteps(ck)
    t1 = time.time()
    st = None if args.skip_generation else check_generation(ck, m)
    t2 = time.time()

    print(f"golden folder: {folder}")
    print(f"model: {model_dir} (stored {','.join(m.stored_dtypes)}, computed in float32)")
    print(f"arrays checked: {ck.n_checked} in {t1 - t0:.1f}s")
    for group, (err, name) in sorted(ck.worst.items()):
        print(f"  {group:32s} {ck.count[group]:3d} arrays, max abs err {err:.3g}  ({name})")
    if st is not None:
        print(f"generation: {st['runs']} runs in {t2 - t1:.1f}s")
        print(f"  usable runs identical (tokens + history): {st['usable_ok']}/{st['usable']}")
        print(f"  deterministic but unusable runs that also match: {st['det_unusable_ok']}/{st['det_unusable']}"
              + (f" (differ: runs {st['det_unusable_differ']})" if st.get("det_unusable_differ") else ""))
        print(f"  random runs reproduced with torch.Generator(seed): {st['nondet_ok']}/{st['nondet']}")
        print(f"  deterministic flag agrees with rng use: {st['runs'] - st['flag_mismatch']}/{st['runs']}")
        print(f"  step_debug p_top1/p_top2 max abs err (usable runs): {st['debug_max_p_err']:.3g}")
    if ck.failures:
        print(f"FAILED: {len(ck.failures)} problem(s)")
        for f in ck.failures[:50]:
            print("  " + f)
        return 1
    print("OK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
