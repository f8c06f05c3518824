"""`locus sweep` and `locus train` over several processes: MPI ranks (mpirun), shards of a job array
and their merge, two processes on one folder, and a rank or a shard killed mid-sweep. Each compares
its results with one process's: the same run files and results.jsonl lines (a training run: the same
checkpoints and summary), apart from the wall-clock measurements that no two runs share.

CI runs the MPI cases on 2 cores as root: mpirun --allow-run-as-root --oversubscribe -np 2.
"""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time

import pytest

TINY = pathlib.Path(__file__).resolve().parents[1] / "bench" / "tiny_sweep.yaml"
TIMINGS = {"metrics": ("wall_seconds", "steps_per_second"),
           "record": ("train_seconds", "eval_seconds")}
MPIRUN = shutil.which("mpirun")
needs_mpi = pytest.mark.skipif(MPIRUN is None,
                               reason="no mpirun (scripts/setup.sh installs OpenMPI)")


def without_timings(run):
    for part, keys in TIMINGS.items():
        for key in keys:
            run[part].pop(key, None)
    return run


def results(folder):
    """The run files and results.jsonl lines of a finished sweep, without their timings."""
    folder = pathlib.Path(folder)
    runs = {p.name: without_timings(json.loads(p.read_text()))
            for p in (folder / "runs").glob("*.json")}
    lines = sorted(json.dumps(without_timings(json.loads(line)), sort_keys=True)
                   for line in (folder / "results.jsonl").read_text().splitlines())
    return runs, lines


def sweep(locus, *args, launcher=(), config=TINY, timeout=300):
    return subprocess.run([*launcher, locus, "sweep", str(config), "--quiet", *args],
                          capture_output=True, text=True, timeout=timeout)


def mpirun(ranks):
    return [MPIRUN, "--allow-run-as-root", "--oversubscribe", "-np", str(ranks)]


def counts(stdout):
    """(finished earlier, run now) from the sweep's outcome line."""
    match = re.search(r"(\d+) finished earlier \(skipped\), (\d+) run now", stdout)
    assert match, stdout
    return int(match.group(1)), int(match.group(2))


def longer_config(tmp_path):
    """The tiny sweep with 4 seeds and 100x the iterations: 12 runs of about 0.2 s, long enough
    to kill a process halfway even when the machine is busy (at 10x, 20 ms runs, a loaded machine
    let the whole sweep finish before the kill landed)."""
    text = TINY.read_text().replace("seeds: [0, 1]", "seeds: [0, 1, 2, 3]")
    text = text.replace("iterations_per_task: 8", "iterations_per_task: 800")
    path = tmp_path / "longer.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def single(request, tmp_path_factory):
    """The tiny sweep run by one process: the reference."""
    out = tmp_path_factory.mktemp("single") / "out"
    result = sweep(request.config.getoption("--locus"), "--out", str(out), "--jobs", "2")
    assert result.returncode == 0, result.stderr
    return results(out)


@needs_mpi
def test_mpirun_gives_the_results_of_one_process(locus, single, tmp_path):
    result = sweep(locus, "--out", str(tmp_path / "mpi"), "--jobs", "1", launcher=mpirun(2))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "on 2 MPI ranks x 1 worker" in result.stdout
    assert counts(result.stdout) == (0, 6)
    assert result.stdout.count("| fixed-gain-sgd") == 1  # rank 0 alone prints the table
    assert results(tmp_path / "mpi") == single


@needs_mpi
def test_a_rank_killed_loses_only_its_runs_in_flight_and_the_rerun_finishes(locus, tmp_path):
    config = longer_config(tmp_path)
    out = tmp_path / "out"
    job = subprocess.Popen([*mpirun(2), locus, "sweep", str(config), "--out", str(out), "--jobs",
                            "1", "--quiet"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    victim = rank_process(job.pid, rank=1)  # found first, so that the kill lands mid-sweep
    runs = out / "runs"
    wait_for_run_files(runs, 3)
    os.kill(victim, signal.SIGKILL)
    job.communicate(timeout=120)
    assert job.returncode != 0
    survivors = {p.name: p.read_text() for p in runs.glob("*.json")}
    assert 3 <= len(survivors) < 12

    rerun = sweep(locus, "--out", str(out), "--jobs", "1", launcher=mpirun(2), config=config)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert counts(rerun.stdout) == (len(survivors), 12 - len(survivors))  # nothing run twice
    for name, text in survivors.items():
        assert (runs / name).read_text() == text
    assert not [p for p in runs.iterdir() if p.suffix != ".json"]  # no temporary file left
    clean = sweep(locus, "--out", str(tmp_path / "clean"), "--jobs", "2", config=config)
    assert clean.returncode == 0, clean.stderr
    assert results(out) == results(tmp_path / "clean")


def wait_for_run_files(runs, count, seconds=120):
    """Waits until the folder `runs` holds `count` finished runs (or the time is up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(list(runs.glob("*.json"))) < count:
        time.sleep(0.01)


def rank_process(mpirun_pid, rank):
    """The pid of MPI rank `rank` started by mpirun (its OMPI_COMM_WORLD_RANK)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for entry in pathlib.Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
                status = (entry / "status").read_text()
            except OSError:
                continue
            ppid = int(re.search(r"PPid:\s+(\d+)", status).group(1))
            if ppid == mpirun_pid and f"OMPI_COMM_WORLD_RANK={rank}".encode() in environ:
                return int(entry.name)
        time.sleep(0.05)
    raise AssertionError(f"no rank {rank} under mpirun {mpirun_pid}")


def test_three_shards_and_a_merge_give_the_results_of_one_process(locus, single, tmp_path):
    parts = [tmp_path / f"part{i}" for i in range(3)]
    for i, part in enumerate(parts):
        result = sweep(locus, "--out", str(part), "--shard", f"{i}/3")
        assert result.returncode == 0, result.stderr
        assert f"(shard {i}/3)" in result.stdout
        assert "of the sweep's 6 runs have finished" in result.stdout
        assert "locus sweep merge" in result.stdout

    missing = subprocess.run([locus, "sweep", "merge", str(parts[0]), str(parts[2])],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0
    assert "runs are missing" in missing.stderr and "Traceback" not in missing.stderr

    merged = tmp_path / "merged"
    result = subprocess.run([locus, "sweep", "merge", *map(str, parts), "--out", str(merged)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "all 6 runs present, 6 copied" in result.stdout
    assert "| fixed-gain-sgd" in result.stdout
    assert results(merged) == single


def test_a_shard_killed_loses_only_its_runs_in_flight_and_its_rerun_finishes(locus, tmp_path):
    config = longer_config(tmp_path)
    out = tmp_path / "shared"
    shard = [locus, "sweep", str(config), "--out", str(out), "--jobs", "1", "--quiet", "--shard"]
    job = subprocess.Popen([*shard, "0/2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = out / "runs"
    wait_for_run_files(runs, 2)
    job.kill()  # SIGKILL, as a batch system's time limit or a lost node would
    job.wait(timeout=60)
    survivors = {p.name: p.read_text() for p in runs.glob("*.json")}
    assert len(survivors) >= 2

    rerun = subprocess.run([*shard, "0/2"], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    total = int(re.search(r"(\d+) runs:", rerun.stdout).group(1))
    assert counts(rerun.stdout) == (len(survivors), total - len(survivors))  # nothing run twice
    other = subprocess.run([*shard, "1/2"], capture_output=True, text=True, timeout=300)
    assert other.returncode == 0, other.stderr
    assert counts(other.stdout) == (0, 12 - total)
    assert "| fixed-gain-sgd" in other.stdout  # the last shard to end writes the summary
    for name, text in survivors.items():
        assert (runs / name).read_text() == text
    clean = sweep(locus, "--out", str(tmp_path / "clean"), "--jobs", "2", config=config)
    assert clean.returncode == 0, clean.stderr
    assert results(out) == results(tmp_path / "clean")


def test_two_processes_on_one_folder_run_each_run_once(locus, single, tmp_path):
    out = tmp_path / "shared"
    command = [locus, "sweep", str(TINY), "--out", str(out), "--jobs", "1", "--quiet"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outputs = [first.communicate(timeout=300), second.communicate(timeout=300)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    # Every run was run once, by one of them.
    assert sum(counts(stdout)[1] for stdout, _ in outputs) == 6
    for stdout, _ in outputs:
        assert "| fixed-gain-sgd" in stdout  # each waits for the other's runs and ends complete
    assert results(out) == single


def test_bad_shards_and_a_missing_config_are_usage_errors(locus, tmp_path):
    for bad in ("3/3", "1/0", "a/b", "2"):
        result = sweep(locus, "--out", str(tmp_path / "x"), "--shard", bad)
        assert result.returncode == 2, result.stderr
        assert f"--shard '{bad}' must be i/N" in result.stderr
    result = subprocess.run([locus, "sweep"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "locus sweep needs a config" in result.stderr
    result = subprocess.run([locus, "sweep", "merge", str(tmp_path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "has no sweep.json" in result.stderr


CARTPOLE = ("--env", "CartPole-v1", "--agent", "a2c", "--seeds", "1,2,3")


def train(locus, *args, launcher=()):
    return subprocess.run([*launcher, locus, "train", *args, "--quiet"], capture_output=True,
                          text=True, timeout=300)


def seed_files(folder):
    """Each seed's checkpoint bytes, and the run's summary without its paths, timings and whether
    it was resumed."""
    folder = pathlib.Path(folder)
    checkpoints = {p.parent.name: p.read_bytes() for p in folder.glob("seed_*/checkpoint.bin")}
    summary = json.loads((folder / "summary.json").read_text())
    summary.pop("steps_per_second")
    for run in summary["runs"]:
        for key in ("checkpoint", "wall_seconds", "steps_per_second", "resumed"):
            run.pop(key, None)
    return checkpoints, summary


@needs_mpi
def test_mpirun_train_shares_the_seeds_and_gives_the_files_of_one_process(locus, tmp_path):
    one = train(locus, *CARTPOLE, "--steps", "6000", "--out", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr
    ranks = train(locus, *CARTPOLE, "--steps", "3000", "--out", str(tmp_path / "ranks"),
                  launcher=mpirun(2))
    assert ranks.returncode == 0, ranks.stdout + ranks.stderr
    assert ranks.stdout.count("3 agents: eval return") == 1  # rank 0 alone prints
    # Resumed by the ranks to the same length: the checkpoints of one uninterrupted process.
    resumed = train(locus, "--resume", str(tmp_path / "ranks"), "--steps", "6000",
                    launcher=mpirun(2))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    checkpoints, summary = seed_files(tmp_path / "ranks")
    assert sorted(checkpoints) == ["seed_1", "seed_2", "seed_3"]
    assert (checkpoints, summary) == seed_files(tmp_path / "one")


@needs_mpi
def test_mpirun_train_into_a_used_folder_fails_without_hanging(locus, tmp_path):
    first = train(locus, *CARTPOLE, "--steps", "1000", "--out", str(tmp_path / "run"))
    assert first.returncode == 0, first.stderr
    again = train(locus, *CARTPOLE, "--steps", "1000", "--out", str(tmp_path / "run"),
                  launcher=mpirun(2))
    assert again.returncode != 0
    assert "already holds a run" in again.stderr
