"""Limits and bad data on the command line: config names that would escape the output folder,
unsigned options given negative or oversized values, absurd sizes, out-of-memory, damaged sweep
results and Python interpreters that cannot do the work handed to them.

Run by CTest as `pytest tests/cli --locus build/bin/locus --plugin build/lib/...so`.
"""
import json
import os
import resource
import subprocess
import sys
import time

import pytest

# One finished run as `locus sweep` writes it to results.jsonl (the fields the report reads).
RUN = {
    "id": "sgd_seed=0",
    "method": "sgd",
    "seed": 0,
    "grid": {},
    "settings": {},
    "metrics": {"acc": 0.5, "avg_sg": 0.1, "min_acc": 0.4},
    "record": {
        "num_tasks": 2,
        "block_ends": [2, 4],
        "iterations": [0, 2, 4],
        "curves": [[0.5, 0.9, 0.6], [None, 0.5, 0.8]],
        "gains": [None, None, None],
    },
}


def run(locus, *args, env=None, cwd=None, preexec_fn=None, timeout=120):
    return subprocess.run([locus, *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=cwd, preexec_fn=preexec_fn)


def with_env(**values):
    env = dict(os.environ)
    env.update(values)
    return env


def sweep_dir(tmp_path, lines):
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "results.jsonl").write_text("".join(line + "\n" for line in lines))
    (folder / "sweep.json").write_text(json.dumps({"name": "tiny", "seeds": [0]}))
    return folder


# ---- config strings used in paths -------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/escaped", "a/b", "..", ""])
def test_sweep_name_cannot_leave_the_output_folder(locus, tmp_path, name):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    config = work / "config.yaml"
    config.write_text(f"name: {json.dumps(name)}\nmethods: [{{name: sgd}}]\n")
    result = run(locus, "sweep", str(config), cwd=work)
    assert result.returncode == 2, result.stderr
    assert f"sweep 'name' {json.dumps(name)} cannot name a folder or file" in result.stderr
    assert "not '.' or '..', without '/'" in result.stderr
    assert not (tmp_path / "escaped").exists()
    assert sorted(p.name for p in work.iterdir()) == ["config.yaml"]  # no runs/ either


def test_method_name_cannot_hold_a_path(locus, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text('methods: [{name: "../../m"}]\n')
    result = run(locus, "sweep", str(config), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "sweep method 'name' \"../../m\" cannot name a folder or file" in result.stderr


# ---- unsigned options and numeric settings ----------------------------------------------------


@pytest.mark.parametrize("args", [
    ["train", "--steps", "-1", "--out", "run"],
    ["train", "--num-envs", "-8", "--out", "run"],
    ["train", "--seeds", "1,-2", "--out", "run"],
    ["train", "--steps", "0x10", "--out", "run"],
    ["study", "set-shift", "--out", "study", "--runs", "-1"],
    ["check", "CartPole-v1", "--seed", "-5"],
    ["rollout", "--seed", "-1"],
])
def test_negative_values_of_unsigned_options_are_refused(locus, tmp_path, args):
    result = run(locus, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "must be a whole number of 0 or more" in result.stderr
    assert "18446744073709551615" not in result.stderr + result.stdout


def test_values_past_2_to_the_64_are_refused_not_saturated(locus, tmp_path):
    result = run(locus, "train", "--steps", "99999999999999999999", "--out", str(tmp_path / "r"))
    assert result.returncode == 2
    assert "'99999999999999999999' is more than the largest value (2^64 - 1)" in result.stderr


def test_absurd_sizes_are_refused_at_once(locus, tmp_path):
    start = time.monotonic()
    result = run(locus, "train", "--env", "CartPole-v1", "--num-envs", "100000000", "--steps",
                 "10", "--out", str(tmp_path / "run"))
    assert result.returncode == 2, result.stderr
    assert "'num_envs' must be at most 1048576, got 100000000" in result.stderr
    assert time.monotonic() - start < 10


def test_a_config_that_cannot_fit_in_memory_is_refused_with_the_estimate(locus, tmp_path):
    result = run(locus, "train", "--env", "CartPole-v1", "--num-envs", "1048576",
                 "--rollout-steps", "1048576", "--steps", "10", "--out", str(tmp_path / "run"))
    assert result.returncode == 2, result.stderr
    assert "needs at least" in result.stderr and "of memory, but only" in result.stderr
    config = tmp_path / "config.yaml"
    config.write_text("defaults: {hidden: [16000000, 16000000]}\nmethods: [{name: sgd}]\n")
    sweep = run(locus, "sweep", str(config), "--out", str(tmp_path / "out"))
    assert sweep.returncode == 2
    assert "run 'sgd_seed=0' needs at least" in sweep.stderr
    assert not (tmp_path / "out").exists()


def test_out_of_range_sweep_settings_name_the_setting(locus, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("defaults: {batch_size: 1000000000000, lr: 1e300}\nmethods: [{name: sgd}]\n")
    result = run(locus, "sweep", str(config), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "setting 'batch_size' is 1000000000000; allowed: 1 to 1048576" in result.stderr


def test_running_out_of_memory_is_a_clear_error(locus, tmp_path):
    # Address space capped at 1.5 GiB: the estimate (a lower bound of what the run holds, checked
    # against the machine's free memory) passes, the allocations then fail.
    def cap_memory():
        limit = 1536 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    result = run(locus, "train", "--env", "CartPole-v1", "--num-envs", "1048576",
                 "--rollout-steps", "1", "--threads", "1", "--steps", "10", "--out",
                 str(tmp_path / "run"), preexec_fn=cap_memory, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "`locus train` ran out of memory" in result.stderr
    assert "std::bad_alloc" not in result.stderr


# ---- damaged sweep results ----------------------------------------------------------------------


@pytest.mark.parametrize("bad_line, problem", [
    ('{"method": "sgd", "se', "not valid JSON"),
    ("[1, 2]", "a run must be a JSON object"),
    (json.dumps({**RUN, "record": {**RUN["record"], "curves": [[0.5]]}}),
     "record 'curves[0]' must be a list as long as 'iterations' (3)"),
    (json.dumps({**RUN, "method": 7}), "'method' must be a str"),
])
def test_report_on_damaged_results_names_the_file_and_line(locus, tmp_path, bad_line, problem):
    folder = sweep_dir(tmp_path, [json.dumps(RUN), bad_line])
    result = run(locus, "report", str(folder))
    assert result.returncode == 1
    assert f"{folder}/results.jsonl line 2: {problem}" in result.stderr
    assert "stopped, no report written" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (folder / "report.html").exists()


def test_report_on_good_results_is_written(locus, tmp_path):
    folder = sweep_dir(tmp_path, [json.dumps(RUN)])
    result = run(locus, "report", str(folder))
    assert result.returncode == 0, result.stderr
    assert (folder / "report.html").exists()
    assert f"report: {folder}/report.html" in result.stdout


# ---- interpreters that cannot do the work -----------------------------------------------------


def test_report_refuses_an_interpreter_that_is_not_python(locus, tmp_path):
    folder = sweep_dir(tmp_path, [json.dumps(RUN)])
    result = run(locus, "report", str(folder), env=with_env(LOCUS_PYTHON="/bin/true"))
    assert result.returncode == 1
    assert "'/bin/true' cannot run Python 3 and import matplotlib" in result.stderr
    assert "LOCUS_PYTHON" in result.stderr and "scripts/setup.sh" in result.stderr
    assert "report:" not in result.stdout
    assert not (folder / "report.html").exists()


def test_report_refuses_a_python_without_matplotlib(locus, tmp_path):
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "matplotlib.py").write_text("raise ImportError('matplotlib is broken here')\n")
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\nPYTHONPATH={shadow} exec {sys.executable} \"$@\"\n")
    python.chmod(0o755)
    folder = sweep_dir(tmp_path, [json.dumps(RUN)])
    result = run(locus, "report", str(folder), env=with_env(LOCUS_PYTHON=str(python)))
    assert result.returncode == 1
    assert "cannot run Python 3 and import matplotlib" in result.stderr
    assert "ImportError: matplotlib is broken here" in result.stderr


def test_report_fails_when_the_script_writes_nothing(locus, tmp_path):
    script = tmp_path / "silent.py"
    script.write_text("pass\n")
    folder = sweep_dir(tmp_path, [json.dumps(RUN)])
    result = run(locus, "report", str(folder), env=with_env(LOCUS_REPORT_SCRIPT=str(script)))
    assert result.returncode == 1
    assert f"the report script exited 0 but did not write {folder}/report.html" in result.stderr


def test_train_on_a_python_env_refuses_an_interpreter_that_is_not_python(locus, tmp_path):
    result = run(locus, "train", "--env", "mymodule:MyEnv", "--steps", "10", "--out",
                 str(tmp_path / "run"), env=with_env(LOCUS_PYTHON="/bin/true"))
    assert result.returncode == 1
    assert "'/bin/true' cannot run Python 3" in result.stderr
    assert "LOCUS_PYTHON" in result.stderr
    missing = run(locus, "train", "--env", "mymodule:MyEnv", "--steps", "10", "--out",
                  str(tmp_path / "run"), env=with_env(LOCUS_PYTHON=str(tmp_path / "nothing")))
    assert missing.returncode == 1
    assert "cannot be started" in missing.stderr


def test_study_refuses_an_absurd_number_of_runs(locus, tmp_path):
    start = time.monotonic()
    result = run(locus, "study", "set-shift", "--out", str(tmp_path / "study"), "--runs",
                 "100000000", "--no-plot")
    assert result.returncode == 2
    assert "--runs must be in [1, 10000], got 100000000" in result.stderr
    assert time.monotonic() - start < 10


def test_unsigned_options_are_read_as_decimal(locus, tmp_path):
    # strtoull with base 0 read "010" as octal 8.
    result = run(locus, "train", "--env", "CartPole-v1", "--steps", "010", "--num-envs", "02",
                 "--rollout-steps", "005", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["steps"] == 10 and config["num_envs"] == 2 and config["rollout_steps"] == 5
