# Sourced by retrain.sh and hour.sh (which set PY): Dimple's recipe (autoregressive, then
# diffusion) and the pure-diffusion baseline with the same flags, side by side, one core each, then
# both loss curves in RUNS_DIR/loss.png.
#   both_recipes RUNS_DIR [train.py flags]
both_recipes() {
    local runs=$1
    shift
    OMP_NUM_THREADS=1 $PY tools/train/train.py "$runs/main" --recipe ar-then-diffusion "$@" > "$runs/main.out" 2>&1 &
    local main=$!
    OMP_NUM_THREADS=1 $PY tools/train/train.py "$runs/baseline" --recipe diffusion "$@" > "$runs/baseline.out" 2>&1 &
    local baseline=$!
    echo "training both recipes: progress in $runs/main.out and $runs/baseline.out"
    wait $main
    wait $baseline
    $PY tools/train/plot.py "$runs/loss.png" "$runs/main/log.jsonl" "$runs/baseline/log.jsonl"
}
