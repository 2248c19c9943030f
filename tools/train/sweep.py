#!/usr/bin/python3
"""Trains several configurations side by side within a wall-clock budget (a GPU, or a many-core
machine), so that recipes can be compared before one is chosen for the CPU.

  python3 tools/train/sweep.py PLAN.json OUT --minutes 7 [--device cuda] [--probe-steps 40]

PLAN.json maps a run name to train.py's arguments, --steps included, e.g.
  {"base": ["--steps", "25000", "--vision-init", "vision.pt"],
   "wide": ["--steps", "8000", "--shape", "{\\"hidden\\": 256}"]}
First every run trains --probe-steps steps at once (all side by side, as they will run), which gives
each one's time per step; when the slowest would overrun the budget, every run's --steps is scaled
by the same factor (the comparison keeps its proportions). Then all train to the end, with
train.py --stop-at as a backstop. OUT/NAME holds each run (log.jsonl, model/), OUT/NAME.out its
terminal output; a table of final validation losses ends the run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def with_steps(args, steps):
    """train.py arguments with --steps replaced."""
    out = list(args)
    i = out.index("--steps")
    out[i + 1] = str(steps)
    return out


def launch(runs, out, common):
    """Starts one train.py per run; returns {name: process}."""
    procs = {}
    for name, args in runs.items():
        log = open(os.path.join(out, name + ".out"), "w")
        procs[name] = subprocess.Popen([sys.executable, os.path.join(HERE, "train.py"), os.path.join(out, name)]
                                       + args + common, stdout=log, stderr=subprocess.STDOUT)
    return procs


def wait_all(procs):
    """Waits for every run; returns the names of the failed ones."""
    return [name for name, p in procs.items() if p.wait() != 0]


def records(run_dir):
    path = os.path.join(run_dir, "log.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("plan")
    ap.add_argument("out")
    ap.add_argument("--minutes", type=float, required=True, help="wall-clock budget of the training")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--probe-steps", type=int, default=40)
    a = ap.parse_args()
    with open(a.plan) as f:
        plan = json.load(f)
    os.makedirs(a.out, exist_ok=True)
    common = ["--device", a.device]

    probe_dir = os.path.join(a.out, "probe")
    os.makedirs(probe_dir, exist_ok=True)
    t0 = time.time()
    probes = {n: with_steps(args, a.probe_steps) + ["--val-every", "1000000", "--save-every", "1e9"]
              for n, args in plan.items()}
    failed = wait_all(launch(probes, probe_dir, common))
    if failed:
        for name in failed:
            print(f"probe of {name} failed:\n" + open(os.path.join(probe_dir, name + ".out")).read()[-3000:])
        sys.exit(1)
    per_step = {}
    for name in plan:
        rec = records(os.path.join(probe_dir, name))
        per_step[name] = statistics.median(r["seconds"] for r in rec[len(rec) // 2:])
    steps = {n: int(args[args.index("--steps") + 1]) for n, args in plan.items()}
    budget = a.minutes * 60
    need = max(steps[n] * per_step[n] * 1.1 for n in plan)  # 10%: validation and checkpoints
    factor = min(1.0, budget / need)
    print(f"probe ({time.time() - t0:.0f} s, all runs side by side): " +
          ", ".join(f"{n} {per_step[n] * 1000:.0f} ms/step" for n in plan) + f"; steps scaled by {factor:.3f}",
          flush=True)

    stop_at = time.strftime("%H:%M:%S", time.gmtime(time.time() + budget + 25))
    runs = {n: with_steps(args, max(1, int(steps[n] * factor))) + ["--stop-at", stop_at]
            for n, args in plan.items()}
    t1 = time.time()
    procs = launch(runs, a.out, common)
    last = time.time()
    while any(p.poll() is None for p in procs.values()):
        time.sleep(1)
        if time.time() - last < 30:
            continue
        last = time.time()
        print(f"{time.time() - t1:5.0f} s: " + ", ".join(
            f"{n} {len(records(os.path.join(a.out, n)))}/{runs[n][runs[n].index('--steps') + 1]}" for n in plan),
            flush=True)
    failed = wait_all(procs)
    print(f"\n| run | steps | time per step | val diffusion | val autoregressive | its objective, blank images |")
    print("|---|---|---|---|---|---|")
    for name in plan:
        rec = [r for r in records(os.path.join(a.out, name)) if "val_diffusion" in r]
        last = rec[-1] if rec else {}
        print(f"| {name}{' (failed)' if name in failed else ''} | {last.get('step', 0)} | "
              f"{per_step[name] * 1000:.0f} ms | {last.get('val_diffusion', float('nan')):.4f} | "
              f"{last.get('val_autoregressive', float('nan')):.4f} | "
              f"{last.get('val_blank_' + last.get('objective', 'diffusion'), float('nan')):.4f} |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
