"""The `locus` command that `pip install .` installs, as a user meets it.

The wheel is what CMake installs for the component "python" (python/CMakeLists.txt) plus the
package's .py files (pyproject.toml: wheel.packages), so this test lays out that site-packages
from this build, without recompiling everything as a real `pip install .` would (several minutes
on 2 cores; docs/python.md says how that was checked by hand), and runs the console script's
entry point, `_locus_command:main`, as pip's script does. The source tree is left out of reach
where it matters: the command must run its own copies of the scripts, and Python envs must be
trained by the installed package.

    pytest tests/package/test_pip_command.py --build BUILD_DIR --source SOURCE_DIR
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def site(request, tmp_path_factory) -> Path:
    build = Path(request.config.getoption("--build"))
    source = Path(request.config.getoption("--source"))
    site = tmp_path_factory.mktemp("site-packages")
    subprocess.run(["cmake", "--install", str(build), "--component", "python", "--prefix",
                    str(site)], check=True, stdout=subprocess.DEVNULL)
    for module in (source / "python" / "locus").glob("*.py"):
        shutil.copy(module, site / "locus")
    return site


def locus_command(site: Path, *args: str, cwd: Path, extra_path: Path | None = None):
    """`locus ARGS` through the console script pip writes (pyproject.toml [project.scripts])."""
    path = [str(site)] + ([str(extra_path)] if extra_path else [])
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(path), "HOME": str(cwd)}
    script = "import sys\nfrom _locus_command import main\nsys.argv[0] = 'locus'\nmain()\n"
    return subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300)


def test_pyproject_builds_and_names_the_command(request):
    project = tomllib.loads(
        (Path(request.config.getoption("--source")) / "pyproject.toml").read_text())
    assert project["project"]["scripts"] == {"locus": "_locus_command:main"}
    assert "locus" in project["tool"]["scikit-build"]["build"]["targets"]


def test_the_binary_finds_its_library_in_the_package(site, tmp_path):
    binary = site / "locus" / "_cli" / "locus"
    dynamic = subprocess.run(["readelf", "-d", str(binary)], check=True, text=True,
                             capture_output=True).stdout
    assert "[$ORIGIN/..]" in dynamic
    libraries = subprocess.run(["ldd", str(binary)], check=True, text=True,
                               capture_output=True).stdout
    found = [line.split("=>")[1].split("(")[0].strip() for line in libraries.splitlines()
             if "liblocus_envs.so =>" in line]
    assert [Path(path).resolve() for path in found] == [
        (site / "locus" / "liblocus_envs.so").resolve()]
    version = locus_command(site, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("locus ")


def test_report_runs_the_installed_script(site, tmp_path, request):
    source = Path(request.config.getoption("--source"))
    sweep = locus_command(site, "sweep", str(source / "tests" / "bench" / "tiny_sweep.yaml"),
                          "--out", "sweep", "--jobs", "2", cwd=tmp_path)
    assert sweep.returncode == 0, sweep.stderr
    # The installed copy of make_report.py leaves a mark: the source tree's would not.
    script = site / "locus" / "_resources" / "bench" / "harness" / "make_report.py"
    script.write_text(script.read_text() +
                      "\nopen(os.path.join(sys.argv[1], 'installed-script-ran'), 'w').close()\n")
    report = locus_command(site, "report", "sweep", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "sweep" / "report.html").is_file()
    assert (tmp_path / "sweep" / "installed-script-ran").is_file()


def test_python_envs_train_with_the_installed_package(site, tmp_path):
    envs = tmp_path / "user_envs"
    envs.mkdir()
    (envs / "coin_envs.py").write_text('''
import sys
import gymnasium as gym
import numpy as np

# Which package trains this env: the installed one, not the build tree's.
open("imported-locus-from", "w").write(sys.modules["locus"].__file__)


class Coin(gym.Env):
    observation_space = gym.spaces.Box(0, 1, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.side = 0, int(self.np_random.integers(2))
        return np.eye(2, dtype=np.float32)[self.side], {}

    def step(self, action):
        self.t += 1
        reward = float(action == self.side)
        self.side = int(self.np_random.integers(2))
        return np.eye(2, dtype=np.float32)[self.side], reward, False, self.t >= 10, {}
''')
    train = locus_command(site, "train", "--env", "coin_envs:Coin", "--agent", "a2c", "--steps",
                          "600", "--out", "run", cwd=tmp_path, extra_path=envs)
    assert train.returncode == 0, train.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["env"] == "coin_envs:Coin"
    assert (tmp_path / "run" / "summary.json").is_file()
    imported = Path((tmp_path / "imported-locus-from").read_text())
    assert imported.is_relative_to(site)


def test_a_missing_binary_is_named_with_the_fix(site, tmp_path):
    binary = site / "locus" / "_cli" / "locus"
    binary.rename(binary.with_name("moved"))
    try:
        result = locus_command(site, "--version", cwd=tmp_path)
    finally:
        binary.with_name("moved").rename(binary)
    assert result.returncode != 0
    assert "missing or not executable" in result.stderr
    assert "pip install --force-reinstall ." in result.stderr
