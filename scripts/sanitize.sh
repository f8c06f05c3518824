#!/usr/bin/env bash
# Sanitizer builds of a subset of the tests, run by scripts/test.sh after the main suite:
#   build-fuzz/  AddressSanitizer + UndefinedBehaviorSanitizer (clang): the envs tests (memory errors,
#                UB in the packed buffers, the spaces and the seeding code); scripts/fuzz.sh builds
#                its targets in the same build (scripts/asan_build.sh)
#   build-tsan/  ThreadSanitizer: the tests that run TBB workers (VectorEnv)
# Each build holds only the test executables it runs, so this stays a few minutes on 2 cores.
# LOCUS_SKIP_SANITIZERS=1 skips it (for quick local runs; CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [[ "${LOCUS_SKIP_SANITIZERS:-0}" == "1" ]]; then
  echo "[locus sanitizers] skipped (LOCUS_SKIP_SANITIZERS=1)"
  exit 0
fi

configure_and_build() {  # dir sanitizers targets...
  local dir=$1 sanitizers=$2
  shift 2
  if [[ ! -f "$ROOT/$dir/CMakeCache.txt" ]] ||
    ! grep -q '^LOCUS_PRECOMPILE_HEADERS:BOOL=ON$' "$ROOT/$dir/CMakeCache.txt" ||
    ! grep -q '^CMAKE_UNITY_BUILD:BOOL=ON$' "$ROOT/$dir/CMakeCache.txt"; then
    # -O1 -g1: what the sanitizers need for useful stacks, at half the compile time of -O2 -g
    # (-g0 saved 2% more: not worth the line numbers). LOCUS_PRECOMPILE_HEADERS: the common headers
    # parsed once per target (cmake/LocusPrecompiledHeaders.cmake). CMAKE_UNITY_BUILD: eight sources
    # to a translation unit (scripts/asan_build.sh says what it saves).
    cmake -S "$ROOT" -B "$ROOT/$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DLOCUS_CUDA=OFF \
      -DLOCUS_BENCH=OFF -DLOCUS_SANITIZE="$sanitizers" -DLOCUS_PRECOMPILE_HEADERS=ON -DCMAKE_UNITY_BUILD=ON \
      -DPython3_EXECUTABLE="$ROOT/.venv/bin/python" >/dev/null
  fi
  cmake --build "$ROOT/$dir" -j"$(nproc)" --target "$@"
}

echo "[locus sanitizers] address,undefined: envs tests"
# shellcheck source=scripts/asan_build.sh
source "$ROOT/scripts/asan_build.sh"
configure_asan_build
cmake --build "$ASAN_BUILD" -j"$(nproc)" --target locus_envs_tests locus_corridor_plugin
# The allocation-counting test replaces operator new, which ASan also wraps: run it in the main
# suite only.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$ASAN_BUILD/bin/locus_envs_tests" "~*allocates nothing*" --reporter compact

echo "[locus sanitizers] thread: VectorEnv tests"
# locus_envs_vector_tests: the envs test files that hold [vector] cases (tests/CMakeLists.txt).
configure_and_build build-tsan thread locus_envs_vector_tests
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/scripts/tsan.supp" \
  "$ROOT/build-tsan/bin/locus_envs_vector_tests" "[vector]" --reporter compact
echo "[locus sanitizers] thread: the suppressions still catch a real race"
canary="$ROOT/build-tsan/tsan_race_canary"
g++ -std=c++20 -O1 -g -fsanitize=thread -I"$ROOT" "$ROOT/tests/util/tsan_race_canary.cpp" -ltbb \
  -o "$canary"
TSAN_OPTIONS="halt_on_error=1:suppressions=$ROOT/scripts/tsan.supp" "$canary"
if TSAN_OPTIONS="halt_on_error=1:exitcode=66:suppressions=$ROOT/scripts/tsan.supp" \
  "$canary" --race >/dev/null 2>&1; then
  echo "[locus sanitizers] ThreadSanitizer missed the deliberate race: check scripts/tsan.supp" >&2
  exit 1
fi
echo "[locus sanitizers] all clean"
