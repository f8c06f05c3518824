"""The ``locus`` command of a ``pip install .``: runs the C++ command line the wheel carries.

pip makes the console script ``locus`` call :func:`main`. The binary lies in the package
(site-packages/locus/_cli/locus, python/CMakeLists.txt); this module replaces the process with it
(exec keeps the exit status, signals and terminal). It is a module of its own, outside the
package, so that starting the command does not import ``locus`` (numpy and gymnasium: 0.3 s).

The binary runs Python for the report, the plots and Python environments (``module:Name``); this
interpreter, which has the package, is the one it gets (``LOCUS_PYTHON``), unless the user chose
another.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def binary_path() -> str:
    """The installed ``locus`` binary, found without importing the package."""
    spec = importlib.util.find_spec("locus")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("locus: error: the Python package locus is not installed; run `pip install .` in "
                 "the locus repository")
    return os.path.join(list(spec.submodule_search_locations)[0], "_cli", "locus")


def main() -> None:
    binary = binary_path()
    if not os.access(binary, os.X_OK):
        sys.exit(f"locus: error: the command line binary {binary} is missing or not executable; "
                 "reinstall the package with `pip install --force-reinstall .` in the locus "
                 "repository")
    if not os.environ.get("LOCUS_PYTHON"):
        os.environ["LOCUS_PYTHON"] = sys.executable
    os.execv(binary, ["locus", *sys.argv[1:]])


if __name__ == "__main__":
    main()
