#!/usr/bin/env bash
# One device session's CUDA checks, run from the repository root on a GPU machine: the neuromod
# tests (the [cuda] parity tests among them), then the benchmark against PyTorch eager. Expects the
# binaries of a CUDA build (and the Debian libraries they link, for a machine that lacks them)
# under .device/ (see bench/RESULTS.md, "CUDA backend", for how they were copied there). Logs and
# JSON go to $OUT (seven files: the device tool brings back eight at most).
set -uo pipefail
OUT=${OUT:-/tmp/locus-cuda-out}
mkdir -p "$OUT"
cublas_dir=$(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null || true)
export LD_LIBRARY_PATH="$PWD/.device/lib:/usr/local/cuda/lib64:${cublas_dir}:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv
ldd .device/bin/locus_neuromod_tests | grep -E "not found|cublas" || true
date -u
# Every neuromod test: the [cuda] parity tests, and the behaviour tests that run on each backend
# the machine has (semantic_backends(): checkpoints resumed, interference, weight sets).
timeout "${TEST_TIMEOUT:-200}" .device/bin/locus_neuromod_tests ${TEST_FILTER:-} 2>&1 | tee "$OUT/cuda_tests.log" | tail -60
echo "tests exit: ${PIPESTATUS[0]}"
[ "${SKIP_BENCH:-0}" = 1 ] && exit 0
PYTHONUNBUFFERED=1 timeout "${BENCH_TIMEOUT:-300}" python3 bench/perf/run_cuda_bench.py \
  --locus .device/bin/locus_bench_cuda --out "$OUT/cuda_bench.json" ${BENCH_ARGS:-} 2>&1 | tee "$OUT/cuda_bench.log"
echo "bench exit: ${PIPESTATUS[0]}"
# Agents with their own weights (weight sets): strided batched GEMMs against torch.bmm, rows
# grouped by agent, then interleaved (locus sorts the rows by set once per batch).
if [ "${AGENTS:-1}" = 1 ]; then
  for layout in grouped interleaved; do
    flag=$([ $layout = interleaved ] && echo --interleave-agents)
    PYTHONUNBUFFERED=1 timeout "${AGENTS_TIMEOUT:-150}" python3 bench/perf/run_cuda_bench.py \
      --locus .device/bin/locus_bench_cuda --width 400 1024 --batch 1024 8192 65536 --agents 16 64 \
      $flag --out "$OUT/cuda_bench_agents_$layout.json" 2>&1 | tail -16 | tee -a "$OUT/cuda_bench.log"
  done
fi
# Kernel versions and precision, locus side only (the peer's figures above are the comparison).
if [ "${VERSIONS:-1}" = 1 ]; then
  .device/bin/locus_bench_cuda --no-ceilings --unfused --width 400 --batch 8192 65536 --contexts 16 256 \
    --json "$OUT/cuda_bench_two_pass.json" 2>&1 | tee -a "$OUT/cuda_bench.log"
  PYTHONUNBUFFERED=1 python3 bench/perf/run_cuda_bench.py --locus .device/bin/locus_bench_cuda --tf32 \
    --width 400 4096 --batch 8192 65536 --contexts 16 256 --out "$OUT/cuda_bench_tf32.json" 2>&1 \
    | tail -8 | tee -a "$OUT/cuda_bench.log"
fi
