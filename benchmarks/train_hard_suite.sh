#!/usr/bin/env bash
# Train the learned tracker on every hard-scene preset, HSTE and its Gumbel-Sinkhorn twin at equal
# budget (hste train's defaults: the same scenes, steps and noise samples), one run at a time.
#
#   benchmarks/train_hard_suite.sh [OUT [PRESET ...]]
#
# OUT (default docs/results/hard/learned) gets OUT/<preset>/<operator>/{best.pt,log.csv}; the
# checkpoints hold their training config (mode, preset, operator). OPERATORS (default "hste
# sinkhorn") chooses the operators, e.g. OPERATORS="perturbed blackbox hste-softmax"; TRAIN_ARGS
# adds hste train options to every run (e.g. TRAIN_ARGS="--frames 30"). Score with
#   .venv/bin/python benchmarks/hard_scenes.py --models OUT
set -euo pipefail
out=${1:-docs/results/hard/learned}
shift || true
presets=("$@")
if [ ${#presets[@]} -eq 0 ]; then
  presets=(formation sea-clutter manoeuvring low-snr pointcloud-groups heavy-clutter)
fi
hste=${HSTE:-.venv/bin/hste}
for preset in "${presets[@]}"; do
  for operator in ${OPERATORS:-hste sinkhorn}; do
    run="$out/$preset/$operator"
    if [ -f "$run/best.pt" ] && [ -f "$run/log.csv" ]; then
      echo "== $run exists, skipped"; continue
    fi
    echo "== $preset $operator ($(date -u +%H:%M:%S))"
    start=$(date +%s)
    "$hste" train --preset "$preset" --mode supervised --operator "$operator" \
      --out "out/hard_suite/$preset-$operator" --overwrite ${TRAIN_ARGS:-}
    mkdir -p "$run"
    cp "out/hard_suite/$preset-$operator/best.pt" "out/hard_suite/$preset-$operator/log.csv" "$run/"
    echo "== $preset $operator done in $(( $(date +%s) - start )) s"
  done
done
