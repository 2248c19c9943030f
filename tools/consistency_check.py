#!/usr/bin/python3
"""Self-consistency checks of the Python reference on any model (and optionally its golden folder).

Usage: /usr/bin/python3 tools/consistency_check.py MODEL_DIR [GOLDEN_DIR]

Checks (exit status 1 on any failure):
  1. safetensors round trip: the weights re-written as F32 in 3 shards load back bit-identical.
  2. prefill cache: feeding positions P..end against the cached K/V of 0..P-1 gives the same logits
     as the full forward of the same sequence (text and, for Dimple, image prompts).
  3. padding: a left-padded batch row gives the same logits at its real positions as the row alone.
  4. vision (Dimple): an image encoded alone equals its rows when encoded next to a second image.
  5. with GOLDEN_DIR (written by make_goldens.py): for every pair of runs that differ only in
     use_cache, step 1 (debug and committed tokens) is identical; every usable run is reproduced
     by the float64 model; all usable runs reproduce from the float32 model.
"""
import json
import os
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dimple_ref import model as M  # noqa: E402
from dimple_ref import safetensors_io as S  # noqa: E402

FAIL = []


def check(cond, msg):
    print(("ok    " if cond else "FAIL  ") + msg)
    if not cond:
        FAIL.append(msg)


def max_err(a, b):
    return float((a.double() - b.double()).abs().max())


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    torch.set_num_threads(1)
    model_dir = sys.argv[1]
    golden = sys.argv[2] if len(sys.argv) > 2 else None
    m = M.Model(model_dir)
    rng = np.random.default_rng(5)
    top = m.vocab - 48

    # 1. safetensors round trip
    with tempfile.TemporaryDirectory() as tmp:
        S.write_folder(tmp, {k: v.numpy() for k, v in m.w.items()}, "F32", shards=3)
        back = {k: torch.from_numpy(S.to_float(dt, a)) for k, (dt, a) in S.read_folder(tmp).items()}
    same = set(back) == set(m.w) and all(torch.equal(back[k], m.w[k]) for k in m.w)
    check(same, f"safetensors F32 3-shard round trip of {len(m.w)} tensors is bit-identical")

    # 2. prefill cache equals the full forward on the same sequence
    prompts = [("text", rng.integers(0, top, 20).tolist(), None, None)]
    if m.vcfg is not None:
        grid = np.array([[1, 8, 12]])
        pv = torch.randn(96, 1176, generator=torch.Generator().manual_seed(3))
        emb = M.vision_forward(m, pv, grid)["projected"]
        ids = rng.integers(0, top, 5).tolist() + [m.vision_start_id] + [m.image_id] * 24 + \
            [m.cfg["vision_end_token_id"]] + rng.integers(0, top, 6).tolist()
        prompts.append(("image", ids, grid, emb))
    for name, ids, grid, emb in prompts:
        x = torch.tensor([ids + [m.mask_id] * 16])
        P = len(ids) - 1
        pos, _ = M.get_rope_index(m, x, grid)
        full = M.lm_forward(m, x, pos, None, emb, keep_kv=P)
        part = M.lm_forward(m, x[:, P:], pos[:, :, P:], None, None, kv_prefix=full["kv"])
        e = max_err(full["logits"][0, P:], part["logits"][0])
        check(e < 1e-4, f"{name}: cached forward of positions P..end matches the full forward (max err {e:.2e})")

    # 3. left padding does not change the real positions
    ids = rng.integers(0, top, 8).tolist()
    x = torch.tensor([[m.pad_id] * 4 + ids])
    am = torch.tensor([[0] * 4 + [1] * 8])
    pos, _ = M.get_rope_index(m, x, None, am)
    padded = M.lm_forward(m, x, pos, am)["logits"][0, 4:]
    x1 = torch.tensor([ids])
    alone = M.lm_forward(m, x1, M.get_rope_index(m, x1)[0])["logits"][0]
    e = max_err(padded, alone)
    check(e < 1e-4, f"left-padded row equals the unpadded row at real positions (max err {e:.2e})")

    # 4. images never attend to each other
    if m.vcfg is not None:
        g = torch.Generator().manual_seed(4)
        pa, pb = torch.randn(96, 1176, generator=g), torch.randn(140, 1176, generator=g)
        a = M.vision_forward(m, pa, np.array([[1, 8, 12]]))["projected"]
        b = M.vision_forward(m, pb, np.array([[1, 10, 14]]))["projected"]
        ab = M.vision_forward(m, torch.cat([pa, pb]), np.array([[1, 8, 12], [1, 10, 14]]))["projected"]
        e = max(max_err(ab[:24], a), max_err(ab[24:], b))
        check(e < 1e-5, f"two images encoded together equal each encoded alone (max err {e:.2e})")

    # 5. golden runs
    if golden:
        with open(os.path.join(golden, "generation.json")) as f:
            gj = json.load(f)
        import check_shared_goldens as C
        m64 = M.Model(model_dir, dtype=torch.float64)
        pr32 = C.load_prompts(m, golden)
        pr64 = C.load_prompts(m64, golden)
        runs = gj["runs"]
        outs = [C.run_generation(m, golden, gj, r, pr32) for r in runs]
        ok32 = sum(o["history_answer"] == r["history_answer"] for o, r in zip(outs, runs) if r["usable"])
        n_use = sum(r["usable"] for r in runs)
        check(ok32 == n_use, f"float32 reproduces {ok32}/{n_use} usable runs")
        ok64 = sum(C.run_generation(m64, golden, gj, r, pr64)["history_answer"] == r["history_answer"]
                   for r in runs if r["usable"])
        check(ok64 == n_use, f"float64 reproduces {ok64}/{n_use} usable runs")

        def key(r):
            s = dict(r["spec"])
            s.pop("use_cache", None)
            return json.dumps([r["prompt"], r.get("prior_name"), s], sort_keys=True)

        by = {}
        for r, o in zip(runs, outs):
            by.setdefault(key(r), {})[bool(r["spec"].get("use_cache"))] = o
        pairs = [v for v in by.values() if len(v) == 2]
        same1 = 0
        for v in pairs:
            a, b = v[False], v[True]
            da, db = dict(a["step_debug"][0]), dict(b["step_debug"][0])
            same1 += int(da == db and a["history_answer"][0] == b["history_answer"][0])
        check(same1 == len(pairs), f"step 1 identical with and without cache in {same1}/{len(pairs)} run pairs")
        differ = sum(v[False]["history_answer"] != v[True]["history_answer"] for v in pairs)
        print(f"      (cache changes the result later on in {differ}/{len(pairs)} pairs, as expected)")
    print("FAILED" if FAIL else "OK: all consistency checks passed")
    return 1 if FAIL else 0


if __name__ == "__main__":
    sys.exit(main())
