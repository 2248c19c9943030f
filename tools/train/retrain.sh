#!/usr/bin/env bash
# Retrains models/dimple-shapes from scratch, as it was trained: vision pretraining (one core), then
# Dimple's recipe (autoregressive, then diffusion) and the pure-diffusion baseline side by side (one
# core each), both from the pretrained tower. About an hour on 2 quiet cores. Seeds are fixed.
#   bash tools/train/retrain.sh [RUNS_DIR (default runs)]
# Then: cp RUNS_DIR/main/model/* models/dimple-shapes/ and measure (models/dimple-shapes/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-runs}
PY=/usr/bin/python3
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
$PY tools/train/pretrain_vision.py "$RUNS/vision" --steps 3000 --images 16 --lr 3e-3 --val-every 100
common=(--steps 13000 --images 4 --questions 4 --lr 2e-3 --val-every 500
        --vision-init "$RUNS/vision/vision.pt" --vision-lr-scale 0.3)
$PY tools/train/train.py "$RUNS/main" --recipe ar-then-diffusion "${common[@]}" > "$RUNS/main.out" 2>&1 &
main=$!
$PY tools/train/train.py "$RUNS/baseline" --recipe diffusion "${common[@]}" > "$RUNS/baseline.out" 2>&1 &
baseline=$!
echo "training both recipes: progress in $RUNS/main.out and $RUNS/baseline.out"
wait $main
wait $baseline
$PY tools/train/plot.py "$RUNS/loss.png" "$RUNS/main/log.jsonl" "$RUNS/baseline/log.jsonl"
echo "done: $RUNS/main/model (Dimple's recipe), $RUNS/baseline/model (pure diffusion)"
