"""Actions that another Python thread rewrites while a vector env steps.

locus releases the GIL while its envs step. It must first copy and check the actions: a vector env
that checked the caller's array and then read it again after the GIL was released could read an
action the other thread wrote meanwhile (an index far outside the space) and crash; before the fix
this child died with SIGSEGV in every run. It runs in a child process, so a crash fails the test
instead of ending pytest. (A single env's step copies its action the same way, in SpaceCodec::pack;
its window between check and read is too short for a test to hit reliably.)
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

# The main thread steps with valid actions while a second thread keeps writing invalid ones into
# the same array. Every step either runs with whatever the array held when it was copied (checked)
# or raises InvalidActionError; the child prints how many of each and exits 0.
VECTOR_RACE = """
import sys
import threading
import numpy as np
import locus
from locus.errors import InvalidActionError

sys.setswitchinterval(1e-5)  # hand the GIL back and forth often: many steps race the writer
env = locus.make_vec("ReversalBandit-v0", 2048, num_threads=2)
env.reset(seed=0)
actions = np.zeros(2048, dtype=np.int64)
stop = threading.Event()

def scribble():
    # Brief bad values: a check of the whole batch mostly misses them, a later read may not.
    while not stop.is_set():
        for i in range(0, 2048, 97):
            actions[i] = 1 << 40
            actions[i] = 0

writer = threading.Thread(target=scribble)
writer.start()
ok = refused = 0
try:
    for _ in range(3000):
        try:
            env.step(actions)
            ok += 1
        except InvalidActionError:
            refused += 1
finally:
    stop.set()
    writer.join()
print(ok, refused)
"""


def run_child(code: str) -> tuple[int, int]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"the child died with status {result.returncode}\nstdout: {result.stdout}\n"
        f"stderr: {result.stderr[-2000:]}"
    )
    ok, refused = (int(x) for x in result.stdout.split())
    return ok, refused


def test_vector_step_never_reads_actions_after_checking_them():
    ok, refused = run_child(VECTOR_RACE)
    assert ok + refused == 3000

