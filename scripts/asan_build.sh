# Sourced by scripts/sanitize.sh and scripts/fuzz.sh: the one AddressSanitizer + UndefinedBehavior-
# Sanitizer build both use, build-fuzz/ (clang, LOCUS_FUZZ=ON: every library compiled with
# -fsanitize=fuzzer-no-link,address,undefined; only the fuzz targets link libFuzzer itself).
# The envs tests (sanitize.sh) and the fuzz targets (fuzz.sh) share its instrumented libraries, so
# CI compiles them under ASan once: a GCC ASan build for the tests beside the clang one for the fuzz
# targets compiled the envs library (35 files, ~10 s each under ASan) twice.
# Without clang++ (or with CXX set to another compiler) it is built with that compiler under ASan
# and UBSan, and the fuzz targets link tests/fuzz/standalone_driver.cpp instead of libFuzzer.

ASAN_BUILD=$ROOT/build-fuzz

# configure_asan_build: configures $ASAN_BUILD unless it already is (with the tests' targets: a
# build-fuzz/ made before the envs tests moved here has LOCUS_TESTS off; and with the precompiled
# headers, see below).
configure_asan_build() {
  if [[ -f $ASAN_BUILD/CMakeCache.txt ]] && grep -q '^LOCUS_TESTS:BOOL=ON$' "$ASAN_BUILD/CMakeCache.txt" &&
    grep -q '^LOCUS_PRECOMPILE_HEADERS:BOOL=ON$' "$ASAN_BUILD/CMakeCache.txt" &&
    grep -q '^CMAKE_UNITY_BUILD:BOOL=ON$' "$ASAN_BUILD/CMakeCache.txt"; then
    return
  fi
  local launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  local compilers=(clang clang++)
  if ! command -v clang++ >/dev/null; then
    echo "[locus asan build] clang++ not found: building with g++; the fuzz targets get the seeded" \
      "random-input driver instead of libFuzzer" >&2
    compilers=(gcc g++)
  fi
  # -O1 -g1: what the sanitizers need for useful stacks, at half the compile time of -O2 -g.
  # LOCUS_PRECOMPILE_HEADERS: the common headers parsed once per target, not once per file
  # (cmake/LocusPrecompiledHeaders.cmake; ccache then compiles those files without caching them).
  # CMAKE_UNITY_BUILD: each target's sources compiled eight to a translation unit, which cuts this
  # build by 30 % (clean, 2 cores, no ccache: 8.1 -> 5.8 min for the envs tests and every fuzz
  # target); it also catches two files defining the same internal name.
  CC=${CC:-${compilers[0]}} CXX=${CXX:-${compilers[1]}} cmake -S "$ROOT" -B "$ASAN_BUILD" \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DLOCUS_FUZZ=ON -DLOCUS_TESTS=ON \
    -DLOCUS_PRECOMPILE_HEADERS=ON -DCMAKE_UNITY_BUILD=ON \
    -DLOCUS_BENCH=OFF -DLOCUS_CUDA=OFF -DLOCUS_PYTHON=OFF \
    -DPython3_EXECUTABLE="$ROOT/.venv/bin/python" "${launcher[@]}" >/dev/null
}
