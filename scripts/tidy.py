#!/usr/bin/env python3
"""clang-tidy (the checks in .clang-tidy) over locus's C++, within a time budget.

clang-tidy takes 15-50 s per file here (the xtensor, Catch2 and pybind11 headers are parsed for
every file): the whole tree (~200 files) is about an hour on 2 cores, too long for every CI run.
So a run checks, in this order, until its budget is spent:
  1. the files changed since the base (see --base), and for a changed header its own .cpp (or
     the first file that includes it), whose check also covers the header;
  2. the other files, starting at a place that moves with the commit (HEAD's hash), so that
     successive commits cover the whole tree.
A file is started only while the budget lasts (a run ends at most one file's time after it); the
files left out are listed. --all (or LOCUS_TIDY_SECONDS=0) checks everything.

A finding in a changed file (outside the excluded paths, EXCLUDED below) fails the run, and so does
a file that does not compile. A finding in the other files is listed but fails the run only once
ROTATION_FINDINGS_FAIL is set: the whole tree has not been checked in one go yet (`--all`), and a
run should not fail on a file its change did not touch until it has. The compile database is build-tidy/compile_commands.json, a clang configuration of
the whole project made (configure only, no build) when missing.

Usage: python3 scripts/tidy.py [--all] [--base REV] [--seconds N] [FILE...]
  FILE...      check these files only (paths from the repository root), whatever the budget
  --base REV   compare with REV (default: LOCUS_TIDY_BASE, else the merge base with the branch
               main when HEAD is not main, else HEAD~1)
  --seconds N  the budget (default: LOCUS_TIDY_SECONDS, else 120)
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build-tidy"
DEFAULT_SECONDS = 120

# Paths whose findings do not fail the run (yet); each entry is a regex on the path from the
# repository root, with the reason it is here.
EXCLUDED = []

# Set to True once `python3 scripts/tidy.py --all` has run clean: from then on a finding anywhere
# is a regression.
ROTATION_FINDINGS_FAIL = False

SOURCE_SUFFIXES = (".cpp", ".cc")
HEADER_SUFFIXES = (".hpp", ".h")
FINDING = re.compile(r"^(?P<path>[^:\s][^:]*):(?P<line>\d+):(?P<col>\d+): (?P<kind>warning|error): "
                     r"(?P<message>.*)$")


def log(message):
    print(f"\033[1m[locus tidy]\033[0m {message}", flush=True)


def excluded(relative_path):
    return any(re.search(pattern, relative_path) for pattern in EXCLUDED)


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


def compile_database():
    """The files of build-tidy/compile_commands.json (paths from the root), configured again each
    time (a few seconds) so that it lists the files added since."""
    database = BUILD / "compile_commands.json"
    log("configuring build-tidy/ (clang, compile database only)")
    python = ROOT / ".venv" / "bin" / "python"
    command = ["cmake", "-S", str(ROOT), "-B", str(BUILD), "-DCMAKE_BUILD_TYPE=Release",
               "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", "-DLOCUS_CUDA=OFF", "-DLOCUS_PYTHON=ON",
               "-DLOCUS_TESTS=ON", "-DLOCUS_BENCH=ON"]
    if python.exists():
        command.append(f"-DPython3_EXECUTABLE={python}")
    environment = dict(os.environ, CC="clang", CXX="clang++")
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"[locus tidy] cmake failed:\n{result.stdout}{result.stderr}")
    files = []
    for entry in json.loads(database.read_text()):
        path = Path(entry["directory"], entry["file"]).resolve()
        if path.is_relative_to(ROOT) and path.suffix in SOURCE_SUFFIXES:
            files.append(path.relative_to(ROOT).as_posix())
    return sorted(set(files))


def default_base():
    if os.environ.get("LOCUS_TIDY_BASE"):
        return os.environ["LOCUS_TIDY_BASE"]
    head = git("rev-parse", "HEAD").stdout.strip()
    main = git("rev-parse", "--verify", "--quiet", "main").stdout.strip()
    if main and main != head:
        base = git("merge-base", "HEAD", "main").stdout.strip()
        if base:
            return base
    return "HEAD~1"


def changed_files(base):
    """C++ files changed since base (committed or not) and untracked ones, from the root."""
    diff = git("diff", "--name-only", "--diff-filter=ACMR", base)
    if diff.returncode != 0:
        log(f"cannot compare with {base} ({diff.stderr.strip()}): no changed files")
        return []
    untracked = git("ls-files", "--others", "--exclude-standard").stdout.split()
    names = diff.stdout.split() + untracked
    return sorted({n for n in names if n.endswith(SOURCE_SUFFIXES + HEADER_SUFFIXES)})


def file_for_header(header, sources):
    """A source file whose check covers header: its own .cpp, else the first one including it."""
    stem = header.rsplit(".", 1)[0]
    for suffix in SOURCE_SUFFIXES:
        if stem + suffix in sources:
            return stem + suffix
    includers = git("grep", "-l", "-F", f'#include "{header}"', "--", "*.cpp").stdout.split()
    includers += git("grep", "-l", "-F", f'#include "{Path(header).name}"', "--",
                     f"{Path(header).parent.as_posix()}/*.cpp").stdout.split()
    # One outside the excluded paths if there is one (their own findings are not reported).
    includers.sort(key=excluded)
    return next((name for name in includers if name in sources), None)


def plan(sources, changed):
    """The files to check, changed ones first, then the rest from a place that moves with HEAD."""
    first, unchecked = [], []
    for name in changed:
        if excluded(name):
            continue
        target = name if name in sources else None
        if name.endswith(HEADER_SUFFIXES):
            target = file_for_header(name, sources)
        if target is None:
            unchecked.append(name)
        elif target not in first:
            first.append(target)
    if unchecked:
        log(f"not in build-tidy's compile database (CUDA, fuzz targets): {' '.join(unchecked)}")
    rest = [name for name in sources if name not in first and not excluded(name)]
    if rest:
        head = git("rev-parse", "HEAD").stdout.strip() or "0"
        start = int(head, 16) % len(rest)
        rest = rest[start:] + rest[:start]
    return first, rest


def run_clang_tidy(name):
    result = subprocess.run(["clang-tidy", "-p", str(BUILD), "--quiet", str(ROOT / name)],
                            cwd=ROOT, capture_output=True, text=True)
    findings = []
    lines = (result.stdout + result.stderr).splitlines()
    for index, line in enumerate(lines):
        match = FINDING.match(line)
        if not match:
            continue
        path = Path(match["path"]).resolve()
        relative = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        if match["kind"] == "warning" and excluded(relative):
            continue
        context = lines[index + 1:index + 3]
        findings.append((relative, int(match["line"]), line, context, match["kind"] == "error"))
    if result.returncode != 0 and not findings:
        findings.append((name, 0, f"{name}: clang-tidy exited with {result.returncode}",
                         lines[-5:], True))
    return findings


def check(files, required_count, seconds):
    """Runs clang-tidy on files (the first required_count regardless of the budget)."""
    deadline = time.monotonic() + seconds if seconds > 0 else None
    lock = threading.Lock()
    next_index = [0]
    checked, findings = [], {}  # findings: (path, line, text) -> (finding, the file checked)

    def worker():
        while True:
            with lock:
                index = next_index[0]
                over = deadline is not None and time.monotonic() > deadline
                if index >= len(files) or (over and index >= required_count):
                    return
                next_index[0] += 1
            name = files[index]
            started = time.monotonic()
            result = run_clang_tidy(name)
            with lock:
                checked.append(name)
                status = f"{len(result)} finding(s)" if result else "clean"
                log(f"{name}: {status} ({time.monotonic() - started:.0f} s)")
                for finding in result:
                    findings.setdefault(finding[:3], (finding, name))

    jobs = os.cpu_count() or 2
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for future in [pool.submit(worker) for _ in range(jobs)]:
            future.result()
    return checked, [findings[key] for key in sorted(findings)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--base", default=None)
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("LOCUS_TIDY_SECONDS", DEFAULT_SECONDS)))
    args = parser.parse_args()
    if shutil.which("clang-tidy") is None:
        sys.exit("[locus tidy] clang-tidy not found: apt-get install clang-tidy (scripts/setup.sh)")
    sources = compile_database()
    if args.files:
        unknown = [name for name in args.files if name not in sources]
        if unknown:
            sys.exit(f"[locus tidy] not in build-tidy/compile_commands.json: {' '.join(unknown)}")
        files, first, required, seconds = args.files, args.files, len(args.files), 0
        changed = args.files
    else:
        base = args.base or default_base()
        changed = changed_files(base)
        first, rest = plan(sources, changed)
        seconds = 0 if args.all else args.seconds
        files, required = first + rest, 0
        log(f"{len(changed)} C++ file(s) changed since {base}: checking {len(first)} file(s) for "
            f"them, then the others" + (f" for up to {seconds:.0f} s" if seconds else ""))
    started = time.monotonic()
    checked, findings = check(files, required, seconds)
    strict = ROTATION_FINDINGS_FAIL or args.all
    fatal = 0
    for (path, _, line, context, is_error), checked_file in findings:
        # A compile error, or a finding in a changed file or in a header a changed file brought in.
        is_fatal = is_error or strict or checked_file in first or path in changed
        fatal += is_fatal
        print(line if is_fatal else f"{line} (in a file this change did not touch: not fatal yet)")
        for context_line in context:
            print(context_line)
    skipped = [name for name in files if name not in checked]
    if skipped:
        changed_skipped = [name for name in skipped if name in first]
        if changed_skipped:
            log(f"NOT CHECKED (budget spent), changed: {' '.join(changed_skipped)}")
        log(f"{len(skipped) - len(changed_skipped)} other file(s) left for later runs")
    summary = f"{len(checked)} file(s) in {time.monotonic() - started:.0f} s"
    if fatal:
        log(f"{fatal} finding(s) in {summary}: fix them (the checks and why: .clang-tidy)")
        return 1
    log(f"clean: {summary}" + (f" ({len(findings)} finding(s) in untouched files)" if findings else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
