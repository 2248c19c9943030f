#!/usr/bin/env bash
# A whole training run from scratch in about an hour on 2 cores: vision pretraining (both cores),
# then Dimple's recipe (autoregressive, then diffusion) and the pure-diffusion baseline side by side
# (one core each), from the pretrained tower. It is retrain.sh's first stage with what its later
# stages taught built in from the first step (rope_theta 50, the tower trained along after the
# colour/shape curriculum, crowded scenes and long answers asked more often) and matrix products in
# bfloat16. 56 minutes on the development VM (AMD EPYC Zen 5, 2 cores); seeds are fixed. Its model
# is weaker than the shipped one (retrain.sh, about 6.2 hours): models/dimple-shapes/README.md.
#   bash tools/train/hour.sh [RUNS_DIR (default runs-hour)]
# Then: build/dimple eval --model RUNS_DIR/main/model --data EVAL/eval.jsonl (make_eval_set.py EVAL).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-runs-hour}
PY=/usr/bin/python3
source tools/train/both_recipes.sh
mkdir -p "$RUNS"
export OMP_WAIT_POLICY=passive
# bfloat16 products are about 1.5x faster where the CPU has them (AVX512_BF16, AMX) and emulated,
# slower than f32, where it does not.
BF16=()
grep -q -E 'avx512_bf16|amx_bf16' /proc/cpuinfo && BF16=(--bf16)
OMP_NUM_THREADS=2 $PY tools/train/pretrain_vision.py "$RUNS/vision" --steps 3000 --images 16 --lr 3e-3 \
    --val-every 100 --threads 2 "${BF16[@]}"
# The tower at 0.2x the learning rate: at 0.5x it lost the colours (the card says so).
common=(--steps 28000 --images 4 --questions 4 --lr 2e-3 --val-every 500 "${BF16[@]}"
        --shape '{"rope_theta": 50.0}' --vision-init "$RUNS/vision/vision.pt"
        --vision-lr-scale 0.2 --freeze-vision-until 3000
        --first-kinds '{"color": 1, "shape": 1}' --first-steps 3000
        --object-weights '{"1": 1, "2": 1, "3": 2, "4": 2}'
        --kind-weights '{"count_color": 2, "exists": 2, "leftmost": 2, "describe": 4, "json": 4}')
both_recipes "$RUNS" "${common[@]}"
echo "done: $RUNS/main/model (Dimple's recipe), $RUNS/baseline/model (pure diffusion, the same budget)"
