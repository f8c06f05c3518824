"""End-to-end tests of the `locus` command line: exit statuses, messages and the plugin path.

Run by CTest as `pytest tests/cli --locus build/bin/locus --plugin build/lib/...so`.
"""
import json
import os
import re
import subprocess

import pytest


def run(locus, *args):
    return subprocess.run([locus, *args], capture_output=True, text=True, timeout=120)


def test_version(locus):
    result = run(locus, "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("locus ")


def test_envs_lists_cartpole_with_its_spaces(locus):
    result = run(locus, "envs")
    assert result.returncode == 0, result.stderr
    assert "CartPole-v1" in result.stdout
    assert "Discrete(2)" in result.stdout


def test_envs_json_is_one_object_per_line(locus):
    result = run(locus, "envs", "--json")
    assert result.returncode == 0, result.stderr
    specs = [json.loads(line) for line in result.stdout.splitlines()]
    cartpole = next(s for s in specs if s["id"] == "CartPole-v1")
    assert cartpole["max_episode_steps"] == 500
    assert cartpole["action_space"]["type"] == "Discrete"


def test_check_passes_on_cartpole(locus):
    result = run(locus, "check", "CartPole-v1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout


def test_unknown_env_is_a_usage_error_with_close_matches(locus):
    result = run(locus, "check", "CartPol-v1")
    assert result.returncode == 2
    assert "CartPole-v1" in result.stderr  # the suggestion
    assert "Traceback" not in result.stderr and "terminate" not in result.stderr


def test_bad_flag_is_a_usage_error(locus):
    result = run(locus, "rollout", "--episodes", "zero")
    assert result.returncode == 2


def test_bad_kwargs_name_the_key(locus):
    result = run(locus, "rollout", "--env", "CartPole-v1", "--kwargs", '{"gravity": 1}')
    assert result.returncode == 2
    assert "gravity" in result.stderr


def test_rollout_prints_returns_and_speed(locus):
    result = run(locus, "rollout", "--env", "CartPole-v1", "--episodes", "3", "--seed", "42")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("episode") == 3
    assert "steps/s" in result.stdout


def test_rollout_is_deterministic(locus):
    first = run(locus, "rollout", "--episodes", "4", "--seed", "7").stdout.splitlines()[:4]
    second = run(locus, "rollout", "--episodes", "4", "--seed", "7").stdout.splitlines()[:4]
    assert first == second


def test_plugin_env_can_be_checked_and_rolled_out(locus, plugin):
    result = run(locus, "--plugin", plugin, "check", "Corridor-v0")
    assert result.returncode == 0, result.stdout + result.stderr
    result = run(locus, "--plugin", plugin, "rollout", "--env", "Corridor-v0", "--episodes", "2")
    assert result.returncode == 0, result.stderr
    assert "Corridor-v0" in result.stdout


def test_plugin_may_come_after_the_command(locus, plugin):
    result = run(locus, "check", "Corridor-v0", "--plugin", plugin)
    assert result.returncode == 0, result.stdout + result.stderr
    result = run(locus, "rollout", "--env", "Corridor-v0", "--plugin", plugin, "--episodes", "1")
    assert result.returncode == 0, result.stderr


def test_help_shows_defaults_without_float_noise(locus):
    result = run(locus, "train", "--help")
    assert result.returncode == 0, result.stderr
    assert re.search(r"--learning-rate FLOAT=0\.0007\s", result.stdout), result.stdout
    assert re.search(r"--steps UINT=100000\s", result.stdout), result.stdout
    # A float stored as float shows 0.0007, not 0.00069999998 (its double).
    assert not re.search(r"=\d*\.\d*(0000|9999)\d", result.stdout), result.stdout
    result = run(locus, "eval", "--help")
    assert re.search(r"--episodes UINT=10\s", result.stdout), result.stdout


def test_missing_plugin_is_a_usage_error(locus, tmp_path):
    result = run(locus, "--plugin", str(tmp_path / "nope.so"), "envs")
    assert result.returncode == 2


def test_plugin_that_is_not_a_library_is_a_runtime_error(locus, tmp_path):
    bogus = tmp_path / "bogus.so"
    bogus.write_text("not an ELF file")
    result = run(locus, "--plugin", str(bogus), "envs")
    assert result.returncode == 1
    assert "cannot load plugin" in result.stderr


def test_version_names_the_openblas_kernels_in_use(locus):
    # Debian 12's OpenBLAS does not know CPUs newer than itself and falls back to generic SSE3
    # kernels ("Prescott"); --version shows which run, and OPENBLAS_CORETYPE chooses them.
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    version = subprocess.run([locus, "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0, version.stderr
    if "OpenBLAS kernels" not in version.stdout:
        pytest.skip("locus is built without OpenBLAS")
    for kernels in ("Prescott", "Haswell"):
        chosen = subprocess.run([locus, "--version"], capture_output=True, text=True,
                                env={**env, "OPENBLAS_CORETYPE": kernels})
        assert f"OpenBLAS kernels: {kernels}" in chosen.stdout, chosen.stdout


def study_agent(locus, out, *args):
    """Runs a one-seed, one-flip set-shift study and returns the agent config it saved."""
    result = run(locus, "study", "set-shift", "--out", str(out), "--runs", "1", "--modulations",
                 "da", "--switch-after", "150", "--flips", "1", "--criterion-window", "10",
                 "--no-plot", *args)
    assert result.returncode == 0, result.stderr
    return json.loads((out / "summary.json").read_text())["config"]["agent"]


def test_study_runs_the_recurrent_policy_it_is_given(locus, tmp_path):
    agent = study_agent(locus, tmp_path / "gru", "--policy", "gru", "--hidden", "32")
    # The state is the memory: no frame stack unless asked for.
    assert (agent["policy"], agent["hidden"], agent["frame_stack"]) == ("gru", [32], 1)
    config = tmp_path / "agent.yaml"
    config.write_text("frame_stack: 4\npolicy: rnn\nhidden: [16, 8]\n")
    agent = study_agent(locus, tmp_path / "lstm", "--config", str(config), "--policy", "lstm")
    assert (agent["policy"], agent["hidden"], agent["frame_stack"]) == ("lstm", [16, 8], 4)


def test_study_keeps_its_feed_forward_agent_by_default(locus, tmp_path):
    agent = study_agent(locus, tmp_path / "mlp")
    assert (agent["policy"], agent["hidden"], agent["frame_stack"]) == ("mlp", [64, 64], 15)


def test_study_refuses_an_unknown_policy(locus, tmp_path):
    result = run(locus, "study", "set-shift", "--out", str(tmp_path / "s"), "--policy", "transformer")
    assert result.returncode == 2
    assert "transformer" in result.stderr and "gru" in result.stderr
    assert not (tmp_path / "s").exists()
