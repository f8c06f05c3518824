"""Imports NeuroGym's task classes whether or not the whole package imports.

NeuroGym 2.x imports torch in its package __init__ (for a monitor wrapper) and pins gymnasium
0.29; where that import fails, the packages on the way to the task modules are registered as plain
namespaces, so that the task modules' own imports (neurogym.core, neurogym.utils.spaces) resolve
without running the package's __init__. Used by the NeuroGym oracles (tests/envs) and the NeuroGym
peer benchmark (bench/perf/peers_cognitive.py).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from importlib import metadata
from pathlib import Path


def import_neurogym_task(module: str, name: str):
    """(class, NeuroGym's version, how it was imported) for neurogym.envs.native.<module>.<name>.

    Raises ImportError when NeuroGym is not installed or the task module cannot be imported.
    """
    if importlib.util.find_spec("neurogym") is None:
        raise ImportError("neurogym is not installed (pip install --no-deps neurogym==2.3.1; see "
                          "scripts/requirements-no-deps.txt)")
    version = metadata.version("neurogym")
    qualified = f"neurogym.envs.native.{module}"
    try:
        return getattr(importlib.import_module(qualified), name), version, "import neurogym"
    except ImportError as error:
        reason = f"{type(error).__name__}: {error}"
    for loaded in [m for m in sys.modules if m == "neurogym" or m.startswith("neurogym.")]:
        del sys.modules[loaded]
    root = Path(importlib.util.find_spec("neurogym").origin).parent
    for package, folder in [("neurogym", root), ("neurogym.utils", root / "utils"),
                            ("neurogym.envs", root / "envs"),
                            ("neurogym.envs.native", root / "envs" / "native")]:
        namespace = types.ModuleType(package)
        namespace.__path__ = [str(folder)]
        sys.modules[package] = namespace
    task = getattr(importlib.import_module(qualified), name)
    return task, version, f"task module loaded directly ({reason})"
