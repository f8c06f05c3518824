#!/usr/bin/env bash
# The main job: install, build, then show what locus can do end to end today: the registered
# environments, a seeded random-policy CartPole rollout, and environment throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
LOCUS=build/bin/locus
echo
echo "== Registered environments (locus envs)"
$LOCUS envs
echo
echo "== API check of CartPole-v1 (locus check CartPole-v1)"
$LOCUS check CartPole-v1
echo
echo "== Random-policy rollout (locus rollout --env CartPole-v1 --episodes 10 --seed 42)"
$LOCUS rollout --env CartPole-v1 --episodes 10 --seed 42
