"""What the installed references can be compared on: markers for tests that need more than the
lowest versions locus supports (gymnasium 1.0, numpy 1.24; tests/compat runs python/tests there).
"""

from __future__ import annotations

import math

import gymnasium
import numpy as np
import pytest


def _numpy_trig_is_the_c_library() -> bool:
    # Gymnasium's classic-control envs call np.sin and np.cos; locus calls the C library's. numpy
    # 1.x computes float64 sin and cos with its own SIMD code on x86-64, which differs from the C
    # library's in the last bit for about half of all angles.
    angles = np.linspace(-4.0, 4.0, 4001)
    return bool(
        np.array_equal(np.sin(angles), [math.sin(a) for a in angles])
        and np.array_equal(np.cos(angles), [math.cos(a) for a in angles])
    )


_GYMNASIUM_VERSION = tuple(int(part) for part in gymnasium.__version__.split(".")[:2])

#: Bit-for-bit comparisons with Gymnasium's classic-control physics.
same_trig_as_numpy = pytest.mark.skipif(
    not _numpy_trig_is_the_c_library(),
    reason=f"numpy {np.__version__}'s sin and cos differ from the C library's (locus's) in the last "
    "bit, so Gymnasium's physics does too; compared bit for bit where numpy calls the C library",
)

#: Gymnasium's SyncVectorEnv(autoreset_mode=...) and reset masks.
gymnasium_autoreset_modes = pytest.mark.skipif(
    _GYMNASIUM_VERSION < (1, 1),
    reason=f"gymnasium {gymnasium.__version__}'s SyncVectorEnv has no autoreset modes or reset "
    "masks (they came with 1.1)",
)
