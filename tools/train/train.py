#!/usr/bin/python3
"""Trains a Dimple on the shapes world with Dimple's paradigm, from scratch, on the CPU.

Recipes (equal budget: the same number of optimizer steps of the same batch):
  ar-then-diffusion  (a) autoregressive: projector alignment (projector only), then all weights;
                     (b) diffusion: all weights (Dimple's paradigm, spec section 9)
  diffusion          the pure-diffusion baseline: projector alignment then all weights, both by diffusion
  diffusion-tuning   (b) alone, from the weights of an earlier run (--init-from its state.pt)

  /usr/bin/python3 tools/train/train.py OUT_DIR --recipe ar-then-diffusion --steps 3000 [--threads 1]

OUT_DIR receives log.jsonl (one line per step, validation losses every --val-every steps),
model/ (the Hugging Face folder, bf16, rewritten every --save-every seconds and at the end),
state.pt (to --resume) and loss.png. Progress goes to the terminal.
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import archs  # noqa: E402
import malloc_env  # noqa: E402
import data  # noqa: E402
import llada_v_data  # noqa: E402
import world  # noqa: E402
from dimple_ref import safetensors_io as S  # noqa: E402


RECIPES = {
    "ar-then-diffusion": lambda al, ar: [("align", "autoregressive", "projector", al),
                                         ("instruct", "autoregressive", "all", ar),
                                         ("diffusion", "diffusion", "all", None)],
    "diffusion": lambda al, ar: [("align", "diffusion", "projector", al),
                                 ("diffusion", "diffusion", "all", None)],
    # More diffusion tuning of a trained Dimple (--init-from): phase (b) alone, a fresh schedule.
    "diffusion-tuning": lambda al, ar: [("diffusion", "diffusion", "all", None)],
}


def phases(recipe, steps, align_frac, ar_frac):
    """[(name, objective, trainable, first step, end step)] covering exactly `steps` steps."""
    al = max(1, round(steps * align_frac))
    ar = round(steps * ar_frac)
    out, start = [], 0
    for name, obj, which, n in RECIPES[recipe](al, ar):
        n = steps - start if n is None else n
        out.append((name, obj, which, start, start + n))
        start += n
    return out


def lr_at(step, start, end, peak, warmup):
    """Linear warmup, then cosine down to peak/10, within one phase."""
    i, n = step - start, end - start
    w = min(warmup, max(1, n // 10))
    if i < w:
        return peak * (i + 1) / w
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (i - w) / max(1, n - w))))


def validation(arch, m, val_batches, seed, current, reading_items):
    """Mean losses of every objective the architecture trains with (autoregressive, diffusion) on
    fixed validation batches (fixed masks), the current objective's loss with blank images
    (val_blank_*: equal to val_* when the model ignores the image), and the architecture's reading
    probe (val_probe_*) when it has one."""
    out = {}
    blank = [dict(b, pixel_values=torch.zeros_like(b["pixel_values"])) for b in val_batches]
    with torch.no_grad():
        for name, obj, batches in [("val_" + o, o, val_batches) for o in arch.trained_with] + \
                                  [("val_blank_" + current, current, blank)]:
            gen = torch.Generator(device="cpu").manual_seed(seed)
            tot = cnt = 0.0
            for b in batches:
                lo, n = arch.objectives.loss(m, b, obj, gen)
                tot += float(lo) * n
                cnt += n
            out[name] = tot / cnt
    if arch.reading:
        out |= {"val_" + k: v for k, v in arch.reading.validation_scores(m, reading_items).items()}
    return out


def initial_weights(path, cfg):
    """({name: tensor}, where they come from) for --init-from: a run's state.pt, or a Hugging Face
    folder the engine loads (e.g. models/dimple-shapes, whose weights are bf16: training goes on from
    the rounded weights), whose config must be this run's (--shape sets rope_theta and the sizes)."""
    if not os.path.isdir(path):
        earlier = torch.load(path)
        return earlier["w"], f"step {earlier['step']} of its run"
    with open(os.path.join(path, "config.json")) as f:
        theirs = json.load(f)
    differ = sorted(k for k in set(theirs) | set(cfg) if theirs.get(k) != cfg.get(k))
    if differ:
        sys.exit(f"--init-from {path}: its config differs from this run's in {differ} "
                 f"(e.g. {differ[0]} {theirs.get(differ[0])} there, {cfg.get(differ[0])} here): pass --shape")
    return {k: torch.from_numpy(S.to_float(dt, a)) for k, (dt, a) in S.read_folder(path).items()}, "exported"


def to_device(batch, device):
    return dict(batch, pixel_values=batch["pixel_values"].to(device))


def save(a, arch, cfg, w, opt_state, step, log_path):
    arch.checkpoint.export(os.path.join(a.out, "model"), cfg, w, a.tokenizer)
    torch.save({"w": {k: v.detach().cpu() for k, v in w.items()}, "opt": opt_state, "step": step},
               os.path.join(a.out, "state.pt.tmp"))
    os.replace(os.path.join(a.out, "state.pt.tmp"), os.path.join(a.out, "state.pt"))
    try:
        import plot
        plot.plot_runs([log_path], os.path.join(a.out, "loss.png"))
    except Exception as e:  # a plot must never stop a training run
        print(f"\nplot failed: {e}", file=sys.stderr)


def next_occurrence(hhmmss, now=None):
    """Epoch seconds of the next time the UTC clock reads HH:MM[:SS] (today, or tomorrow when it
    has passed today: a run started at 23:30 with --stop-at 00:45 stops after midnight)."""
    now = time.time() if now is None else now
    h, m, s = (list(map(int, hhmmss.split(":"))) + [0])[:3]
    midnight = now - now % 86400
    t = midnight + h * 3600 + m * 60 + s
    return t if t > now else t + 86400


def progress(step, first, steps, phase, loss, sps, t0, final=False):
    """One line per step on a terminal (every 25 steps in a log); eta from this run's pace."""
    eta = (time.time() - t0) / max(1, step - first) * (steps - step)
    line = (f"step {step:5d}/{steps} [{phase:9s}] loss {loss:7.4f}  {sps:5.1f} samples/s  "
            f"eta {int(eta) // 60:3d}m{int(eta) % 60:02d}s")
    if sys.stdout.isatty():
        print("\r" + line, end="\n" if final else "", flush=True)
    elif step % 25 == 0 or final:
        print(line, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--arch", choices=sorted(archs.ARCHS), default="dimple",
                    help="dimple (models/dimple-shapes) or llada-v (models/llada-v-shapes: diffusion only)")
    ap.add_argument("--recipe", choices=sorted(RECIPES), default="ar-then-diffusion")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--align-frac", type=float, default=0.03)
    ap.add_argument("--ar-frac", type=float, default=0.4, help="instruct (autoregressive) share")
    ap.add_argument("--images", type=int, default=8, help="images per batch")
    ap.add_argument("--questions", type=int, default=4, help="questions per image")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--align-lr", type=float, default=2e-3)
    ap.add_argument("--vision-lr-scale", type=float, default=1.0,
                    help="learning rate of the vision tower relative to --lr (0: frozen)")
    ap.add_argument("--freeze-vision-until", type=int, default=0,
                    help="the vision tower stays frozen before this step, then trains at --vision-lr-scale")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bf16", action="store_true",
                    help="matrix products in bfloat16 (autocast; weights, optimizer and loss stay f32): "
                         "about 1.5x faster steps on CPUs with AVX512_BF16 or AMX, slower on others")
    ap.add_argument("--device", default="cpu",
                    help="where the model trains: cpu, or cuda (torch >= 2; the same recipe on a GPU)")
    ap.add_argument("--data-workers", type=int, default=0,
                    help="processes that render and preprocess batches ahead (0: in the training loop)")
    ap.add_argument("--val-every", type=int, default=100)
    ap.add_argument("--val-batches", type=int, default=4)
    ap.add_argument("--save-every", type=float, default=300, help="seconds between checkpoints")
    ap.add_argument("--tokenizer", default=None, help="the tokenizer's folder (default: the --arch model's)")
    ap.add_argument("--shape", default=None, help="JSON overrides of checkpoint.SHAPE (tests)")
    ap.add_argument("--vision-init", default=None,
                    help="vision.pt of pretrain_vision.py: start from its pretrained vision tower")
    ap.add_argument("--max-image-tokens", type=int, default=None,
                    help=f"resize images to at most this many merged vision tokens (default "
                         f"{data.MAX_PIXELS // 784}); the exported preprocessor config says so")
    ap.add_argument("--kind-weights", default=None,
                    help='JSON {kind: weight} overriding data.KIND_WEIGHTS, e.g. {"color": 3}')
    ap.add_argument("--object-weights", default=None,
                    help='JSON {n: weight}: how often training scenes hold n objects (default: uniform '
                         '1..4, as in the world), e.g. {"1": 1, "2": 1, "3": 3, "4": 3}')
    ap.add_argument("--first-kinds", default=None,
                    help='JSON {kind: weight}: the question mix of the first --first-steps steps (a '
                         'curriculum; kinds not named are not asked then), e.g. {"color": 1}')
    ap.add_argument("--first-objects", default=None,
                    help='JSON {n: weight}: training scenes\' object counts in the first --first-steps '
                         'steps (a curriculum), e.g. {"1": 2, "2": 1}')
    ap.add_argument("--first-steps", type=int, default=0)
    ap.add_argument("--pad-free-steps", type=int, default=0,
                    help="diffusion answers end at their end token, without the trailing pads up to the "
                         "decoding length, before this step (a from-scratch model learned to read the "
                         "picture only without them: models/llada-v-shapes/README.md)")
    ap.add_argument("--rewarm-at", default="",
                    help="comma-separated steps where the data or objective changes (e.g. the ends of "
                         "--first-steps and --pad-free-steps): the learning rate warms up again over "
                         "--rewarm-steps, and the state at that step is kept as state-STEP.pt")
    ap.add_argument("--rewarm-steps", type=int, default=300)
    ap.add_argument("--init-from", default=None,
                    help="state.pt of an earlier run, or a model folder (models/dimple-shapes): start "
                         "from its weights (a fresh optimizer and schedule), e.g. with --recipe diffusion-tuning")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--stop-at", default=None,
                    help="HH:MM or HH:MM:SS (UTC): save and stop at its next occurrence (past midnight if "
                         "need be) even if steps remain (the log says so)")
    a = ap.parse_args()
    malloc_env.keep_freed_memory()
    arch = archs.ARCHS[a.arch]
    a.tokenizer = a.tokenizer or arch.tokenizer
    if "autoregressive" in [o for p in RECIPES[a.recipe](1, 1) for o in p[1:2]] and \
            "autoregressive" not in arch.trained_with:
        ap.error(f"--recipe {a.recipe}: --arch {a.arch} trains with {arch.trained_with} only")
    deadline = next_occurrence(a.stop_at) if a.stop_at else math.inf
    rewarm_at = [int(x) for x in a.rewarm_at.split(",") if x]
    torch.set_num_threads(a.threads)
    first_kinds = json.loads(a.first_kinds) if a.first_kinds else None
    for opt, weights in (("--kind-weights", a.kind_weights and json.loads(a.kind_weights)),
                         ("--first-kinds", first_kinds)):
        if weights and set(weights) - set(data.KIND_WEIGHTS):
            ap.error(f"{opt}: unknown kinds {sorted(set(weights) - set(data.KIND_WEIGHTS))}")
    if a.max_image_tokens:
        data.MAX_PIXELS = a.max_image_tokens * 28 * 28
    def object_counts(opt, text):
        counts = {int(n): float(v) for n, v in json.loads(text).items()}
        if not set(counts) <= set(range(1, world.MAX_OBJECTS + 1)) or sum(counts.values()) <= 0:
            ap.error(f"{opt}: counts 1..{world.MAX_OBJECTS} with a positive total, not {text}")
        return counts
    if a.object_weights:
        data.TRAIN_COUNT_WEIGHTS = object_counts("--object-weights", a.object_weights)
    first_objects = a.first_objects and object_counts("--first-objects", a.first_objects)
    if a.kind_weights:
        data.KIND_WEIGHTS.update(json.loads(a.kind_weights))
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    tok, cfg, w, m = arch.checkpoint.fresh_model(a.tokenizer, a.shape, a.seed)
    if a.vision_init:
        tower = torch.load(a.vision_init)["w"]
        with torch.no_grad():
            for k, v in tower.items():
                w[k].copy_(v)
        print(f"vision tower from {a.vision_init} ({len(tower)} tensors)")
    if a.init_from:
        earlier, origin = initial_weights(a.init_from, cfg)
        if set(earlier) != set(w):
            sys.exit(f"--init-from {a.init_from}: tensors {sorted(set(earlier) ^ set(w))[:4]} differ from this run's")
        with torch.no_grad():
            for k, v in earlier.items():
                w[k].copy_(v)
        print(f"weights from {a.init_from} ({origin})")
    plan = phases(a.recipe, a.steps, a.align_frac, a.ar_frac)
    print(f"{a.recipe}: {sum(p.numel() for p in w.values())} parameters, vocab {cfg['vocab_size']}, "
          f"batch {a.images}x{a.questions or '1-' + str(llada_v_data.MAX_QUESTIONS)}, "
          + (f"images <= {data.MAX_PIXELS // 784} tokens, " if a.arch == "dimple" else "")
          + f"object counts {data.TRAIN_COUNT_WEIGHTS or 'uniform'}, question weights {data.KIND_WEIGHTS}"
          + (f" ({first_kinds} in the first {a.first_steps} steps)" if first_kinds else "")
          + (f" (object counts {first_objects} in the first {a.first_steps} steps)" if first_objects else "") + "; phases " +
          ", ".join(f"{n} ({o}, {wh}) {s}-{e}" for n, o, wh, s, e in plan), flush=True)
    train = data.Prefetch(arch.batches(tok, a.seed, "train", a.images, a.questions), a.data_workers,
                          lambda step: (first_kinds, first_objects) if step < a.first_steps else (None, None))
    if a.device != "cpu":
        w = {k: torch.nn.Parameter(v.detach().to(a.device)) for k, v in w.items()}
        m = arch.checkpoint.model_of(cfg, w)
        torch.set_default_device(a.device)
    val = arch.batches(tok, a.seed, "val", a.images, a.questions)
    val_batches = [to_device(val.get(i), a.device) for i in range(a.val_batches)]
    reading_items = arch.reading.validation_items(tok, a.seed) if arch.reading else None
    log_path = os.path.join(a.out, "log.jsonl")
    start, opt_state, rewarm_from = 0, None, None
    if a.resume and os.path.exists(os.path.join(a.out, "state.pt")):
        st = torch.load(os.path.join(a.out, "state.pt"), map_location=a.device)
        with torch.no_grad():
            for k, v in st["w"].items():
                w[k].copy_(v)
        start, opt_state = st["step"], st["opt"]
        # A state saved without its optimizer (the weights a session carries to the next, which
        # starts on a fresh machine): fresh AdamW moments, so the learning rate warms up again.
        rewarm_from = start if opt_state is None else None
        print(f"resumed at step {start}")
    elif os.path.exists(log_path):
        os.remove(log_path)
    log = open(log_path, "a")
    gen = torch.Generator(device="cpu").manual_seed(a.seed * 7919 + start)
    t0, last_save, opt, cur = time.time(), time.time(), None, None
    for step in range(start, a.steps):
        name, obj, which, p0, p1 = next(p for p in plan if p[3] <= step < p[4])
        if cur != name:  # a fresh optimizer per phase, over that phase's trainable weights
            prefix = arch.projector if which == "projector" else ""
            trainable = {k: v for k, v in w.items() if k.startswith(prefix)
                         and not (a.vision_lr_scale == 0 and k.startswith(arch.tower))}
            for k, v in w.items():
                v.requires_grad_(k in trainable)
            tower = [v for k, v in trainable.items() if k.startswith(arch.tower)]
            rest = [v for k, v in trainable.items() if not k.startswith(arch.tower)]
            groups = [{"params": rest, "scale": 1.0}]
            if tower:
                groups.append({"params": tower, "scale": a.vision_lr_scale})
            opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
            if opt_state is not None and opt_state.get("phase") == name:
                opt.load_state_dict(opt_state["state"])
            cur = name
        for v in tower:  # a tower held frozen early has no gradient, so AdamW leaves it as it is
            v.requires_grad_(step >= a.freeze_vision_until)
        peak = a.lr if which == "all" else a.align_lr
        for g in opt.param_groups:
            g["lr"] = lr_at(step, p0, p1, peak, a.warmup) * g["scale"]
            if rewarm_from is not None:
                g["lr"] *= min(1.0, (step - rewarm_from + 1) / a.warmup)
            # A switch of the data: the old moments under-estimate the new gradients (the full question
            # mix after the colour/shape curriculum brought gradient norms of 100-1000 and erased the
            # picture's reading in run 9), so the rate starts again from 0.
            since = [step - r for r in rewarm_at if step >= r]
            if since:
                g["lr"] *= min(1.0, (min(since) + 1) / a.rewarm_steps)
        tb = time.time()
        batch = dict(to_device(train.get(step), a.device), trailing_pads=step >= a.pad_free_steps)
        with torch.autocast(a.device.split(":")[0], torch.bfloat16, enabled=a.bf16):
            lo, n = arch.objectives.loss(m, batch, obj, gen)
        opt.zero_grad(set_to_none=True)
        lo.backward()
        gnorm = float(torch.nn.utils.clip_grad_norm_([v for v in w.values() if v.requires_grad], 1.0))
        opt.step()
        rec = {"step": step + 1, "phase": name, "objective": obj, "loss": float(lo), "tokens": n,
               "lr": opt.param_groups[0]["lr"], "grad_norm": gnorm, "seconds": time.time() - tb}
        if (step + 1) % a.val_every == 0 or step + 1 == a.steps:
            rec.update(validation(arch, m, val_batches, a.seed, obj, reading_items))
        log.write(json.dumps(rec) + "\n")
        log.flush()
        progress(step + 1, start, a.steps, name, float(lo), len(batch["rows"]) / (time.time() - tb), t0,
                 final=step + 1 == a.steps)
        if "val_diffusion" in rec:
            print("\n  validation: " + "  ".join(f"{o} {rec['val_' + o]:.4f}" for o in arch.trained_with) +
                  f"  {obj} with blank images {rec['val_blank_' + obj]:.4f}" +
                  (f"  probe: colour {100 * rec['val_probe_acc']:.0f}% ({rec['val_probe_ce']:.2f}), shape "
                   f"{100 * rec['val_probe_shape_acc']:.0f}% ({rec['val_probe_shape_ce']:.2f})"
                   if "val_probe_acc" in rec else ""), flush=True)
        late = time.time() >= deadline
        if step + 1 in rewarm_at:
            save(a, arch, cfg, w, {"phase": name, "state": opt.state_dict()}, step + 1, log_path)
            shutil.copyfile(os.path.join(a.out, "state.pt"), os.path.join(a.out, f"state-{step + 1}.pt"))
        if time.time() - last_save > a.save_every or step + 1 == a.steps or late:
            save(a, arch, cfg, w, {"phase": name, "state": opt.state_dict()}, step + 1, log_path)
            last_save = time.time()
        if late:
            print(f"\nstopped at step {step + 1} of {a.steps}: --stop-at {a.stop_at} reached", flush=True)
            break
    print(f"done: {a.out}/model")


if __name__ == "__main__":
    main()
