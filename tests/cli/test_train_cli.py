"""`locus train` and `locus eval` end to end: outputs, config files, resume, errors."""

import csv
import json
import os
import re
import subprocess


def run(locus, *args):
    return subprocess.run([locus, *args], capture_output=True, text=True, timeout=300)


def metric_rows(path):
    with open(path) as f:
        return [{k: v for k, v in row.items() if k != "time_s"} for row in csv.DictReader(f)]


def test_train_writes_the_run_directory(locus, tmp_path):
    out = tmp_path / "run"
    result = run(locus, "train", "--env", "CartPole-v1", "--agent", "a2c", "--modulation", "da",
                 "--steps", "4096", "--num-envs", "8", "--seed", "1", "--out", str(out),
                 "--checkpoint-every", "8", "--eval-every", "16", "--eval-episodes", "3")
    assert result.returncode == 0, result.stderr
    for name in ["config.json", "metrics.csv", "metrics.jsonl", "dopamine_trace.csv",
                 "checkpoint.bin", "summary.json"]:
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 4096 and summary["agent"] == "a2c" and summary["seed"] == 1
    assert summary["eval"]["episodes"] == 3
    rows = metric_rows(out / "metrics.csv")
    assert len(rows) == 4096 // (8 * 16)
    assert rows[15]["eval_return"] != "" and rows[14]["eval_return"] == ""
    jsonl = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["update"] for r in jsonl] == list(range(1, len(rows) + 1))
    trace = list(csv.DictReader(open(out / "dopamine_trace.csv")))
    assert len(trace) == 4096 // 8  # one traced env, every step
    assert "summary:" in result.stdout

    evaluated = run(locus, "eval", str(out), "--episodes", "4")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["eval"]["episodes"] == 4

    again = run(locus, "train", "--env", "CartPole-v1", "--steps", "256", "--out", str(out))
    assert again.returncode != 0 and "already holds a run" in again.stderr
    assert json.loads((out / "summary.json").read_text())["steps"] == 4096  # nothing overwritten


def test_resume_equals_an_uninterrupted_run(locus, tmp_path):
    args = ["--env", "CartPole-v1", "--agent", "ppo", "--modulation", "da+na", "--num-envs", "4",
            "--rollout-steps", "32", "--seed", "5", "--checkpoint-every", "4", "--quiet"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert run(locus, "train", *args, "--steps", "2048", "--out", str(whole)).returncode == 0
    assert run(locus, "train", *args, "--steps", "1024", "--out", str(part)).returncode == 0
    resumed = run(locus, "train", "--resume", str(part), "--steps", "2048")
    assert resumed.returncode == 0, resumed.stderr
    assert metric_rows(whole / "metrics.csv") == metric_rows(part / "metrics.csv")
    assert (whole / "gain_trace.csv").read_text() == (part / "gain_trace.csv").read_text()


def test_config_file_and_flag_override(locus, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("env: CartPole-v1\nagent: reinforce\nsteps: 1024\nnum_envs: 4\n"
                      "hidden: [32]\nmodulation: none\nnetwork: modulated\n")
    out = tmp_path / "run"
    result = run(locus, "train", "--config", str(config), "--steps", "512", "--out", str(out))
    assert result.returncode == 0, result.stderr
    saved = json.loads((out / "config.json").read_text())
    assert saved["agent"] == "reinforce" and saved["hidden"] == [32]
    assert saved["steps"] == 512  # the flag wins
    json_config = tmp_path / "run.json"
    json_config.write_text(json.dumps({"env": "CartPole-v1", "learning_rat": 0.1}))
    bad = run(locus, "train", "--config", str(json_config), "--out", str(tmp_path / "bad"))
    assert bad.returncode == 2
    assert "learning_rat" in bad.stderr and "learning_rate" in bad.stderr
    assert not (tmp_path / "bad").exists()


def test_parallel_agents_summarize_mean_and_spread(locus, tmp_path):
    out = tmp_path / "many"
    result = run(locus, "train", "--env", "CartPole-v1", "--steps", "1024", "--seeds", "1,2,3",
                 "--threads", "2", "--eval-episodes", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == [1, 2, 3] and len(summary["runs"]) == 3
    assert summary["eval_return"]["n"] == 3 and summary["eval_return"]["std"] >= 0
    for seed in [1, 2, 3]:
        assert (out / f"seed_{seed}" / "checkpoint.bin").exists()
    single = tmp_path / "single2"
    assert run(locus, "train", "--env", "CartPole-v1", "--steps", "1024", "--seed", "2",
               "--eval-episodes", "2", "--out", str(single)).returncode == 0
    assert metric_rows(single / "metrics.csv") == metric_rows(out / "seed_2" / "metrics.csv")


def test_bad_input_is_a_clear_error(locus, tmp_path):
    unknown_env = run(locus, "train", "--env", "NoSuchEnv-v0", "--steps", "10",
                      "--out", str(tmp_path / "a"))
    assert unknown_env.returncode == 2 and "NoSuchEnv" in unknown_env.stderr
    bad_agent = run(locus, "train", "--agent", "dqn", "--out", str(tmp_path / "b"))
    assert bad_agent.returncode == 2 and "a2c, ppo, reinforce" in bad_agent.stderr
    bad_modulation = run(locus, "train", "--modulation", "5ht", "--out", str(tmp_path / "c"))
    assert bad_modulation.returncode == 2 and "none, da, da+na" in bad_modulation.stderr

    out = tmp_path / "run"
    assert run(locus, "train", "--env", "CartPole-v1", "--steps", "256", "--out",
               str(out)).returncode == 0
    data = bytearray((out / "checkpoint.bin").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (out / "checkpoint.bin").write_bytes(bytes(data))
    corrupt = run(locus, "eval", str(out))
    assert corrupt.returncode == 1 and "checksum" in corrupt.stderr
    missing = run(locus, "eval", str(tmp_path / "nothing"))
    assert missing.returncode == 1 and "holds no run" in missing.stderr


def test_recurrent_policy_learns_gonogo_endless_from_the_command_line(locus, tmp_path):
    out = tmp_path / "gru"
    result = run(locus, "train", "--env", "GoNoGo-v0", "--agent", "ppo", "--policy", "gru",
                 "--hidden", "64", "--num-envs", "8", "--rollout-steps", "64",
                 "--learning-rate", "0.001", "--seed", "1", "--steps", "61440",
                 "--eval-episodes", "4", "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["policy"] == "gru" and config["hidden"] == [64]
    summary = json.loads((out / "summary.json").read_text())
    # A memoryless policy answers about half of GoNoGo's trials correctly (see test_agents).
    assert summary["eval"]["success_rate"] >= 0.9, summary["eval"]
    evaluated = run(locus, "eval", str(out), "--episodes", "2")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["eval"]["success_rate"] >= 0.9


def test_bad_policy_settings_are_clear_errors(locus, tmp_path):
    unknown = run(locus, "train", "--policy", "transformer", "--out", str(tmp_path / "a"))
    assert unknown.returncode == 2 and "mlp, rnn, gru, lstm" in unknown.stderr
    zero = run(locus, "train", "--policy", "gru", "--hidden", "0", "--out", str(tmp_path / "b"))
    assert zero.returncode == 2 and "hidden" in zero.stderr
    config = tmp_path / "ppo.yaml"
    config.write_text("agent: ppo\npolicy: lstm\nnum_envs: 2\nminibatches: 4\n")
    sequences = run(locus, "train", "--config", str(config), "--out", str(tmp_path / "c"))
    assert sequences.returncode == 2
    assert "minibatches" in sequences.stderr and "num_envs" in sequences.stderr


def test_kwargs_reach_the_env_and_are_recorded(locus, tmp_path):
    out = tmp_path / "run"
    result = run(locus, "train", "--env", "GoNoGo-v0", "--kwargs", '{"trials_per_episode": 1}',
                 "--steps", "640", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "config.json").read_text())["env_kwargs"] == {"trials_per_episode": 1}
    # One trial per episode: every episode ends with its trial (metrics.jsonl counts both).
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert sum(len(r["episode_returns"]) for r in rows) == sum(r["trials"] for r in rows) > 0
    bad = run(locus, "train", "--env", "GoNoGo-v0", "--kwargs", "[1]", "--out", str(tmp_path / "b"))
    assert bad.returncode == 2 and "--kwargs must be a JSON object" in bad.stderr
    unknown = run(locus, "train", "--env", "CartPole-v1", "--kwargs", '{"gravity": 1}',
                  "--out", str(tmp_path / "u"))
    assert unknown.returncode == 2 and "gravity" in unknown.stderr


def test_a_run_remembers_its_plugin_for_eval_and_resume(locus, plugin, tmp_path):
    out = tmp_path / "run"
    result = run(locus, "train", "--env", "Corridor-v0", "--plugin", plugin, "--steps", "640",
                 "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "config.json").read_text())["plugin"] == os.path.abspath(plugin)
    evaluated = run(locus, "eval", str(out), "--episodes", "2")  # no --plugin
    assert evaluated.returncode == 0, evaluated.stderr
    resumed = run(locus, "train", "--resume", str(out), "--steps", "1280", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    # A plugin that has moved: the error names the run's plugin and the flag that fixes it.
    config = json.loads((out / "config.json").read_text())
    config["plugin"] = str(tmp_path / "moved.so")
    (out / "config.json").write_text(json.dumps(config))
    moved = run(locus, "eval", str(out))
    assert moved.returncode == 1 and "--plugin PATH" in moved.stderr
    assert run(locus, "eval", str(out), "--plugin", plugin).returncode == 0


def test_the_progress_line_on_a_terminal_shows_the_time_left(locus, tmp_path):
    # The progress line is drawn only on a terminal: stderr is a pseudo-terminal here.
    import pty

    controller, terminal = pty.openpty()
    process = subprocess.Popen([locus, "train", "--env", "CartPole-v1", "--steps", "200000",
                                "--out", str(tmp_path / "run")],
                               stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=300) == 0
    lines = output.decode().split("\r")
    assert any(re.search(r"steps/s  ETA (\d+s|\d+m\d\ds)  return", line) for line in lines), lines
    assert "100% " in lines[-2] and "ETA 0s" in lines[-2], lines[-2:]
