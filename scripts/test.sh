#!/usr/bin/env bash
# The whole test suite: install and build, the format and clang-tidy checks (scripts/lint.sh;
# LOCUS_SKIP_LINT=1 skips them), the sanitizer builds of a subset (ASan/UBSan and TSan, see
# scripts/sanitize.sh; LOCUS_SKIP_SANITIZERS=1 skips them), the parsers' fuzz targets for a
# bounded time (scripts/fuzz.sh; LOCUS_SKIP_FUZZ=1 skips them), then every test registered with CTest
# (Catch2 tests and the oracle tests that compare locus with numpy, Gymnasium and NeuroGym), whose
# summary ends the output with the tests that skipped. An oracle test that skips fails the run: its
# reference is installed by scripts/setup.sh, so a skip means the comparison silently stopped. So
# does the compat test (python/tests at the lowest supported gymnasium and numpy, with
# Stable-Baselines3), whose environment scripts/setup_compat.sh makes.
set -euo pipefail
cd "$(dirname "$0")/.."
# The time each part took, printed when the script ends (however it ends): CI's budget is 25 min.
timings=()
phase() {  # name command...
  local name=$1 start=$SECONDS
  shift
  "$@"
  timings+=("$name $((SECONDS - start)) s")
}
print_timings() {
  local joined
  joined=$(printf '%s, ' "${timings[@]}")
  echo "[locus tests] time: ${joined%, }; ${SECONDS} s in all"
}
trap print_timings EXIT

run_ctest() {
  local report=$PWD/build/ctest-junit.xml
  rm -f "$report"
  ctest_status=0
  ctest --test-dir build --output-on-failure -j"$(nproc)" --output-junit "$report" || ctest_status=$?
  skip_status=0
  .venv/bin/python scripts/skipped_tests.py "$report" --require '^(oracle|compat): ' ||
    skip_status=$?
}

phase setup bash scripts/setup.sh
phase compat-setup bash scripts/setup_compat.sh
phase lint bash scripts/lint.sh
phase sanitizers bash scripts/sanitize.sh
# Every parser's target, briefly (10 s each, two at a time): CI's time is mostly the build.
phase fuzz env LOCUS_FUZZ_SECONDS="${LOCUS_FUZZ_SECONDS:-10}" bash scripts/fuzz.sh
phase ctest run_ctest
if ((ctest_status != 0)); then exit "$ctest_status"; fi
exit "$skip_status"
