#!/usr/bin/python3
"""Golden outputs of the ORIGINAL LLaDA code on a tiny random LLaDA checkpoint (CPU, float32).

Usage:
  bash tools/llada/get_originals.sh /tmp/llada-orig
  /usr/bin/python3 tools/llada/make_tiny_llada.py /tmp/llada-tiny
  /usr/bin/python3 tools/llada/make_llada_goldens.py /tmp/llada-tiny tests/goldens/llada-tiny \
      [--orig /tmp/llada-orig]

Model: NVlabs/Fast-dLLM llada/model/modeling_llada.py (the LLaDA-8B-Instruct HF modeling file as
vendored there; it ignores attention_mask), loaded through tools/llada/shim, weights bf16 -> float32.
Decoding: generate() of ML-GSAI/LLaDA generate.py, called unchanged. Each step is observed through
a forward hook on the model (its input ids and its logits); nothing in the loop is copied or
wrapped. Decision margins are then computed from those logits by replaying the step rule, and the
replay must reproduce the next step's input exactly (checked; the script stops otherwise).
An independent float64 re-computation (ref_llada.py, our code from the spec) measures the forward
error and decides `f64_identical` for each deterministic run.
Writes OUT/: model/ (copy of the checkpoint), *.npy forward cases, generation.json, gen_*_uniforms.npy,
tolerances.json, manifest.json. See tests/goldens/llada-tiny/README.md for the meaning of each file.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import originals  # noqa: E402
import ref_llada  # noqa: E402

MARGIN = 1e-5


def sha_file(p):
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def save(out, name, arr, manifest, meaning):
    arr = np.ascontiguousarray(arr)
    np.save(os.path.join(out, name + ".npy"), arr)
    manifest["arrays"][name + ".npy"] = {"shape": list(arr.shape), "dtype": str(arr.dtype), "meaning": meaning}


# ------------------------------------------------------------------------------------------------
# prompts (ids only; special ids from the tiny model's special_ids.json)
# ------------------------------------------------------------------------------------------------
def make_prompts(sp):
    g = torch.Generator().manual_seed(2024)
    bos, sh, eh, eot = sp["bos_token_id"], sp["start_header_id"], sp["end_header_id"], sp["eot_id"]
    USER, NL, ASSISTANT = 101, 102, 103  # surrogates for "user", "\n\n", "assistant"

    def rnd(n):
        return torch.randint(0, bos, (n,), generator=g).tolist()

    q1 = rnd(5)
    p1 = [bos, sh, USER, eh, NL] + q1 + [eot, sh, ASSISTANT, eh, NL]          # 15 ids, chat template
    p2 = [bos] + rnd(4)                                                         # 5 ids
    p3 = [bos, sh, USER, eh, NL] + rnd(9) + [eot, sh, ASSISTANT, eh, NL]       # 19 ids
    long_ids = [bos] + rnd(55)
    p1m = list(p1)
    p1m[6] = p1m[7] = sp["mask_token_id"]                                       # infilling: masks in the prompt
    return {"p1": p1, "p2": p2, "p3": p3, "p1m": p1m, "long": long_ids,
            "surrogates": {"user": USER, "nl_nl": NL, "assistant": ASSISTANT}}


# ------------------------------------------------------------------------------------------------
# forward cases
# ------------------------------------------------------------------------------------------------
LAYER_PARTS = ["attn_norm", "q_proj", "k_proj", "v_proj", "rotary_emb", "attn_out", "ff_norm", "ff_proj",
               "up_proj", "ff_out"]


def run_forward_cases(model, model64, ref, sp, P, out, manifest, tol):
    mask = sp["mask_token_id"]
    pad = sp["pad_token_id"]
    cases = {}
    cases["text"] = (torch.tensor([P["p1"] + [mask] * 12]), None)
    cases["allmask"] = (torch.tensor([[mask] * 16]), None)
    r0 = P["p3"] + [mask] * 8                       # 27
    r1 = [pad] * 14 + P["p2"] + [mask] * 8          # 27, left-padded
    am = torch.tensor([[1] * 27, [0] * 14 + [1] * 13])
    cases["batch"] = (torch.tensor([r0, r1]), am)
    cases["long"] = (torch.tensor([P["long"] + [mask] * 16]), None)   # 72
    errs = {}
    for name, (ids, amask) in cases.items():
        captured = {}
        hooks = []
        if name == "text":
            for li in range(2):
                blk = model.model.transformer.blocks[li]
                for part in LAYER_PARTS:
                    mod = getattr(blk, part)

                    def hook(m, inp, outp, key=f"layer{li}_{part}"):
                        if key.endswith("rotary_emb"):
                            captured[key + "_q"] = outp[0].detach().clone()
                            captured[key + "_k"] = outp[1].detach().clone()
                        else:
                            captured[key] = outp.detach().clone()
                            if key.endswith("attn_out") or key.endswith("_ff_out"):
                                captured[key + "_input"] = inp[0].detach().clone()
                    hooks.append(mod.register_forward_hook(hook))
        with torch.no_grad():
            o = model(ids, attention_mask=amask, output_hidden_states=True)
            o64 = model64(ids, attention_mask=amask, output_hidden_states=True)
        for h in hooks:
            h.remove()
        lg = o.logits.float().numpy()
        hs = torch.stack(o.hidden_states).float().numpy()
        r = ref.forward(ids, amask)
        save(out, f"{name}_input_ids", ids.numpy().astype(np.int64), manifest, "input ids")
        if amask is not None:
            save(out, f"{name}_attention_mask", amask.numpy().astype(np.int64), manifest,
                 "attention mask given to the model (the original IGNORES it: see README)")
        save(out, f"{name}_logits", lg, manifest, "logits, unshifted: row i scores position i")
        save(out, f"{name}_hidden_states", hs, manifest,
             "[n_layers+1, B, L, d]: input embeddings, output of block 0 .. n_layers-2, then the ln_f output")
        e = {
            "logits": float(np.abs(lg - r["logits"].numpy()).max()),
            "logits_maxabs": float(np.abs(r["logits"].numpy()).max()),
            "hidden": float(np.abs(hs - r["hidden_states"].numpy()).max()),
            "hidden_maxabs": float(np.abs(r["hidden_states"].numpy()).max()),
            "logits_vs_original_f64": float(np.abs(lg - o64.logits.numpy()).max()),
            "hidden_vs_original_f64": float(np.abs(hs - torch.stack(o64.hidden_states).numpy()).max()),
            "original_f64_vs_ref_f64_logits": float((o64.logits - r["logits"]).abs().max()),
        }
        errs[name] = e
        if name == "text":
            for key, t in captured.items():
                arr = t.float().numpy()
                if key.endswith("rotary_emb_q") or key.endswith("rotary_emb_k"):
                    meaning = "after RoPE, [B, heads, L, head_dim] (the rotary module's output)"
                elif key.endswith("attn_out_input"):
                    meaning = "attention context before attn_out, heads side by side [B, L, d]"
                elif key.endswith("attn_out"):
                    meaning = "attn_out output (added to the residual)"
                elif key.endswith("ff_out_input"):
                    meaning = "silu(ff_proj) * up_proj, the input of the block's ff_out"
                elif key.endswith("ff_out"):
                    meaning = "block ff_out output (added to the residual)"
                else:
                    meaning = f"output of {key.split('_', 1)[1]} (nn.Module forward hook)"
                save(out, f"text_{key}", arr, manifest, meaning)
        if name == "batch":
            # the original ignores the mask: each row equals its own single-row forward (pads attended)
            with torch.no_grad():
                single = [model(ids[i:i + 1]).logits for i in range(2)]
            e["batch_row_vs_single_row"] = float(max((o.logits[i] - single[i][0]).abs().max() for i in range(2)))
            ref_m = ref_llada.RefLLaDA(ref.folder, honour_mask=True)
            e["row1_logits_if_mask_were_honoured_maxdiff"] = float(
                (ref_m.forward(ids, amask)["logits"][1] - r["logits"][1]).abs().max())
    tol["forward"] = errs
    # RoPE table of the original (computed at model construction for max_sequence_length, float32)
    rot = model.model.transformer.blocks[0].rotary_emb
    T = model.config.max_sequence_length
    sin, cos = rot.get_rotary_embedding(T, torch.device("cpu"))
    pos = list(range(128)) + [255, 511, 1023, 2047, 3071, 4095]
    pos_t = torch.tensor(pos)
    save(out, "rope_positions", pos_t.numpy().astype(np.int64), manifest, "positions of the rope_cos/rope_sin rows")
    save(out, "rope_cos", cos[0, 0, pos_t].numpy(), manifest,
         "the original's float32 cos table at rope_positions [N, head_dim] (halves repeated)")
    save(out, "rope_sin", sin[0, 0, pos_t].numpy(), manifest, "same for sin")
    c64, s64 = ref.rope(T)
    # inv_freq as torch computes it in float32 (exponent 2i/head_dim, pow, reciprocal, all float32);
    # checked: the float32 outer product with the positions gives the original's table exactly
    inv32 = 1.0 / (ref.theta ** (torch.arange(0, ref.hd, 2, dtype=torch.float32) / ref.hd))
    ang32 = torch.arange(T, dtype=torch.float32)[:, None] * inv32[None, :]
    ang32 = torch.cat([ang32, ang32], dim=-1)
    if not (torch.equal(ang32.cos(), cos[0, 0]) and torch.equal(ang32.sin(), sin[0, 0])):
        raise SystemExit("float32 inv_freq does not reproduce the original's RoPE table")
    save(out, "rope_inv_freq", inv32.numpy(), manifest,
         "float32 inv_freq [head_dim/2] that reproduces the original's table: angle = f32(pos * inv_freq)")
    inv_dr = (1.0 / (ref.theta ** (torch.arange(0, ref.hd, 2, dtype=torch.float64) / ref.hd))).float()
    tol["rope"] = {
        "inv_freq_ulps_if_computed_in_double_then_rounded": int((inv_dr != inv32).sum()),
        "cos_sin_maxerr_vs_exact_sin_of_the_f32_angle": float(max(
            (cos[0, 0].double() - ang32.double().cos()).abs().max(), (sin[0, 0].double() - ang32.double().sin()).abs().max())),
        "cos_sin_maxerr_pos_lt_128": float(max((cos[0, 0, :128].double() - c64[:128]).abs().max(),
                                               (sin[0, 0, :128].double() - s64[:128]).abs().max())),
        "cos_sin_maxerr_all_4096": float(max((cos[0, 0].double() - c64).abs().max(),
                                             (sin[0, 0].double() - s64).abs().max())),
    }


# ------------------------------------------------------------------------------------------------
# generation
# ------------------------------------------------------------------------------------------------
def run_specs(P):
    """(name, prompt key(s), options, seed)."""
    specs = []
    layouts = [(16, 16, 16), (16, 16, 8), (16, 16, 5), (16, 16, 1), (16, 8, 8), (16, 8, 4), (16, 4, 16),
               (24, 8, 6), (12, 4, 6), (32, 32, 12), (32, 8, 8), (8, 8, 12)]
    for (g, b, s) in layouts:
        for pk in ("p1", "p2"):
            specs.append((f"lc_{pk}_g{g}_b{b}_s{s}", [pk], dict(steps=s, gen_length=g, block_length=b,
                          temperature=0.0, cfg_scale=0.0, remasking="low_confidence"), 0))
    for j, (g, b, s) in enumerate(layouts):
        specs.append((f"rand_p1_g{g}_b{b}_s{s}", ["p1"], dict(steps=s, gen_length=g, block_length=b,
                      temperature=0.0, cfg_scale=0.0, remasking="random"), 100 + j))
    for cfg in (0.5, 2.0):
        for (g, b, s) in [(16, 16, 16), (16, 8, 8), (24, 8, 6), (16, 4, 16)]:
            specs.append((f"cfg{cfg}_lc_p1_g{g}_b{b}_s{s}", ["p1"], dict(steps=s, gen_length=g, block_length=b,
                          temperature=0.0, cfg_scale=cfg, remasking="low_confidence"), 0))
    specs.append(("cfg1.0_rand_p3_g16_b8_s8", ["p3"], dict(steps=8, gen_length=16, block_length=8,
                  temperature=0.0, cfg_scale=1.0, remasking="random"), 200))
    for (pks, g, b, s) in [(["p1", "p2"], 16, 16, 16), (["p3", "p2"], 16, 8, 8), (["p2", "p1"], 24, 8, 12)]:
        specs.append((f"batch_lc_{'_'.join(pks)}_g{g}_b{b}_s{s}", pks, dict(steps=s, gen_length=g, block_length=b,
                      temperature=0.0, cfg_scale=0.0, remasking="low_confidence"), 0))
    specs.append(("batch_cfg1.0_lc_p3_p2_g16_b8_s8", ["p3", "p2"], dict(steps=8, gen_length=16, block_length=8,
                  temperature=0.0, cfg_scale=1.0, remasking="low_confidence"), 0))
    # masks inside the prompt (infilling): not in prompt_index, so they are candidates in every block
    for (g, b, s, cfg) in [(16, 8, 8, 0.0), (16, 16, 4, 0.0), (16, 8, 8, 1.0)]:
        specs.append((f"infill_cfg{cfg}_lc_p1m_g{g}_b{b}_s{s}", ["p1m"], dict(steps=s, gen_length=g, block_length=b,
                      temperature=0.0, cfg_scale=cfg, remasking="low_confidence"), 0))
    # temperature > 0: documented behaviour only (torch's RNG stream is not a contract)
    for (pk, T, rm, g, b, s, seed) in [("p1", 0.7, "low_confidence", 16, 16, 16, 11),
                                       ("p1", 1.0, "low_confidence", 16, 8, 8, 12),
                                       ("p2", 0.5, "random", 16, 8, 8, 13)]:
        specs.append((f"temp{T}_{rm[:4]}_{pk}_g{g}_b{b}_s{s}", [pk], dict(steps=s, gen_length=g, block_length=b,
                      temperature=T, cfg_scale=0.0, remasking=rm), seed))
    return specs


def left_pad(rows, pad):
    L = max(len(r) for r in rows)
    ids = torch.tensor([[pad] * (L - len(r)) + r for r in rows])
    am = torch.tensor([[0] * (L - len(r)) + [1] * len(r) for r in rows])
    return ids, am


def top2_gap(v):
    t = torch.topk(v, 2, dim=-1).values
    return t[..., 0] - t[..., 1]


def analyse_run(gen, calls, final, prompt, opts, mask_id, seed, B):
    """Replay the step rule on the recorded logits: margins, chosen positions, x0, uniforms.
    Asserts that the replay gives exactly the next recorded input (and the returned x)."""
    Lp = prompt.shape[1]
    g, bl, steps = opts["gen_length"], opts["block_length"], opts["steps"]
    nb = g // bl
    s = steps // nb
    T, cfg, rm = opts["temperature"], opts["cfg_scale"], opts["remasking"]
    assert len(calls) == nb * s, (len(calls), nb, s)
    torch.manual_seed(seed)  # replay the RNG stream in generate()'s order
    xs = [c[0][:B] for c in calls] + [final]
    step_info, uniforms, history = [], [], []
    min_margin, where = math.inf, None
    mask_committed = False
    counts = None
    for t, (x_in, lg_all) in enumerate(calls):
        b, i = divmod(t, s)
        x = x_in[:B].clone()
        if i == 0:
            counts = gen.get_num_transfer_tokens(x[:, Lp + b * bl: Lp + (b + 1) * bl] == mask_id, s)
        if cfg > 0:
            assert lg_all.shape[0] == 2 * B
            c_, u_ = torch.chunk(lg_all, 2, dim=0)
            logits = u_ + (cfg + 1) * (c_ - u_)
        else:
            logits = lg_all
        mask_index = x == mask_id
        lwn = gen.add_gumbel_noise(logits, temperature=T)
        x0 = torch.argmax(lwn, dim=-1)
        if rm == "low_confidence":
            p = torch.softmax(logits, dim=-1)
            x0_p = torch.gather(p, -1, x0[..., None])[..., 0]
        else:
            x0_p = torch.rand((x0.shape[0], x0.shape[1]))
            uniforms.append(x0_p.numpy().copy())
        x0_p[:, Lp + (b + 1) * bl:] = -np.inf
        x0 = torch.where(mask_index, x0, x)
        conf = torch.where(mask_index, x0_p, torch.tensor(-np.inf))
        gaps = top2_gap(lwn.double() if T > 0 else logits)
        row_info = []
        nxt = x.clone()
        for r in range(B):
            k = int(counts[r, i])
            cand = torch.nonzero(torch.isfinite(conf[r])).flatten()
            sel = torch.topk(conf[r], k=k).indices if k > 0 else torch.tensor([], dtype=torch.long)
            nxt[r, sel] = x0[r, sel]
            cs = torch.sort(conf[r][cand].double(), descending=True).values
            if k == 0:
                km = None
            elif k < len(cand):
                km = float(cs[k - 1] - cs[k])
            elif k == len(cand):
                km = math.inf
            else:
                km = 0.0  # topk would pick -inf entries: unspecified which
            ag = [float(gaps[r, j]) for j in sel.tolist()]
            cand_gaps = [float(gaps[r, j]) for j in cand.tolist()]
            if any(int(x0[r, j]) == mask_id for j in sel.tolist()):
                mask_committed = True
            for val, what in ([(km, "topk")] if km is not None else []) + [(v, "argmax") for v in ag]:
                if val < min_margin:
                    min_margin, where = val, {"step": t, "row": r, "kind": what}
            row_info.append({
                "count": k,
                "masked": [j - Lp for j in torch.nonzero(mask_index[r]).flatten().tolist()],
                "candidates": [j - Lp for j in cand.tolist()],
                "transfer": sorted(j - Lp for j in sel.tolist()),
                "x0": [int(x0[r, j]) for j in sorted(sel.tolist())],
                "kth_conf": float(cs[k - 1]) if 0 < k <= len(cand) else None,
                "next_conf": float(cs[k]) if 0 < k < len(cand) else None,
                "topk_margin": km,
                "argmax_gap_transfer": [ag[j] for j in np.argsort(sel.numpy())] if k else [],
                "min_argmax_gap_candidates": min(cand_gaps) if cand_gaps else None,
            })
        if not torch.equal(nxt, xs[t + 1][:B]):
            raise SystemExit(f"replay of step {t} does not give the original's next input")
        history.append(nxt[:, Lp:].tolist())
        step_info.append({"block": b, "step_in_block": i, "rows": row_info})
    return step_info, history, (min_margin, where), mask_committed, uniforms


def run_generation(model, gen, ref, sp, P, out, manifest):
    mask_id = sp["mask_token_id"]
    pad = sp["pad_token_id"]
    calls = []

    def hook(m, inp, outp):
        calls.append((inp[0].detach().clone(), outp.logits.detach().clone()))

    h = model.register_forward_hook(hook)
    runs = []
    for name, pks, opts, seed in run_specs(P):
        rows = [P[k] for k in pks]
        if len(rows) == 1:
            prompt, am = torch.tensor(rows), None
        else:
            prompt, am = left_pad(rows, pad)
        if opts["cfg_scale"] > 0 and am is None:
            am = torch.ones_like(prompt)  # generate() needs a mask with cfg (see README)
        calls.clear()
        torch.manual_seed(seed)
        x = gen.generate(model, prompt, attention_mask=am, mask_id=mask_id, **opts)
        B = prompt.shape[0]
        info, hist, (mm, where), mc, unif = analyse_run(gen, list(calls), x, prompt, opts, mask_id, seed, B)
        rng = "none"
        if opts["temperature"] > 0:
            rng = "gumbel"
        elif opts["remasking"] == "random":
            rng = "uniforms"
        run = {
            "name": name, "prompts": pks, "prompt_ids": prompt.tolist(),
            "attention_mask": am.tolist() if am is not None else None,
            "options": dict(opts, mask_id=mask_id, logits_eos_inf=False, confidence_eos_eot_inf=False),
            "seed": seed, "rng": rng, "prompt_len": int(prompt.shape[1]),
            "sequence": x.tolist(), "answer": x[:, prompt.shape[1]:].tolist(),
            "n_forward": len(calls), "history_answer": hist, "steps": info,
            "min_margin": mm, "min_margin_at": where, "mask_id_committed": mc,
        }
        if rng == "uniforms":
            fn = f"gen_{name}_uniforms.npy"
            arr = np.stack(unif).astype(np.float32)
            np.save(os.path.join(out, fn), arr)
            manifest["arrays"][fn] = {"shape": list(arr.shape), "dtype": "float32",
                                      "meaning": f"run {name}: the [B, L] uniforms torch.rand drew at each step"}
            run["uniforms_file"] = fn
        if opts["temperature"] == 0:
            xr = ref_llada.generate(ref, prompt, am, uniforms=unif if unif else None, mask_id=mask_id, **opts)
            run["f64_identical"] = bool(torch.equal(xr, x))
        else:
            run["f64_identical"] = None
        run["contract"] = opts["temperature"] == 0
        run["usable"] = bool(run["contract"] and run["f64_identical"] and mm >= MARGIN)
        runs.append(run)
        print(f"{name:40s} n_fwd {len(calls):3d} min_margin {mm:.3g} f64 {run['f64_identical']} "
              f"usable {run['usable']}", flush=True)
    h.remove()
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--orig", default="/tmp/llada-orig")
    a = ap.parse_args()
    modeling, LM, gen = originals.load_text(a.orig)
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    mdir = os.path.join(a.out, "model")
    if os.path.abspath(mdir) != os.path.abspath(a.model):
        shutil.rmtree(mdir, ignore_errors=True)
        shutil.copytree(a.model, mdir)
    with open(os.path.join(mdir, "special_ids.json")) as f:
        sp = json.load(f)["ids"]
    model = LM.from_pretrained(mdir, torch_dtype=torch.float32)
    model64 = LM.from_pretrained(mdir, torch_dtype=torch.float64)
    ref = ref_llada.RefLLaDA(mdir)
    P = make_prompts(sp)
    manifest = {
        "what": "outputs of the original LLaDA code on a tiny random LLaDA, CPU float32",
        "originals": originals.check(a.orig, repos=("NVlabs/Fast-dLLM", "ML-GSAI/LLaDA")),
        "shim": "tools/llada/shim (transformers stand-in, torch 1.13 compatibility)",
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                     "threads": torch.get_num_threads()},
        "model_files": {fn: sha_file(os.path.join(mdir, fn)) for fn in sorted(os.listdir(mdir))},
        "special_ids": sp, "prompts": P, "arrays": {},
    }
    tol = {}
    run_forward_cases(model, model64, ref, sp, P, a.out, manifest, tol)
    runs = run_generation(model, gen, ref, sp, P, a.out, manifest)
    with open(os.path.join(a.out, "generation.json"), "w") as f:
        json.dump({"mask_id": sp["mask_token_id"], "margin_threshold": MARGIN,
                   "usable_rule": "temperature 0 and f64_identical and min_margin >= 1e-5",
                   "runs": runs}, f, separators=(",", ":"))
    tol["recommended"] = {
        "rule": "|engine - golden| <= atol + rtol * |golden| elementwise, for a float32 engine",
        "logits": {"atol": 1e-3, "rtol": 1e-4},
        "hidden_states_and_layer_intermediates": {"atol": 5e-4, "rtol": 1e-4},
        "rope_cos_sin": {"atol": 2e-6, "note": "angle = f32(pos * rope_inv_freq); an exact angle differs "
                         "by up to ~1.5e-4 near position 4095 (cos_sin_maxerr_all_4096)"},
        "ids_and_generation": "exact (usable runs token for token, history included)",
    }
    with open(os.path.join(a.out, "tolerances.json"), "w") as f:
        json.dump(tol, f, indent=1)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    n_use = sum(r["usable"] for r in runs)
    print(f"{len(runs)} runs, {n_use} usable; forward errors vs float64: "
          + ", ".join(f"{k} logits {v['logits']:.2e}" for k, v in tol["forward"].items()))


if __name__ == "__main__":
    main()
