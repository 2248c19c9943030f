#!/usr/bin/env bash
# Trains models/llada-v-shapes, the from-scratch dMLLM beside dimple-shapes (issue 27): LLaDA-V's
# architecture at toy width (tools/train/llada_v_checkpoint.py), trained with LLaDA's masked-diffusion
# objective from the first step, no autoregressive phase. Vision pretraining (the stand-in for the
# pretrained SigLIP LLaDA-V starts from, as dimple-shapes' stands in for Qwen2.5-VL's), then
# diffusion training of the projector and the language model (the tower frozen). Both cores; seeds fixed.
#
# The run is longer than a session, and every session starts on a fresh machine: the script
# resumes from RUNS_DIR/main/state.pt when there is one, else from the state the last session
# committed (tools/train/progress/llada-v-shapes: the weights and the step; the optimizer's moments
# start again, with a short warmup), and when it stops it writes that folder again (commit it). A
# fresh run (no state.pt there) starts from the folder's vision.pt, the pretrained tower, when
# there is one. To start the language model afresh: delete state.pt and log.jsonl.gz there.
#   bash tools/train/llada_v_shapes.sh [RUNS_DIR (default runs-llada-v)] [--stop-at HH:MM]
# When the run is done: cp RUNS_DIR/main/model/* models/llada-v-shapes/ (with siglip-shapes) and measure.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-runs-llada-v}
shift || true
PY=/usr/bin/python3
PROGRESS=tools/train/progress/llada-v-shapes
mkdir -p "$RUNS/main"
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2
BF16=()
grep -q -E 'avx512_bf16|amx_bf16' /proc/cpuinfo && BF16=(--bf16)
if [ ! -f "$RUNS/main/state.pt" ] && [ -f "$PROGRESS/state.pt" ]; then
    cp "$PROGRESS/state.pt" "$RUNS/main/state.pt"
    gunzip -c "$PROGRESS/log.jsonl.gz" > "$RUNS/main/log.jsonl"
fi
VISION=()  # a resumed run's state holds the tower too
if [ ! -f "$RUNS/main/state.pt" ]; then
    if [ -f "$PROGRESS/vision.pt" ]; then  # the pretrained tower a session committed
        VISION=(--vision-init "$PROGRESS/vision.pt")
    else
        [ -f "$RUNS/vision/vision.pt" ] && grep -q '"step": 2000,' "$RUNS/vision/log.jsonl" ||
            $PY tools/train/pretrain_vision.py "$RUNS/vision" --arch llada-v --steps 2000 --images 16 --lr 3e-3 \
                --val-every 100 --threads 2
        VISION=(--vision-init "$RUNS/vision/vision.pt")
    fi
fi
# One image a sequence with 8 single-turn questions about it packed after the shared prompt (each
# computed as if alone: llada_v_objective.py). The picture's rows: the tile max-pooled 2x2, no base
# view (169 rows; llada_v_checkpoint.SHAPE says why). No projector-alignment phase: aligning to a
# random language model stayed flat (loss 4.83 over 720 steps). The tower stays as pretrained and
# the rate is 5e-4: at 2e-3 the tower trained along lost its shapes (a linear classifier at object
# centres 91% -> 47% in 1700 steps) and, frozen, the language model learned colours but not shapes;
# at 5e-4, frozen, shapes of one-object scenes reached 95% in 400 steps (README, run 10); trained
# along at 0.3x from step 4000, the shape probe fell from 95% to 28% by step 5000, frozen it held
# (89%; run 11). For the first 2000 steps the answers carry no trailing
# pads: with them, the probe (llada_v_probe.py: one-object scenes) stayed at chance for 400 steps;
# without them it passed 50% by step 200 (README, run 9). For the first 4000 steps colour and shape
# questions only (the curriculum dimple-shapes needed) about scenes of 1-3 objects, mostly one;
# long answers asked more often later.
$PY tools/train/train.py "$RUNS/main" --arch llada-v --recipe diffusion --resume --steps 24000 --images 4 \
    --questions 8 --lr 5e-4 --align-frac 0 --val-every 500 --threads 2 "${BF16[@]}" \
    "${VISION[@]}" --vision-lr-scale 0 \
    --first-kinds '{"color": 1, "shape": 1}' --first-objects '{"1": 3, "2": 2, "3": 1}' --first-steps 4000 \
    --pad-free-steps 2000 --rewarm-at 2000,4000 --rewarm-steps 300 \
    --kind-weights '{"count_color": 2, "exists": 2, "leftmost": 2, "describe": 4, "json": 4}' "$@"
# What the next session resumes from: the weights and the step (no optimizer moments: a third of the
# size), and the log (every step's line gzipped: the card's plots).
mkdir -p "$PROGRESS"
if [ ! -f "$PROGRESS/vision.pt" ] && ((${#VISION[@]})); then cp "${VISION[1]}" "$PROGRESS/vision.pt"; fi
$PY -c "import sys, torch; st = torch.load(sys.argv[1]); torch.save({'w': st['w'], 'step': st['step'], 'opt': None}, sys.argv[2])" \
    "$RUNS/main/state.pt" "$PROGRESS/state.pt"
gzip -9 -c "$RUNS/main/log.jsonl" > "$PROGRESS/log.jsonl.gz"
echo "state at step $($PY -c "import sys, torch; print(torch.load(sys.argv[1])['step'])" "$PROGRESS/state.pt") in $PROGRESS (commit it)"
