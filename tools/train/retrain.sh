#!/usr/bin/env bash
# Retrains models/dimple-shapes from scratch, as it was trained: vision pretraining (one core), then
# Dimple's recipe (autoregressive, then diffusion) and the pure-diffusion baseline side by side (one
# core each), both from the pretrained tower, then five more stages of diffusion tuning of Dimple's
# run: the language model's rotary base lowered to 50 (so that the horizontal image position reaches
# its attention), the vision tower trained along (so that it tells apart objects that share a token
# column), crowded scenes asked more often, twice (the second time at 64 image tokens), then JSON
# more (models/dimple-shapes/README.md says why). About 6.2 hours on 2 cores (vision about 6 minutes,
# 17 before the reference's vision attention went segment by segment; the two runs side by side 77,
# the stages 58, 72, 52, 84 and 32 on one core each). Seeds are fixed. A whole run from scratch in
# about an hour, to a weaker model: tools/train/hour.sh.
#   bash tools/train/retrain.sh [RUNS_DIR (default runs)]
# Then: cp RUNS_DIR/json/model/* models/dimple-shapes/ and measure (models/dimple-shapes/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-runs}
PY=/usr/bin/python3
source tools/train/both_recipes.sh
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
$PY tools/train/pretrain_vision.py "$RUNS/vision" --steps 3000 --images 16 --lr 3e-3 --val-every 100
# Colour and shape questions only for the first 3000 steps, the pretrained tower frozen throughout,
# colour-keyed and long-answer kinds weighted up (models/dimple-shapes/README.md says why).
common=(--steps 34000 --images 4 --questions 4 --lr 2e-3 --val-every 500
        --vision-init "$RUNS/vision/vision.pt" --vision-lr-scale 0
        --first-kinds '{"color": 1, "shape": 1}' --first-steps 3000
        --kind-weights '{"count_color": 2, "exists": 2, "leftmost": 2, "describe": 3, "json": 3}')
both_recipes "$RUNS" "${common[@]}"
# Stages 2-6: diffusion tuning, each a fresh schedule from the previous stage's weights, fresh data
# (its own seed), rope_theta 50, 4 images x 4 questions a step; progress in RUNS_DIR/NAME.out.
tune() {  # NAME FROM SEED [train.py flags]
    local name=$1 from=$2 seed=$3
    shift 3
    $PY tools/train/train.py "$RUNS/$name" --recipe diffusion-tuning --init-from "$RUNS/$from/state.pt" \
        --seed "$seed" --images 4 --questions 4 --val-every 500 --shape '{"rope_theta": 50.0}' "$@" \
        > "$RUNS/$name.out" 2>&1
}
# Stage 2: rope_theta 50 instead of 10000, the kinds that order or bind objects weighted up.
tune tuned main 2 --steps 24000 --lr 1e-3 --vision-lr-scale 0 \
    --kind-weights '{"count_color": 2, "exists": 2, "leftmost": 3, "describe": 4, "json": 4, "color": 2, "shape": 2}'
# Stage 3: the vision tower trains too (0.3x the learning rate), counting and colour-keyed kinds
# weighted up again.
W3='{"count": 2, "count_color": 3, "count_shape": 2, "exists": 3, "leftmost": 1, "describe": 4, "json": 4, "color": 2, "shape": 2}'
tune tower tuned 3 --steps 28000 --lr 5e-4 --vision-lr-scale 0.3 --kind-weights "$W3"
# Stage 4: scenes of 3 and 4 objects three times as often, Describe and JSON weighted 6.
W4='{"count": 2, "count_color": 3, "count_shape": 2, "exists": 3, "leftmost": 1, "describe": 6, "json": 6, "color": 2, "shape": 2}'
tune crowded tower 4 --steps 20000 --lr 3e-4 --vision-lr-scale 0.3 \
    --object-weights '{"1": 1, "2": 1, "3": 3, "4": 3}' --kind-weights "$W4"
# Stage 5: images up to 64 tokens, crowded scenes 4x as often, Describe and JSON weighted 8, the
# tower at 0.5x.
W5='{"count": 2, "count_color": 3, "count_shape": 2, "exists": 3, "leftmost": 1, "describe": 8, "json": 8, "color": 2, "shape": 2}'
tune crowded2 crowded 5 --steps 24000 --lr 3e-4 --vision-lr-scale 0.5 --max-image-tokens 64 \
    --object-weights '{"1": 1, "2": 1, "3": 4, "4": 4}' --kind-weights "$W5"
# Stage 6: JSON weighted 12, half the learning rate.
W6='{"count": 2, "count_color": 3, "count_shape": 2, "exists": 3, "leftmost": 1, "describe": 8, "json": 12, "color": 2, "shape": 2}'
tune json crowded2 6 --steps 9000 --lr 1.5e-4 --vision-lr-scale 0.5 --max-image-tokens 64 \
    --object-weights '{"1": 1, "2": 1, "3": 4, "4": 4}' --kind-weights "$W6"
echo "done: $RUNS/json/model (Dimple's recipe, tuned in five stages: the shipped model),"
echo "      $RUNS/main/model (before tuning), $RUNS/baseline/model (pure diffusion, the same budget as main)"
