#!/usr/bin/env bash
# python/tests at the Python package's lowest supported versions, with Stable-Baselines3:
# run in .venv-compat (scripts/setup_compat.sh) against the build tree's package.
# Usage: run_python_tests.sh <compat-python> <build-dir> <source-dir> <plugin> <locus>
# Exit 77 (CTest's skip) when the interpreter is missing: scripts/test.sh makes it and fails on
# the skip.
set -euo pipefail
python=$1 build=$2 source=$3 plugin=$4 locus=$5
if [[ ! -x "$python" ]]; then
  echo "skipped: $python is missing; make it with scripts/setup_compat.sh"
  exit 77
fi
"$python" -c 'import gymnasium, numpy; print(f"gymnasium {gymnasium.__version__}, numpy {numpy.__version__}")'
cd "$source/python/tests"
# test_tracking.py logs to MLflow and W&B, which .venv-compat does not install: it depends on
# neither gymnasium's nor numpy's version, and .venv runs it (tests/CMakeLists.txt).
PYTHONPATH=$build/python exec "$python" -m pytest -q -p no:cacheprovider . \
  --ignore=test_tracking.py --plugin "$plugin" --locus-cli "$locus"
