"""What the oracle scripts of tests/envs (and python/tests/test_gymnasium_match.py) share: running a
locus dump program on an action sequence, pairing its lines with the reference's, and the seeded
feedback policies that drive the classic-control envs into their terminal states.
"""

import json
import subprocess


def run_dump(command, actions_text, shown_args=None):
    """Runs a dump program with one action per line on stdin; its JSON lines, parsed.

    Raises RuntimeError (naming the first `shown_args` words of the command, all when None) when the
    program fails.
    """
    result = subprocess.run(command, input=actions_text + "\n", capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        shown = " ".join(command) if shown_args is None else \
            f"{' '.join(command[:shown_args])} ..."
        raise RuntimeError(f"{shown} failed ({result.returncode}): {result.stderr}")
    return [json.loads(line) for line in result.stdout.splitlines()]


def paired_lines(name, reference, want_lines, got_lines, problems):
    """Pairs the reference's lines (a reset or a step each) with locus's, in order.

    Yields (where, kind, want, got, want_obs, got_obs): kind is "reset" or "obs", the observations
    are float64 arrays (the reference's widened from float32, as it returned them). Appends to
    `problems` when the line counts differ, and when locus's line is not of the reference's kind,
    which also ends the pairing (the rest would be misaligned).
    """
    import numpy as np  # here: a script without numpy must reach its own skip before this runs

    if len(want_lines) != len(got_lines):
        problems.append(f"{name}: {len(got_lines)} lines from locus, {len(want_lines)} from "
                        f"{reference}")
    for index, (want, got) in enumerate(zip(want_lines, got_lines)):
        where = f"{name} line {index}"
        kind = "reset" if "reset" in want else "obs"
        if kind not in got:
            problems.append(f"{where}: locus has {sorted(got)}, {reference} has {kind}")
            return
        want_obs = np.asarray(want[kind], dtype=np.float32).astype(np.float64)
        got_obs = np.asarray(got[kind], dtype=np.float64)
        yield where, kind, want, got, want_obs, got_obs


def cartpole_policy(obs, rng):
    if rng.random() < 0.3:
        return int(rng.integers(2))
    return int(obs[2] + 0.5 * obs[3] > 0)


def acrobot_policy(obs, rng):
    # Pumping energy: torque along the second joint's velocity.
    if rng.random() < 0.1:
        return int(rng.integers(3))
    return 2 if obs[5] > 0 else 0


def mountain_car_policy(obs, rng):
    if rng.random() < 0.1:
        return int(rng.integers(3))
    return 2 if obs[1] > 0 else 0
