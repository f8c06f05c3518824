"""What the oracle scripts of tests/envs (and python/tests/test_gymnasium_match.py) share: running a
locus dump program on an action sequence, and the seeded feedback policies that drive the
classic-control envs into their terminal states.
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
