#!/usr/bin/env bash
# Installs what locus needs and builds it; safe to run again (each step is skipped when done).
#   Debian packages (apt-get), a Python virtual environment in .venv (pip), then a CMake build in
#   build/ and the Python package `locus` installed into .venv. Used by scripts/quickstart.sh and
#   scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DEBIAN_PACKAGES=(
  build-essential cmake git pkg-config
  libtbb-dev libxtensor-dev libxsimd-dev libopenblas-dev
  catch2 pybind11-dev libcli11-dev nlohmann-json3-dev libfmt-dev zlib1g-dev libbenchmark-dev
  libyaml-cpp-dev dataset-fashion-mnist
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
  local stamp="$ROOT/.venv/.requirements.sha256"
  if [[ ! -x "$ROOT/.venv/bin/python" ]]; then
    log "Python: creating .venv"
    python3 -m venv "$ROOT/.venv"
  fi
  local want
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "Python packages: up to date"
    return
  fi
  log "Python packages: installing from scripts/requirements.txt"
  "$ROOT/.venv/bin/python" -m pip install -q --upgrade pip
  "$ROOT/.venv/bin/python" -m pip install -q -r "$requirements"
  echo "$want" >"$stamp"
}

build() {
  local build_dir="$ROOT/build"
  if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    log "CMake: configuring build/"
    cmake -S "$ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
      -DPython3_EXECUTABLE="$ROOT/.venv/bin/python" ${LOCUS_CMAKE_ARGS:-}
  fi
  log "CMake: building with $(nproc) jobs"
  cmake --build "$build_dir" -j"$(nproc)"
}

install_python_package() {
  # The Python package `locus` (pyproject.toml: scikit-build-core builds python/ with this CMake
  # project), installed into .venv only when its sources changed since the last install: the stamp
  # is a hash of every file that goes into it. The kept build folder makes a reinstall recompile
  # only what changed; --no-build-isolation uses .venv's scikit-build-core and pybind11 (listed in
  # scripts/requirements.txt) instead of fetching them for each build.
  local stamp="$ROOT/.venv/.locus-package.sha256"
  local want
  want=$(cd "$ROOT" && find pyproject.toml CMakeLists.txt cmake util envs neuromod agents bench \
    python/CMakeLists.txt python/src python/locus -type f ! -name '*.pyc' -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] &&
    (cd / && "$ROOT/.venv/bin/python" -c 'import locus' 2>/dev/null); then
    log "Python package locus: up to date"
    return
  fi
  log "Python package locus: installing into .venv (pip install .)"
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$ROOT/.venv/bin/python" -m pip install -q \
    --no-build-isolation -Cbuild-dir="$ROOT/build/python-package" "$ROOT"
  echo "$want" >"$stamp"
}

install_debian_packages
setup_python
build
install_python_package
