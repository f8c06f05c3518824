#!/usr/bin/env bash
# The whole test suite: install, build, then every test (Catch2 tests and the oracle tests that
# compare locus with numpy and Gymnasium, all registered with CTest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
