"""Python access to what users script: locus.sweep (the C++ harness), locus.metrics (its metric
functions) and locus.Network (a modulated network's forward, contexts and parameters)."""

from __future__ import annotations

import json
import math
import threading
import time

import numpy as np
import pytest

import locus
from locus import errors, metrics

# ---- sweeps ------------------------------------------------------------------------------------

# Tiny Split Fashion-MNIST runs (as tests/bench/test_sweep.cpp): 3 tasks of 128 training and 50
# held-out images, 8 iterations of batch 16 per task, a 16-unit MLP.
TINY_SWEEP = {
    "name": "tiny",
    "seeds": [0],
    "defaults": {
        "stream": "split",
        "num_tasks": 3,
        "train_per_task": 128,
        "eval_per_task": 50,
        "iterations_per_task": 8,
        "eval_every": 2,
        "batch_size": 16,
        "hidden": [16],
        "joint": True,
        "optimizer": "sgd",
    },
    "methods": [{"name": "sgd", "lr": 0.05}, {"name": "ngm-sgd", "lr": 0.05, "ngm": True}],
}

TINY_SWEEP_YAML = """
name: tiny
seeds: [0]
defaults: {stream: split, num_tasks: 3, train_per_task: 128, eval_per_task: 50,
           iterations_per_task: 8, eval_every: 2, batch_size: 16, hidden: [16], joint: true,
           optimizer: sgd}
methods:
  - {name: sgd, lr: 0.05}
  - {name: ngm-sgd, lr: 0.05, ngm: true}
"""


def without_timings(run):
    run = json.loads(json.dumps(run))
    for key in ("wall_seconds", "steps_per_second"):
        run["metrics"].pop(key, None)
    for key in ("train_seconds", "eval_seconds"):
        run["record"].pop(key, None)
    return run


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "tiny"
    return out, locus.sweep(TINY_SWEEP, jobs=1, out=out)


def test_sweep_returns_the_runs_of_results_jsonl(tiny_sweep):
    out, runs = tiny_sweep
    assert [run["method"] for run in runs] == ["sgd", "ngm-sgd"]
    lines = (out / "results.jsonl").read_text().splitlines()
    assert runs == [json.loads(line) for line in lines]
    assert (out / "summary.csv").exists()
    for run in runs:
        assert run["seed"] == 0
        assert 0.0 <= run["metrics"]["acc"] <= 1.0
        assert len(run["metrics"]["sg"]) == 2  # one stability gap per boundary of 3 tasks


def test_metric_array_turns_a_metric_into_numpy(tiny_sweep):
    _, runs = tiny_sweep
    acc = locus.metric_array(runs, "acc")
    assert acc.dtype == np.float64 and acc.shape == (2,)
    assert acc.tolist() == [run["metrics"]["acc"] for run in runs]
    assert locus.metric_array(runs, "sg").shape == (2, 2)
    assert locus.metric_array(runs, "acc", method="ngm-sgd").tolist() == [acc[1]]
    with pytest.raises(KeyError, match="no metric 'accuracy'.*acc"):
        locus.metric_array(runs, "accuracy")
    with pytest.raises(KeyError, match="no run of method 'adam'"):
        locus.metric_array(runs, "acc", method="adam")


def test_yaml_text_and_files_with_any_jobs_give_the_same_runs(tiny_sweep, tmp_path):
    _, runs = tiny_sweep
    config_file = tmp_path / "tiny.yaml"
    config_file.write_text(TINY_SWEEP_YAML)
    from_text = locus.sweep(TINY_SWEEP_YAML, jobs=2, out=tmp_path / "text")
    from_file = locus.sweep(str(config_file), jobs=2, out=tmp_path / "file")
    expected = [without_timings(run) for run in runs]
    assert [without_timings(run) for run in from_text] == expected
    assert [without_timings(run) for run in from_file] == expected
    # Called again, the sweep finds its runs done and returns them unchanged.
    assert locus.sweep(config_file, out=tmp_path / "file") == from_file


def test_sweep_releases_the_gil(tmp_path):
    config = json.loads(json.dumps(TINY_SWEEP))
    config["seeds"] = [0, 1, 2, 3, 4, 5]
    thread = threading.Thread(target=locus.sweep, args=(config,), kwargs={"out": tmp_path / "s"})
    start = time.perf_counter()
    thread.start()
    ticks = [start]
    while thread.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    thread.join()
    duration = ticks[-1] - start
    longest_pause = max(b - a for a, b in zip(ticks, ticks[1:]))
    # With the GIL held, this thread would stand still for the whole sweep.
    assert duration > 0.1
    assert longest_pause < duration / 2


def test_bad_sweep_configs_raise_before_running(tmp_path):
    bad = json.loads(json.dumps(TINY_SWEEP))
    bad["methods"][0]["learning_rate"] = 0.1
    with pytest.raises(errors.InvalidArgumentError, match="unknown setting 'learning_rate'"):
        locus.sweep(bad, out=tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ValueError, match="not valid YAML"):
        locus.sweep("name: [unclosed", out=tmp_path / "bad")
    with pytest.raises(errors.InvalidArgumentError, match="jobs must be a positive"):
        locus.sweep(TINY_SWEEP, jobs=0, out=tmp_path / "bad")
    with pytest.raises(FileNotFoundError, match="no-such-config.yaml"):
        locus.sweep("no-such-config.yaml")
    with pytest.raises(TypeError, match="dict"):
        locus.sweep(42)


# ---- metrics -----------------------------------------------------------------------------------

R3 = [[0.9, 0.2, 0.1], [0.6, 0.8, 0.3], [0.5, 0.7, 0.9]]


def test_matrix_metrics_by_hand():
    assert metrics.average_accuracy(R3) == pytest.approx((0.5 + 0.7 + 0.9) / 3)
    assert metrics.backward_transfer(np.array(R3)) == pytest.approx(((0.5 - 0.9) + (0.7 - 0.8)) / 2)
    assert metrics.average_forgetting(R3) == pytest.approx(((0.9 - 0.5) + (0.8 - 0.7)) / 2)
    assert metrics.forward_transfer(R3, [0.1, 0.1, 0.1]) == pytest.approx(
        ((0.2 - 0.1) + (0.3 - 0.1)) / 2
    )


def test_one_task_leaves_transfer_and_forgetting_undefined():
    assert metrics.average_accuracy([[0.7]]) == pytest.approx(0.7)
    assert math.isnan(metrics.backward_transfer([[0.7]]))
    assert math.isnan(metrics.forward_transfer([[0.7]], [0.1]))
    assert math.isnan(metrics.average_forgetting([[0.7]]))


def test_matrix_shapes_are_checked():
    with pytest.raises(errors.InvalidArgumentError, match=r"square.*\(2, 3\)"):
        metrics.average_accuracy([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match=r"2-D array, got shape \(3,\)"):
        metrics.backward_transfer([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="accuracy matrix R"):
        metrics.average_forgetting([[0.1, 0.2], [0.3]])
    with pytest.raises(ValueError, match="empty"):
        metrics.average_accuracy(np.zeros((0, 0)))
    with pytest.raises(ValueError, match="one initial accuracy per task"):
        metrics.forward_transfer(R3, [0.1, 0.1])


ITERATIONS = [5, 10, 15, 20, 25, 30]
VALUES = [0.6, 0.8, 0.4, 0.7, 0.5, 0.9]
BLOCK_ENDS = [10, 20, 30]


def test_stability_gap_per_boundary_and_average():
    sg0 = (0.8 - 0.4) / 0.8
    sg1 = (0.7 - 0.5) / 0.7
    assert metrics.stability_gap(ITERATIONS, VALUES, BLOCK_ENDS, 0) == pytest.approx(sg0)
    assert metrics.stability_gap(ITERATIONS, VALUES, BLOCK_ENDS, 1) == pytest.approx(sg1)
    assert metrics.stability_gaps(ITERATIONS, VALUES, BLOCK_ENDS) == pytest.approx([sg0, sg1])
    assert metrics.average_stability_gap(
        np.array(ITERATIONS), np.array(VALUES), BLOCK_ENDS
    ) == pytest.approx((sg0 + sg1) / 2)
    # Zero accuracy before the switch: SG_0 undefined, skipped by the average.
    zero = [0.6, 0.0, 0.4, 0.7, 0.5, 0.9]
    assert math.isnan(metrics.stability_gap(ITERATIONS, zero, BLOCK_ENDS, 0))
    assert metrics.average_stability_gap(ITERATIONS, zero, BLOCK_ENDS) == pytest.approx(sg1)
    # NaN values are evaluations that did not happen.
    skipped = [0.6, 0.8, float("nan"), 0.7, 0.5, 0.9]
    assert metrics.stability_gap(ITERATIONS, skipped, BLOCK_ENDS, 0) == pytest.approx(0.125)


def test_gap_shape_by_hand():
    iterations = [1, 2, 3, 4, 5, 6, 7, 8]
    values = [0.5, 0.7, 0.8, 0.9, 0.3, 0.6, 0.85, 0.9]
    gap = metrics.gap_shape(iterations, values, [4, 8], 0, epsilon=0.05, window=2)
    assert gap["baseline"] == pytest.approx(0.85)
    assert gap["depth"] == pytest.approx(0.55)
    assert gap["area"] == pytest.approx(0.55 + 0.25)
    assert gap["recovery"] == 4 and gap["censored"] is False  # smoothed (0.85 + 0.9) / 2 at 8
    assert metrics.gap_shape(iterations, values, [4, 8], 0, epsilon=0.05, window=1)[
        "recovery"
    ] == 3
    never = metrics.gap_shape(iterations, values[:4] + [0.3] * 4, [4, 8], 0, 0.05, 2)
    assert never["censored"] is True and never["recovery"] == 4


def test_min_and_worst_case_accuracy_by_hand():
    curves = [[0.5, 0.9, 0.6, 0.7], [0.1, 0.2, 0.5, 0.8]]
    iterations, block_ends = [1, 2, 3, 4], [2, 4]
    assert metrics.min_accuracy(curves, iterations, block_ends, 3, 1) == pytest.approx(0.6)
    assert metrics.worst_case_accuracy(curves, iterations, block_ends, 3, 1) == pytest.approx(
        0.8 / 2 + 0.5 * 0.6
    )
    assert math.isnan(metrics.min_accuracy(curves, iterations, block_ends, 3, 0))
    assert metrics.worst_case_accuracy(curves, iterations, block_ends, 3, 0) == pytest.approx(0.7)
    assert metrics.mean_sd([1.0, 2.0, 3.0, float("nan")]) == pytest.approx((2.0, 1.0, 3))
    mean, sd, count = metrics.mean_sd([])
    assert math.isnan(mean) and math.isnan(sd) and count == 0


def test_curve_arguments_are_checked():
    with pytest.raises(ValueError, match="iterations has 6 entries but values has 5"):
        metrics.stability_gap(ITERATIONS, VALUES[:5], BLOCK_ENDS, 0)
    with pytest.raises(ValueError, match="iterations must hold integers"):
        metrics.stability_gap([5.0, 10.5], [0.1, 0.2], [10, 20], 0)
    with pytest.raises(ValueError, match="boundary 2 out of range"):
        metrics.stability_gap(ITERATIONS, VALUES, BLOCK_ENDS, 2)
    with pytest.raises(ValueError, match="boundary must be >= 0, got -1"):
        metrics.gap_shape(ITERATIONS, VALUES, BLOCK_ENDS, -1, 0.05)
    with pytest.raises(ValueError, match="increasing order"):
        metrics.average_stability_gap([10, 5], [0.1, 0.2], BLOCK_ENDS)
    with pytest.raises(ValueError, match=r"\(tasks, 4\)"):
        metrics.min_accuracy([[0.1, 0.2, 0.3]], [1, 2, 3, 4], [2, 4], 3, 0)
    with pytest.raises(ValueError, match="evaluation index 9 out of range"):
        metrics.worst_case_accuracy([[0.1, 0.2]], [1, 2], [2], 9, 0)


# ---- networks ----------------------------------------------------------------------------------

TINY_SPEC = {
    "name": "tiny",
    "input_dim": 4,
    "seed": 3,
    "layers": [{"units": 5, "kind": "dense_gaussian", "activation": "relu", "bias": True}],
    "heads": [{"name": "out", "units": 3, "weights": "fixed_random", "bias": "per_context"}],
}


def numpy_forward(net, x, context):
    """The spec's formula (neuromod/spec.hpp) in numpy, from the network's own parameters."""
    weight = net.parameter("layer0.weight")
    gain, bias = net.parameter("layer0.gain", context), net.parameter("layer0.bias", context)
    hidden = np.maximum(gain * (x @ weight.T) + bias, 0.0)
    readout = net.parameter("head.out.weight")
    scale = net.parameter("head.out.output_gain", context)[0]
    return scale * (hidden @ readout.T) + net.parameter("head.out.bias", context)


@pytest.fixture
def tiny_net():
    net = locus.Network(TINY_SPEC)
    rng = np.random.default_rng(0)
    second = net.add_context()
    for name, shape in (("layer0.gain", 5), ("layer0.bias", 5), ("head.out.bias", 3)):
        net.set_parameter(name, rng.normal(size=shape), context=second)
    net.set_parameter("head.out.output_gain", [1.5], context=second)
    return net


def test_network_describes_itself(tiny_net):
    assert tiny_net.spec["input_dim"] == 4 and tiny_net.spec["seed"] == 3
    assert tiny_net.head_names == ["out"] and tiny_net.input_dim == 4
    assert tiny_net.context_count == 2 and tiny_net.selected_context == 0
    assert tiny_net.backend == "cpu" and tiny_net.weight_gains == [1.0, 1.0]
    params = {(p["name"], p["context"]): p for p in tiny_net.parameters()}
    assert params[("layer0.weight", None)]["shape"] == (5, 4)
    assert params[("layer0.weight", None)]["trainable"] is False
    assert params[("layer0.gain", 1)]["shape"] == (5,)
    assert tiny_net.parameter("layer0.weight").shape == (5, 4)
    assert "tiny" in repr(tiny_net)


def test_forward_matches_the_spec_formula_for_each_context(tiny_net):
    x = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)
    (out0,) = tiny_net.forward(x)
    assert out0.dtype == np.float32 and out0.shape == (6, 3)
    np.testing.assert_allclose(out0, numpy_forward(tiny_net, x, 0), rtol=1e-5, atol=1e-5)
    (out1,) = tiny_net.forward(x, contexts=[1] * 6)
    np.testing.assert_allclose(out1, numpy_forward(tiny_net, x, 1), rtol=1e-5, atol=1e-5)
    assert not np.allclose(out0, out1)
    tiny_net.select_context(1)
    np.testing.assert_array_equal(tiny_net.forward(x)[0], out1)


def test_rows_do_not_depend_on_each_other(tiny_net):
    x = np.random.default_rng(2).normal(size=(8, 4))  # float64: converted to float32
    contexts = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    (mixed,) = tiny_net.forward(x, contexts)
    for row in range(8):
        (alone,) = tiny_net.forward(x[row : row + 1], [int(contexts[row])])
        np.testing.assert_allclose(alone[0], mixed[row], rtol=1e-6, atol=1e-6)


def test_weight_sets_give_each_context_its_own_random_weights(tmp_path):
    net = locus.Network(dict(TINY_SPEC, weight_sets=3))
    assert net.spec["weight_sets"] == 3 and "weight_sets" not in locus.Network(TINY_SPEC).spec
    assert net.parameter("layer0.weight").shape == (3, 5, 4)
    assert net.parameter("head.out.weight").shape == (3, 3, 5)
    on_two, on_one = net.add_context(weight_set=2), net.add_context(1)
    assert [net.weight_set(c) for c in (0, on_two, on_one)] == [0, 2, 1]
    x = np.random.default_rng(4).normal(size=(6, 4)).astype(np.float32)
    contexts = [on_two, 0, on_one, on_one, 0, on_two]
    (mixed,) = net.forward(x, contexts)
    for row, context in enumerate(contexts):
        s = net.weight_set(context)
        hidden = np.maximum(
            net.parameter("layer0.gain", context) * (x[row] @ net.parameter("layer0.weight")[s].T)
            + net.parameter("layer0.bias", context), 0.0)
        expected = (net.parameter("head.out.output_gain", context)[0]
                    * (hidden @ net.parameter("head.out.weight")[s].T)
                    + net.parameter("head.out.bias", context))
        np.testing.assert_allclose(mixed[row], expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(locus.errors.ContextError, match="weight set 3 does not exist"):
        net.add_context(weight_set=3)
    net.save(tmp_path / "sets.locusnm")
    loaded = locus.Network.load(str(tmp_path / "sets.locusnm"))
    assert [loaded.weight_set(c) for c in range(3)] == [0, 2, 1]
    np.testing.assert_array_equal(loaded.forward(x, contexts)[0], mixed)


def test_checkpoints_round_trip(tiny_net, tmp_path):
    path = tmp_path / "tiny.locusnm"
    tiny_net.save(path)
    loaded = locus.Network.load(str(path))
    assert loaded.context_count == 2 and loaded.spec == tiny_net.spec
    x = np.random.default_rng(3).normal(size=(5, 4)).astype(np.float32)
    for context in (0, 1):
        np.testing.assert_array_equal(
            loaded.forward(x, [context] * 5)[0], tiny_net.forward(x, [context] * 5)[0]
        )
        np.testing.assert_array_equal(
            loaded.parameter("layer0.gain", context), tiny_net.parameter("layer0.gain", context)
        )


def test_the_network_of_an_agent_checkpoint(tmp_path):
    out = tmp_path / "run"
    locus.train(env="locus/CartPole-v1", agent="a2c", steps=256, num_envs=2, out=str(out),
                rollout_steps=16, checkpoint_every=1000, eval_episodes=2, threads=1)
    (checkpoint,) = sorted(out.rglob("checkpoint.bin"))
    net = locus.Network.load(checkpoint)
    assert net.input_dim == 4 and net.head_names == ["policy", "value"]
    policy, value = net.forward(np.zeros((3, 4), np.float32))
    assert policy.shape == (3, 2) and value.shape == (3, 1)
    assert np.isfinite(policy).all() and np.isfinite(value).all()


def test_presets():
    assert {"hong_pavlic_2022", "ngm_mlp_2025"} <= set(locus.Network.presets())
    net = locus.Network.from_preset("hong_pavlic_2022", seed=1)
    assert net.input_dim == 784 and net.connectivity(0).shape == (7840, 7)
    assert net.connectivity(0).dtype == np.int32
    (logits,) = net.forward(np.zeros((2, 784), np.float32))
    assert logits.shape == (2, 10)


def test_network_errors_carry_the_cpp_message_and_leave_it_usable(tiny_net, tmp_path):
    with pytest.raises(errors.ShapeError, match=r"shape \(2, 5\); network 'tiny' takes"):
        tiny_net.forward(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"2-D array.*x\[None, :\]"):
        tiny_net.forward(np.zeros(4, np.float32))
    with pytest.raises(errors.ShapeError, match="3 context ids for a batch of 2 rows"):
        tiny_net.forward(np.zeros((2, 4)), [0, 1, 0])
    with pytest.raises(errors.ContextError, match="row 1 has context 7"):
        tiny_net.forward(np.zeros((2, 4)), [0, 7])
    with pytest.raises(errors.NonFiniteError, match="row 0, column 2"):
        tiny_net.forward(np.array([[0.0, 0.0, np.nan, 0.0]]))
    with pytest.raises(errors.InvalidArgumentError, match="no parameter 'layer9.gain'.*layer0"):
        tiny_net.parameter("layer9.gain")
    with pytest.raises(errors.ContextError, match="context 5 does not exist"):
        tiny_net.parameter("layer0.gain", 5)
    with pytest.raises(errors.InvalidArgumentError, match="fixed random weight"):
        tiny_net.set_parameter("layer0.weight", np.zeros((5, 4)))
    with pytest.raises(errors.InvalidArgumentError, match="unknown|units"):
        locus.Network({"input_dim": 4, "layers": [{"unit": 5}]})
    with pytest.raises(errors.InvalidArgumentError, match="hong_pavlic_2022"):
        locus.Network.from_preset("hong_pavlic")
    with pytest.raises(errors.CheckpointError):
        locus.Network.load(tmp_path / "missing.locusnm")
    (tmp_path / "junk").write_bytes(b"not a checkpoint at all")
    with pytest.raises(errors.CheckpointError):
        locus.Network.load(tmp_path / "junk")
    # Still usable after every error.
    (out,) = tiny_net.forward(np.ones((1, 4), np.float32))
    np.testing.assert_allclose(out, numpy_forward(tiny_net, np.ones((1, 4)), 0), atol=1e-5)


def round_to_bf16(values: np.ndarray) -> np.ndarray:
    """float32 values rounded to the nearest bfloat16 (ties to even), as float32."""
    bits = np.asarray(values, np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32)


def test_matmul_precision_bfloat16_follows_the_formula_with_rounded_operands(tiny_net):
    assert tiny_net.matmul_precision == "float32"
    with pytest.raises(errors.InvalidArgumentError, match="tf32 is a CUDA precision"):
        tiny_net.matmul_precision = "tf32"
    with pytest.raises(errors.InvalidArgumentError, match="float32, bfloat16, tf32"):
        tiny_net.matmul_precision = "half"
    assert tiny_net.matmul_precision == "float32"
    x = np.random.default_rng(3).normal(size=(6, 4)).astype(np.float32)
    exact = tiny_net.forward(x, contexts=[1] * 6)[0].copy()
    try:
        tiny_net.matmul_precision = "bfloat16"
    except errors.InvalidArgumentError as error:
        assert "AVX512-BF16" in str(error) or "no bfloat16 kernel" in str(error)
        pytest.skip(str(error))
    assert tiny_net.matmul_precision == "bfloat16"
    (rounded,) = tiny_net.forward(x, contexts=[1] * 6)
    assert not np.array_equal(rounded, exact)
    # The spec's formula with both operands of each fixed product rounded to bfloat16.
    context = 1
    weight = round_to_bf16(tiny_net.parameter("layer0.weight")).astype(np.float64)
    gain, bias = tiny_net.parameter("layer0.gain", context), tiny_net.parameter("layer0.bias", context)
    hidden = np.maximum(gain * (round_to_bf16(x) @ weight.T) + bias, 0.0).astype(np.float32)
    readout = round_to_bf16(tiny_net.parameter("head.out.weight")).astype(np.float64)
    scale = tiny_net.parameter("head.out.output_gain", context)[0]
    expected = scale * (round_to_bf16(hidden) @ readout.T) + tiny_net.parameter(
        "head.out.bias", context)
    np.testing.assert_allclose(rounded, expected, rtol=1e-5, atol=1e-5)
