"""Continual-learning metrics of the locus harness, on numpy arrays or lists.

The same C++ functions as ``locus sweep`` uses (bench/harness/metrics.hpp; docs/bench.md), with the
same edge cases: a metric that is undefined (BWT, FWT or forgetting with one task, a stability gap
whose pre-switch accuracy is 0 or missing, min-ACC on the first task) is NaN. NaN values in a curve
mean "not evaluated there" and are skipped. A bad shape raises
``locus.errors.InvalidArgumentError`` (a ``ValueError``) naming the argument and the shape needed.

Accuracy matrices ``r`` have shape (tasks, tasks): ``r[i][j]`` is the accuracy on task j after
training block i. A curve is ``iterations`` (evaluations, increasing integers), ``values`` (one
accuracy per evaluation) and ``block_ends`` (the iteration at which each task's block ends)::

    from locus import metrics
    r = [[0.9, 0.1], [0.7, 0.8]]
    metrics.average_accuracy(r)        # ACC  0.75
    metrics.backward_transfer(r)       # BWT -0.2
    metrics.average_forgetting(r)      # 0.2
    metrics.stability_gap([10, 20, 30, 40], [0.8, 0.9, 0.45, 0.85], [20, 40], boundary=0)  # 0.5
"""

from __future__ import annotations

import numpy as np

from locus import _core

average_accuracy = _core.metrics.average_accuracy
backward_transfer = _core.metrics.backward_transfer
forward_transfer = _core.metrics.forward_transfer
average_forgetting = _core.metrics.average_forgetting
stability_gap = _core.metrics.stability_gap
average_stability_gap = _core.metrics.average_stability_gap
gap_shape = _core.metrics.gap_shape
min_accuracy = _core.metrics.min_accuracy
worst_case_accuracy = _core.metrics.worst_case_accuracy
mean_sd = _core.metrics.mean_sd


def stability_gaps(iterations, values, block_ends) -> np.ndarray:
    """SG_k for every boundary k in [0, tasks - 1), as a float64 array (NaN where undefined)."""
    boundaries = max(len(np.asarray(block_ends).reshape(-1)) - 1, 0)
    return np.array(
        [stability_gap(iterations, values, block_ends, k) for k in range(boundaries)],
        dtype=np.float64,
    )


__all__ = [
    "average_accuracy",
    "average_forgetting",
    "average_stability_gap",
    "backward_transfer",
    "forward_transfer",
    "gap_shape",
    "mean_sd",
    "min_accuracy",
    "stability_gap",
    "stability_gaps",
    "worst_case_accuracy",
]
