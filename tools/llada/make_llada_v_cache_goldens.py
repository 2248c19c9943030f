#!/usr/bin/python3
"""Golden outputs of the ORIGINAL LLaDA-V generate with dLLM-Cache (ML-GSAI/LLaDA-V 2252769,
train/llava/cache, train/llava/hooks/cache_hook_LLaDA_V.py) on the tiny random LLaDA-V (CPU, float32).

Usage (after get_originals.sh and make_tiny_llada_v.py, see tools/llada/README.md):
  /usr/bin/python3 tools/llada/make_llada_v_cache_goldens.py /tmp/llada-v-tiny tests/goldens/llada-v-tiny \
      [--orig /tmp/llada-orig]

The cache is enabled exactly as train/generate_demo.py does it: dLLMCache.new_instance(**asdict(
dLLMCacheConfig(prompt_interval_steps=P, gen_interval_steps=G, transfer_ratio=R))) and
register_cache_LLaDA_V(model, "model.layers"), on the float32 model and on its float64 twin (the
check). Runs, recording and the replayed step rule are make_llada_v_goldens.py's (class Generation).
In addition the hook's refresh_index is wrapped (record, then call the original) to store, per forward
and layer, the answer rows chosen for recomputation and the cosine-similarity margin that decided
them; a run is usable only if that margin is >= 1e-5 too. Writes cache_generation.json.
"""
import argparse
import json
import math
import os
import sys
from dataclasses import asdict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import originals  # noqa: E402
from make_llada_v_goldens import MARGIN, Generation, Out, image_cases, load_model  # noqa: E402

# (prompt interval, gen interval, transfer ratio) -> block layouts (gen_length, block_length, steps).
# The demo's setting, and small ones whose 4-16 steps exercise each of the hook's four cases. The
# transfer rows are the k = int(A r) rows of lowest cosine similarity; rows whose input did not change
# since they were cached tie at about 1 (exactly, for identical rows such as the masks at layer 0),
# so a run decides its transfers by margin only where no more than the step's commits are asked
# for (k <= tokens per step): the other layouts are kept as documentation (usable false).
TEXT_RUNS = {
    (25, 7, 0.25): [(16, 16, 4), (16, 8, 4), (32, 32, 8), (16, 16, 16)],
    (3, 2, 0.25): [(16, 16, 4), (16, 8, 4), (32, 32, 8), (32, 16, 8), (16, 8, 8)],
    (3, 2, 0.125): [(16, 16, 8), (16, 8, 8), (32, 16, 8)],
    (2, 1, 0.5): [(16, 16, 8), (16, 4, 8)],
    (4, 3, 0.0): [(16, 16, 16), (16, 8, 8), (16, 4, 8)],
    (5, 3, 0.0625): [(16, 16, 16), (32, 32, 16)],
}
IMAGE_RUNS = {(25, 7, 0.25): [(16, 16, 4)], (3, 2, 0.25): [(16, 8, 4)], (4, 3, 0.0): [(16, 16, 8)]}


def case_of(t, p, g):
    """The hook's case at forward t (1-based): which of prompt and answer rows are recomputed."""
    rp, rg = (t - 1) % p == 0, (t - 1) % g == 0
    return {(True, True): "both", (False, True): "gen", (True, False): "prompt", (False, False): "neither"}[(rp, rg)]


class TransferRecorder:
    """Wraps the hook module's refresh_index: records the chosen rows and the margin between the
    k-th and (k+1)-th lowest cosine similarity, then returns what the original returns."""

    def __init__(self, hook_module, cache_cls):
        self.mod, self.cache_cls, self.orig = hook_module, cache_cls, hook_module.refresh_index
        self.records = []

    def __enter__(self):
        def wrapped(new_features, cached_features=None, transfer_ratio=0.5, layer_id=0):
            idx = self.orig(new_features, cached_features, transfer_ratio, layer_id)
            if new_features.dtype == torch.float32:  # the golden run, not its float64 twin
                cos = torch.nn.functional.cosine_similarity(new_features, cached_features, dim=-1)[0]
                c = torch.sort(cos.double()).values
                k = idx.shape[1]
                margin = float(c[k] - c[k - 1]) if 0 < k < c.numel() else math.inf
                self.records.append({"forward": self.cache_cls().current_step, "layer": layer_id,
                                     "rows": sorted(idx[0].tolist()), "cos_margin": margin})
            return idx
        self.mod.refresh_index = wrapped
        return self

    def __exit__(self, *exc):
        self.mod.refresh_index = self.orig


def specs():
    """(name, prompt, options, seed, setting): low_confidence over the layouts above, a stop-string
    run and a random-remasking run; fewer photo3 runs (each step runs the LM over ~1500 rows)."""
    S = []
    for pk, table in (("text", TEXT_RUNS), ("image", IMAGE_RUNS)):
        for (p, g, r), layouts in table.items():
            for (gl, bl, st) in layouts:
                S.append((f"cache{p}-{g}-{r}_lc_{pk}_g{gl}_b{bl}_s{st}", pk,
                          dict(steps=st, gen_length=gl, block_length=bl), 0, (p, g, r)))
    S.append(("cache3-2-0.25_stop_lc_text_g16_b8_s4", "text",
              dict(steps=4, gen_length=16, block_length=8, stopping_criteria=["<|eot_id|>"]), 0, (3, 2, 0.25)))
    S.append(("cache3-2-0.25_rand_text_g16_b16_s4", "text",
              dict(steps=4, gen_length=16, block_length=16, remasking="random"), 100, (3, 2, 0.25)))
    return S


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="folder written by make_tiny_llada_v.py (model/ and siglip-tiny/)")
    ap.add_argument("out")
    ap.add_argument("--orig", default="/tmp/llada-orig")
    ap.add_argument("--only", default="", help="run only the runs whose name contains this (development)")
    ap.add_argument("--images", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "data", "images"))
    a = ap.parse_args()
    V = originals.load_v(a.orig)
    torch.set_num_threads(1)
    mdir, tdir = os.path.join(a.model, "model"), os.path.join(a.model, "siglip-tiny")
    model = load_model(V, mdir, tdir, torch.float32)
    model64 = load_model(V, mdir, tdir, torch.float64)
    for m in (model, model64):  # as generate_demo.py registers it
        V.cache_hook.register_cache_LLaDA_V(m, "model.layers")
    photo3 = [c[1] for c in image_cases(a.images) if c[0] == "photo3"][0]
    out = Out(a.out)
    runs = []
    with Generation(V, model, model64, photo3) as gen, TransferRecorder(V.cache_hook, V.cache.dLLMCache) as rec:
        for name, pk, opts, seed, (p, g, r) in specs():
            if a.only not in name:
                continue
            V.cache.dLLMCache.new_instance(**asdict(V.cache.dLLMCacheConfig(
                prompt_interval_steps=p, gen_interval_steps=g, transfer_ratio=r)))
            rec.records = []
            run = gen.run(name, pk, opts, seed, out)
            run["dllm_cache"] = {"prompt_interval": p, "gen_interval": g, "transfer_ratio": r}
            run["cases"] = [case_of(t, p, g) for t in range(1, run["n_forward"] + 1)]
            run["transfers"] = rec.records
            cm = min((x["cos_margin"] for x in rec.records), default=math.inf)
            run["min_cos_margin"] = cm
            run["usable"] = bool(run["usable"] and cm >= MARGIN)
            print(f"    cases {''.join(c[0] for c in run['cases'])} transfers {len(rec.records)} cos margin {cm:.3g} "
                  f"usable {run['usable']}", flush=True)
            runs.append(run)
    with open(os.path.join(a.out, "cache_generation.json"), "w") as f:
        json.dump({"mask_id": 126336, "margin_threshold": MARGIN,
                   "usable_rule": "temperature 0 and f64_identical and min_margin >= 1e-5 and min_cos_margin >= 1e-5",
                   "originals": originals.check(a.orig, repos=("ML-GSAI/LLaDA-V",)),
                   "arrays": out.arrays, "runs": runs}, f, separators=(",", ":"))
    print(f"{len(runs)} runs, {sum(r['usable'] for r in runs)} usable")


if __name__ == "__main__":
    main()
