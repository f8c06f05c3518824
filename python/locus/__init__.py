"""locus: Gymnasium environments in C++ for continual-learning research, usable from Python.

``import locus`` registers every locus environment with Gymnasium under the ``locus/`` namespace:

    import gymnasium, locus
    env = gymnasium.make("locus/CartPole-v1")            # a gymnasium.Env stepping in C++
    envs = locus.make_vec("CartPole-v1", 1024)           # a gymnasium.vector.VectorEnv (TBB)
    envs = gymnasium.make_vec("locus/CartPole-v1", 1024)  # the same, through vector_entry_point

locus's C++ agents train on locus envs and on Python gymnasium.Envs (see locus.training):

    summary = locus.train(env=MyEnv, agent="ppo", steps=20_000, seed=0, out="runs/my")
    locus.evaluate("runs/my")                             # as `locus eval runs/my`
    policy = locus.load("runs/my")                        # SB3-style policy.predict(obs, state)

The continual-learning harness and the modulated network, for scripting:

    runs = locus.sweep("bench/configs/default.yaml", jobs=2)   # as `locus sweep`; list of dicts
    locus.metric_array(runs, "acc")                           # one metric as a numpy array
    locus.metrics.backward_transfer(r)                        # the harness's metric functions
    net = locus.Network.load("runs/my/checkpoint.bin")        # forward, contexts, parameters

Recurrent networks trained by supervision on the cognitive tasks (NeuroGym's recipe):

    result = locus.train_supervised("GoNoGo-v0", network="gru", hidden=64, iterations=500)
    result["accuracy"], result["history"]
"""

from __future__ import annotations

from locus import _core, errors, metrics
from locus.env import LocusEnv
from locus.harness import metric_array, sweep
from locus.policy import Policy, load
from locus.python_env import check_env_cpp, vector_from_python
from locus.registration import (
    NAMESPACE,
    env_ids,
    gymnasium_id,
    load_plugin,
    locus_id,
    make,
    register_envs,
)
from locus.supervised import train_supervised
from locus.training import evaluate, resume, train
from locus.vector import LocusVectorEnv, make_vec

__version__: str = _core.__version__

#: A modulated network (locus::neuromod) for inspection: forward, contexts, parameters, checkpoints.
Network = _core.Network

register_envs()

__all__ = [
    "NAMESPACE",
    "LocusEnv",
    "LocusVectorEnv",
    "Network",
    "Policy",
    "__version__",
    "check_env_cpp",
    "env_ids",
    "errors",
    "evaluate",
    "gymnasium_id",
    "load",
    "load_plugin",
    "locus_id",
    "make",
    "make_vec",
    "metric_array",
    "metrics",
    "register_envs",
    "resume",
    "sweep",
    "train",
    "train_supervised",
    "vector_from_python",
]
