#!/usr/bin/env bash
# Makes .venv-compat: the Python package's oldest supported dependencies, with Stable-Baselines3.
#   pyproject.toml declares gymnasium>=1.0 and numpy>=1.24; .venv (scripts/setup.sh) tests the
#   latest releases, .venv-compat the lower bounds: gymnasium 1.0.0 from PyPI and Debian 12's
#   numpy 1.24. It also holds Stable-Baselines3 2.4.1 and sb3-contrib 2.4.0 (locus.sb3's tests)
#   on Debian's CPU-only PyTorch 1.13: PyPI's torch wheel pulls in gigabytes of CUDA libraries,
#   and 2.4.1 is the last SB3 release that accepts torch 1.13. Everything from PyPI goes in with --no-deps, so that pip
#   leaves Debian's torch and numpy alone. CTest's "compat:" test runs python/tests in it
#   (tests/compat/run_python_tests.sh). Safe to run again; scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DEBIAN_PACKAGES=(python3 python3-venv python3-numpy python3-torch python3-pandas python3-matplotlib
  python3-cloudpickle python3-pytest)
PYPI_PACKAGES=(gymnasium==1.0.0 farama-notifications==0.0.4 stable-baselines3==2.4.1
  sb3-contrib==2.4.0)

log() { printf '\033[1m[locus compat]\033[0m %s\n' "$*"; }

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]} > 0)); then
  log "Debian packages: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

venv=$ROOT/.venv-compat
stamp=$venv/.packages
want="${PYPI_PACKAGES[*]}"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  log ".venv-compat: up to date"
  exit 0
fi
log ".venv-compat: Debian's Python with ${PYPI_PACKAGES[*]}"
rm -rf "$venv"
# Debian's interpreter, not whichever python3 comes first on PATH: its numpy and torch are there.
/usr/bin/python3 -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install -q --no-deps "${PYPI_PACKAGES[@]}"
"$venv/bin/python" -c 'import gymnasium, numpy, sb3_contrib, stable_baselines3, torch' ||
  { echo "[locus compat] .venv-compat cannot import its packages" >&2; exit 1; }
echo "$want" >"$stamp"
