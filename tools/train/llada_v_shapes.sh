#!/usr/bin/env bash
# Trains models/llada-v-shapes, the from-scratch dMLLM beside dimple-shapes (issue 27): LLaDA-V's
# architecture at toy width (tools/train/llada_v_checkpoint.py), trained with LLaDA's masked-diffusion
# objective from the first step, no autoregressive phase. Vision pretraining (the stand-in for the
# pretrained SigLIP LLaDA-V starts from, as dimple-shapes' stands in for Qwen2.5-VL's), then
# projector alignment and diffusion tuning of everything but the tower. Both cores; seeds fixed.
# Resumable: run it again after a stop and the language phase goes on from its last state.pt.
#   bash tools/train/llada_v_shapes.sh [RUNS_DIR (default runs-llada-v)] [--stop-at HH:MM]
# Then: cp RUNS_DIR/main/model/* models/llada-v-shapes/ (and the siglip-shapes folder) and measure.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-runs-llada-v}
shift || true
PY=/usr/bin/python3
mkdir -p "$RUNS"
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2
BF16=()
grep -q -E 'avx512_bf16|amx_bf16' /proc/cpuinfo && BF16=(--bf16)
[ -f "$RUNS/vision/vision.pt" ] && grep -q '"step": 2000,' "$RUNS/vision/log.jsonl" ||
    $PY tools/train/pretrain_vision.py "$RUNS/vision" --arch llada-v --steps 2000 --images 16 --lr 3e-3 \
        --val-every 100 --threads 2
# One image a sequence with 8 single-turn questions about it packed after the shared prompt (each
# computed as if alone: llada_v_objective.py; a picture's ~1300 rows cost far more than a question's
# ~20; with 1-4 questions a picture as one conversation, 850 steps taught not even which words
# answer which kind of question). For the first 4000 steps colour and shape questions only (the
# curriculum dimple-shapes needed) about scenes of 1-3 objects, mostly one (without it the model
# answered every colour question "purple" after 2000 steps: ~1300 image rows to search and no
# object to find by elimination); long answers asked more often later.
$PY tools/train/train.py "$RUNS/main" --arch llada-v --recipe diffusion --resume --steps 24000 --images 4 \
    --questions 8 --lr 2e-3 --align-frac 0.03 --val-every 500 --threads 2 "${BF16[@]}" \
    --vision-init "$RUNS/vision/vision.pt" --vision-lr-scale 0 \
    --first-kinds '{"color": 1, "shape": 1}' --first-objects '{"1": 3, "2": 2, "3": 1}' --first-steps 4000 \
    --kind-weights '{"count_color": 2, "exists": 2, "leftmost": 2, "describe": 4, "json": 4}' "$@"
