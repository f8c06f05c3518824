"""Size limits of the Python vector envs: an absurd num_envs is refused at once with a message
naming it, before the C++ side allocates the envs (it used to allocate until the machine ran out
of memory)."""

from __future__ import annotations

import time

import pytest

import locus
from locus.errors import InvalidArgumentError


@pytest.mark.parametrize("num_envs", [10**8, 10**9, 2**20 + 1])
def test_make_vec_refuses_an_absurd_num_envs_at_once(num_envs):
    start = time.monotonic()
    message = f"num_envs {num_envs} is more than the most a vector env holds"
    with pytest.raises(InvalidArgumentError, match=message):
        locus.make_vec("CartPole-v1", num_envs)
    assert time.monotonic() - start < 2.0


def test_make_vec_still_builds_what_fits():
    envs = locus.make_vec("CartPole-v1", 64)
    observations, _ = envs.reset(seed=0)
    assert observations.shape == (64, 4)
    envs.close()
