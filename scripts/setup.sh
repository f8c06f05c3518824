#!/usr/bin/env bash
# Installs what locus needs and builds it; safe to run again (each step is skipped when done).
#   Debian packages (apt-get), a Python virtual environment in .venv (pip), then a CMake build in
#   build/ (with the Python package `locus`, which .venv imports from there). Used by scripts/quickstart.sh and
#   scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DEBIAN_PACKAGES=(
  build-essential cmake git pkg-config
  libtbb-dev libxtensor-dev libxsimd-dev libopenblas-dev
  catch2 pybind11-dev libcli11-dev nlohmann-json3-dev libfmt-dev zlib1g-dev libbenchmark-dev
  libyaml-cpp-dev dataset-fashion-mnist
  libopenmpi-dev openmpi-bin  # mpirun locus sweep (bench/mpi)
  clang libclang-rt-14-dev  # scripts/fuzz.sh: clang with libFuzzer and its sanitizer runtimes
  clang-format clang-tidy  # scripts/lint.sh
  python3 python3-dev python3-venv python3-pip
)

log() { printf '\033[1m[locus setup]\033[0m %s\n' "$*"; }

install_debian_packages() {
  local missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    log "Debian packages: all present"
    return
  fi
  log "Debian packages: installing ${missing[*]}"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

setup_python() {
  # A virtual environment keeps pip away from the system Python (PEP 668) and pins the
  # interpreter that CMake and the tests use.
  local requirements="$ROOT/scripts/requirements.txt"
  local no_deps="$ROOT/scripts/requirements-no-deps.txt"
  local stamp="$ROOT/.venv/.requirements.sha256"
  if [[ ! -x "$ROOT/.venv/bin/python" ]]; then
    log "Python: creating .venv"
    python3 -m venv "$ROOT/.venv"
  fi
  local want
  want=$(cat "$requirements" "$no_deps" | sha256sum | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "Python packages: up to date"
    return
  fi
  log "Python packages: installing from scripts/requirements.txt and requirements-no-deps.txt"
  "$ROOT/.venv/bin/python" -m pip install -q --upgrade pip
  "$ROOT/.venv/bin/python" -m pip install -q -r "$requirements"
  # Their own pins would pull other versions of the packages above (requirements-no-deps.txt).
  "$ROOT/.venv/bin/python" -m pip install -q --no-deps -r "$no_deps"
  echo "$want" >"$stamp"
}

build() {
  # LOCUS_PYTHON=ON: the build also makes the Python package (build/python/locus: the module _core
  # and the package's Python files), which .venv then imports (install_python_package).
  # CMAKE_UNITY_BUILD: each target's sources compiled eight to a translation unit, which halves a
  # clean build (what a fresh clone and CI do; 2 cores, no ccache: 9.9 -> 5.3 min). For an
  # edit-compile loop, where it recompiles a file's seven companions too, configure build/ with
  # LOCUS_CMAKE_ARGS=-DCMAKE_UNITY_BUILD=OFF (or use a build directory of your own).
  local build_dir="$ROOT/build"
  if [[ ! -f "$build_dir/CMakeCache.txt" ]] ||
    ! grep -q '^LOCUS_PYTHON:BOOL=ON$' "$build_dir/CMakeCache.txt"; then
    log "CMake: configuring build/"
    cmake -S "$ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DLOCUS_PYTHON=ON \
      -DCMAKE_UNITY_BUILD=ON -DPython3_EXECUTABLE="$ROOT/.venv/bin/python" ${LOCUS_CMAKE_ARGS:-}
  fi
  log "CMake: building with $(nproc) jobs"
  cmake --build "$build_dir" -j"$(nproc)"
}

install_python_package() {
  # .venv imports the package `locus` from the build tree through a .pth file: the C++ libraries
  # are compiled once (a `pip install .` compiles them all again, in Release without the tests'
  # targets), and `import locus` always matches the last build. `pip install .` still makes a
  # standalone copy for other environments (docs/python.md).
  local site
  site=$("$ROOT/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  if "$ROOT/.venv/bin/python" -m pip show locus >/dev/null 2>&1; then
    log "Python package locus: removing the pip-installed copy (.venv uses build/python)"
    "$ROOT/.venv/bin/python" -m pip uninstall -q -y locus
  fi
  rm -f "$ROOT/.venv/.locus-package.sha256"
  printf '%s\n' "$ROOT/build/python" >"$site/locus-build-tree.pth"
  if ! (cd / && "$ROOT/.venv/bin/python" -c 'import locus' 2>/dev/null); then
    echo "[locus setup] .venv cannot import locus from $ROOT/build/python; rebuild with" \
      "'cmake --build build' and check that build/python/locus/_core*.so exists" >&2
    exit 1
  fi
  log "Python package locus: .venv imports build/python/locus"
}

install_debian_packages
setup_python
build
install_python_package
