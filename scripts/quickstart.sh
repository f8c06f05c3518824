#!/usr/bin/env bash
# The main job: install, build, then run the default continual-learning sweep (Split and Rotated
# Fashion-MNIST, fine-tuning and joint training, with and without neuromodulation, 3 seeds; a few
# minutes on 2 cores), print its table and write its report. A rerun resumes the sweep (finished runs are
# skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
LOCUS=build/bin/locus
echo
echo "== Random-policy rollout (locus rollout --env CartPole-v1 --episodes 3 --seed 42)"
$LOCUS rollout --env CartPole-v1 --episodes 3 --seed 42
echo
echo "== Continual-learning sweep (locus sweep bench/configs/default.yaml --out runs/default)"
$LOCUS sweep bench/configs/default.yaml --jobs "$(nproc)" --out runs/default
echo
echo "== Report (locus report runs/default)"
$LOCUS report runs/default
echo "Open $(pwd)/runs/default/report.html to see the accuracy curves, the stability gap and the table."
