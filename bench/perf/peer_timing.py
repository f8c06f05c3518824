"""How the Python sides of the benchmarks time themselves: the method of bench/perf/measurement.hpp
(time_repeats, time_calibrated_iterations), so that locus's figures and its peers' are taken the
same way.

Standard library only: the peers run under whichever interpreter has their library (PyTorch,
EnvPool, NeuroGym), not necessarily the virtual environment.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

# Cores the other processes may use during a try before it stops counting as clean: a margin for
# /proc/stat's 10 ms ticks (the same allowance as measurement.hpp's callers).
ALLOWED_BACKGROUND_CORES = 0.25


def machine_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (all cores), from /proc/stat."""
    with open("/proc/stat", encoding="utf-8") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle + iowait; guest time is already in user
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process, all its threads (a library's worker threads included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Repeats:
    """The timed tries of one benchmark, every try kept in order (see measurement.hpp)."""
    seconds: list[float] = field(default_factory=list)  # wall time of each try
    rates: list[float] = field(default_factory=list)  # work / wall second
    cpu_rates: list[float] = field(default_factory=list)  # work / CPU second of this process
    background_cores: list[float] = field(default_factory=list)  # the others' use during a try
    clean_rates: list[float] = field(default_factory=list)  # the tries under the allowance
    contaminated: bool = False  # fewer clean tries than asked for: the figure is low
    median_rate: float = 0.0  # of the clean tries, or of all when contaminated
    counted: int = 0  # how many tries the median is over

    def busy_note(self) -> str:
        return ", machine busy: figure low" if self.contaminated else ""


def time_repeats(run: Callable[[], object], repeats: int, work: float) -> Repeats:
    """Calls `run` (which does `work` units) until `repeats` clean tries are in, at most
    3 x repeats. The warm-up is the caller's."""
    r = Repeats()
    for _ in range(3 * repeats):
        if len(r.clean_rates) >= repeats:
            break
        busy0, own0 = machine_busy_seconds(), own_cpu_seconds()
        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
        own = own_cpu_seconds() - own0
        others = ((machine_busy_seconds() - busy0) - own) / elapsed
        rate = work / elapsed
        r.seconds.append(elapsed)
        r.rates.append(rate)
        r.cpu_rates.append(work / own if own > 0 else float("inf"))
        r.background_cores.append(max(0.0, others))
        if others <= ALLOWED_BACKGROUND_CORES:
            r.clean_rates.append(rate)
    r.contaminated = len(r.clean_rates) < repeats
    counted = r.rates if r.contaminated else r.clean_rates
    r.median_rate = statistics.median(counted)
    r.counted = len(counted)
    return r


def time_calibrated_iterations(iteration: Callable[[int], object], seconds_per_repeat: float,
                               min_iterations: int, repeats: int,
                               work_per_iteration: float) -> tuple[int, Repeats]:
    """A warm-up of about `seconds_per_repeat` sets how many iterations a try runs (at least
    `min_iterations`); then time_repeats times that many per try. Returns (iterations, repeats)."""
    start = time.perf_counter()
    done = 0
    while time.perf_counter() - start < seconds_per_repeat:
        iteration(done)
        done += 1
    iterations = max(done, min_iterations)

    def run() -> None:
        for i in range(iterations):
            iteration(i)

    return iterations, time_repeats(run, repeats, iterations * work_per_iteration)


def rate_fields(unit: str, r: Repeats) -> dict:
    """The JSON fields of a result in `unit`s (samples, sequences, steps), as the locus side of the
    benchmark writes them."""
    return {"seconds": r.seconds, f"{unit}_per_second": r.rates,
            "background_cores": r.background_cores,
            "allowed_background_cores": ALLOWED_BACKGROUND_CORES,
            f"median_{unit}_per_second": r.median_rate, "contaminated": r.contaminated,
            f"{unit}_per_cpu_second": r.cpu_rates,
            f"median_{unit}_per_cpu_second": statistics.median(r.cpu_rates)}
