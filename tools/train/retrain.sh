#!/usr/bin/env bash
# Retrains models/dimple-shapes from scratch, as it was trained: vision pretraining (one core), then
# Dimple's recipe (autoregressive, then diffusion) and the pure-diffusion baseline side by side (one
# core each), both from the pretrained tower. About 95 minutes on 2 cores (vision 17, then 77 for
# the two runs side by side). Seeds are fixed.
#   bash tools/train/retrain.sh [RUNS_DIR (default runs)]
# Then: cp RUNS_DIR/main/model/* models/dimple-shapes/ and measure (models/dimple-shapes/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-runs}
PY=/usr/bin/python3
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
$PY tools/train/pretrain_vision.py "$RUNS/vision" --steps 3000 --images 16 --lr 3e-3 --val-every 100
# Colour and shape questions only for the first 3000 steps, the pretrained tower frozen throughout,
# colour-keyed and long-answer kinds weighted up (models/dimple-shapes/README.md says why).
common=(--steps 34000 --images 4 --questions 4 --lr 2e-3 --val-every 500
        --vision-init "$RUNS/vision/vision.pt" --vision-lr-scale 0
        --first-kinds '{"color": 1, "shape": 1}' --first-steps 3000
        --kind-weights '{"count_color": 2, "exists": 2, "leftmost": 2, "describe": 3, "json": 3}')
$PY tools/train/train.py "$RUNS/main" --recipe ar-then-diffusion "${common[@]}" > "$RUNS/main.out" 2>&1 &
main=$!
$PY tools/train/train.py "$RUNS/baseline" --recipe diffusion "${common[@]}" > "$RUNS/baseline.out" 2>&1 &
baseline=$!
echo "training both recipes: progress in $RUNS/main.out and $RUNS/baseline.out"
wait $main
wait $baseline
$PY tools/train/plot.py "$RUNS/loss.png" "$RUNS/main/log.jsonl" "$RUNS/baseline/log.jsonl"
echo "done: $RUNS/main/model (Dimple's recipe), $RUNS/baseline/model (pure diffusion)"
