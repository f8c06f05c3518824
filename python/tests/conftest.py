"""Shared fixtures of the locus Python tests.

The tests import ``locus`` from wherever the interpreter finds it: the build tree's copy when CTest
runs them from a build configured with -DLOCUS_PYTHON=ON (PYTHONPATH=<build>/python), otherwise
the package installed by ``pip install .`` (scripts/setup.sh does it).
"""

from __future__ import annotations

import warnings

import pytest

try:
    import locus
except ImportError as error:  # pragma: no cover - a set-up problem, reported as such
    raise ImportError(
        f"the locus package is not importable ({error}); install it with "
        "`.venv/bin/pip install .` (scripts/setup.sh does) or build with -DLOCUS_PYTHON=ON and "
        "put <build>/python on PYTHONPATH"
    ) from error


def pytest_addoption(parser):
    parser.addoption(
        "--plugin", default=None, help="path of the example plugin library (Corridor-v0)"
    )
    parser.addoption(
        "--locus-cli", default=None, help="path of the locus executable (test_train.py's CLI tests)"
    )


def pytest_report_header(config):
    return f"locus {locus.__version__} from {locus.__file__}"


@pytest.fixture
def plugin(request):
    path = request.config.getoption("--plugin")
    if path is None:
        pytest.skip("needs --plugin PATH (CTest passes the example plugin)")
    return path


class WarningRecorder:
    """Every warning raised inside the block, Gymnasium's logger.warn included."""

    def __enter__(self):
        self._context = warnings.catch_warnings(record=True)
        self.caught = self._context.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)

    @property
    def messages(self):
        return [str(w.message) for w in self.caught]


@pytest.fixture
def record_warnings():
    return WarningRecorder
