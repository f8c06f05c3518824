"""The documentation's promises, checked: every relative link in the Markdown files resolves (to a
file, a folder, or a heading of the linked page), every repository path the pages write in code
(`bench/harness/metrics.hpp`, `envs/wrappers/`) exists, nothing in the repository refers to a design
document outside it, and no #include runs against the layers that docs/architecture.md describes.

Run: python3 -m pytest -q tests/docs (CTest runs it as "docs: ...").
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The outside design document this repository once pointed to; spelled in two pieces so that this
# file does not refer to it.
OUTSIDE_DOCUMENT = re.compile("DESIGN" + r"(\.md|\s*§)")

# docs/architecture.md, "Layers": what each folder may include besides itself.
LAYER_INCLUDES = {
    "util": set(),
    "config": {"util"},
    "envs": {"util", "config"},
    "neuromod": {"util", "config"},
    "neuromod/spiking": {"util"},
    "agents": {"envs", "neuromod", "util", "config"},
    "supervised": {"envs", "neuromod", "util", "config"},
    "bench": {"agents", "supervised", "envs", "neuromod", "neuromod/spiking", "util", "config"},
}
# Folders an #include names; a deeper layer (neuromod/spiking) is matched before its parent.
KNOWN_LAYERS = sorted(
    set(LAYER_INCLUDES) | {"cli", "python", "tests", "examples"}, key=len, reverse=True
)


def repository_files() -> list[Path]:
    """The files of the working tree that git tracks or would track (ignored ones left out)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, check=True, capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: cannot tell the repository's files from build outputs")
    files = [ROOT / name for name in out.decode().split("\0") if name]
    return [f for f in files if f.is_file()]


def markdown_files() -> list[Path]:
    return sorted(f for f in repository_files() if f.suffix == ".md")


def without_fences(text: str) -> str:
    """Markdown text with fenced code blocks removed (a '#' line there is not a heading)."""
    return re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.S | re.M)


def without_code(text: str) -> str:
    """Markdown text with fenced code blocks and inline code removed (links there are not links)."""
    return re.sub(r"`[^`\n]*`", "", without_fences(text))


LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def links(path: Path) -> list[str]:
    return LINK.findall(without_code(path.read_text(encoding="utf-8")))


def github_anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    # Inline code stays: GitHub keeps its text in the anchor ("The `train` flags": the-train-flags).
    for line in without_fences(path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        anchor = github_anchor(match.group(1))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def broken_links(path: Path) -> list[str]:
    problems = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists():
            problems.append(f"{target}: no such file or folder")
        elif anchor and resolved.is_file() and resolved.suffix == ".md":
            if anchor not in anchors(resolved):
                problems.append(f"{target}: no heading '#{anchor}' in {resolved.name}")
    return problems


def test_the_pages_exist():
    for page in ["README.md", "docs/architecture.md", "bench/RESULTS.md"]:
        assert (ROOT / page).is_file(), page
    assert len(markdown_files()) >= 3


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path):
    problems = broken_links(page)
    assert not problems, f"{page.relative_to(ROOT)}: " + "; ".join(problems)


def test_the_link_checker_finds_a_broken_link(tmp_path: Path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# A heading\n", encoding="utf-8")
    (tmp_path / "code.md").write_text("# The `train` flags\n", encoding="utf-8")
    page.write_text(
        "[ok](there.md#a-heading) `[code](missing.md)` [bad](missing.md) [anchor](there.md#nope)\n"
        "[code heading](code.md#the-train-flags)\n",
        encoding="utf-8",
    )
    problems = broken_links(page)
    assert len(problems) == 2, problems
    assert "missing.md" in problems[0] and "#nope" in problems[1]


# Paths in code that name no file of the repository on purpose: what a command writes (a sweep's
# DIR/..., runs/..., the build tree build/...), an ignored folder of copied binaries (.device/) and
# a peer library's source (gymnasium/...).
PATHS_OUTSIDE_THE_REPOSITORY = ("DIR/", "runs/", "build/", ".device/", "gymnasium/")

FENCED_BLOCK = re.compile(r"^(```|~~~)[^\n]*\n(.*?)^\1", re.S | re.M)
EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]*$")
# A path-like word: no placeholder (<id>, $VAR), not absolute, not a flag or a URL.
PATH_WORD = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.*?{},/+-]*$")


def code_text(text: str) -> list[str]:
    """The code of a Markdown page: its fenced blocks and its inline code spans."""
    blocks = [match.group(2) for match in FENCED_BLOCK.finditer(text)]
    return blocks + re.findall(r"`([^`\n]+)`", FENCED_BLOCK.sub("", text))


def written_paths(text: str) -> list[str]:
    """The words in the page's code that look like repository paths: with a '/' and either a file
    extension (`bench/harness/grid.cpp`, `neuromod/recurrent_layer.*`) or a final '/'
    (`envs/data/`)."""
    found = []
    for code in code_text(text):
        for word in re.split(r"[\s;()\[\]=\"']+", code):
            word = word.rstrip(".,:")
            if "/" not in word or "://" in word or not PATH_WORD.match(word):
                continue
            if EXTENSION.search(word) or word.endswith("/"):
                found.append(word)
    return found


def brace_alternatives(path: str) -> list[str]:
    """`a_{x,y}.json` as `a_x.json` and `a_y.json`."""
    match = re.search(r"\{([^{}]*)\}", path)
    if not match:
        return [path]
    return [
        expanded
        for choice in match.group(1).split(",")
        for expanded in brace_alternatives(path[: match.start()] + choice + path[match.end() :])
    ]


def missing_paths(page: str, text: str, files: list[str]) -> list[str]:
    """The paths written in the code of `page` (relative to the root) that name no file or folder
    of `files` (relative paths): resolved from the root or the page's folder, a glob needing one
    match. A word whose first folder is not one of the repository's top-level ones may also be a
    short form inside a sentence that names its parent (`classic_control/`): the end of a path."""
    folders = {parent for f in files for parent in _parents(posixpath.dirname(f))}
    entries = set(files) | folders
    top_level = {f.split("/")[0] for f in files}

    def exists(path: str) -> bool:
        path = path.rstrip("/")
        if any(c in path for c in "*?"):
            return any(fnmatch.fnmatchcase(entry, path) for entry in entries)
        return path in entries

    def is_tail(path: str) -> bool:
        return any(fnmatch.fnmatchcase(entry, "*/" + path.rstrip("/")) for entry in entries)

    missing = []
    for word in written_paths(text):
        if word.startswith(PATHS_OUTSIDE_THE_REPOSITORY):
            continue
        # `params.hpp/.cpp`: the header and its source.
        word_path = re.sub(r"(\.[A-Za-z0-9]+)/\.[A-Za-z0-9]+$", r"\1", word)
        for path in brace_alternatives(word_path):
            beside_page = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
            if exists(posixpath.normpath(path)) or exists(beside_page):
                continue
            if path.split("/")[0] not in top_level and is_tail(path):
                continue
            missing.append(word)
            break
    return sorted(set(missing))


def _parents(folder: str) -> list[str]:
    parts = folder.split("/") if folder else []
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_paths_in_code_exist(page: Path):
    files = [f.relative_to(ROOT).as_posix() for f in repository_files()]
    relative = page.relative_to(ROOT).as_posix()
    missing = missing_paths(relative, page.read_text(encoding="utf-8"), files)
    assert not missing, f"{relative} names paths the repository does not have: " + ", ".join(
        missing
    )


def test_the_path_checker_finds_a_stale_path():
    files = ["bench/harness/metrics.hpp", "envs/classic_control/cartpole.cpp", "docs/bench.md"]
    text = (
        "`bench/harness/metrics.hpp` `bench/metrics.hpp` `locus sweep bench/configs/old.yaml`\n"
        "`classic_control/` `report/make_report.py` `bench/harness/*.hpp` `bench/studies/*.cpp`\n"
        "`runs/default/report.html` `DIR/runs/<id>.json` `../envs/classic_control/`\n"
        "```sh\npython3 bench/report/plot.py runs/x\n```\n"
    )
    assert missing_paths("docs/bench.md", text, files) == [
        "bench/configs/old.yaml",
        "bench/metrics.hpp",
        "bench/report/plot.py",
        "bench/studies/*.cpp",
        "report/make_report.py",
    ]


def test_nothing_refers_to_a_document_outside_the_repository():
    offenders = []
    for path in repository_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_DOCUMENT.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert not offenders, (
        "the repository must explain itself; move the facts into docs/ and point there:\n"
        + "\n".join(offenders)
    )


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(relative: str) -> str | None:
    for layer in KNOWN_LAYERS:
        if relative == layer or relative.startswith(layer + "/"):
            return layer
    return None


def test_includes_follow_the_layers():
    violations = []
    for path in repository_files():
        if path.suffix not in {".hpp", ".cpp", ".cu", ".h", ".cuh"}:
            continue
        relative = path.relative_to(ROOT).as_posix()
        source = layer_of(relative)
        if source not in LAYER_INCLUDES:
            continue  # cli/, python/, tests/, examples/ may include any library
        allowed = LAYER_INCLUDES[source] | {source}
        for included in INCLUDE.findall(path.read_text(encoding="utf-8", errors="replace")):
            target = layer_of(included)
            if target is not None and target not in allowed:
                violations.append(f"{relative} includes {included} ({source} -> {target})")
    assert not violations, "includes against docs/architecture.md's layers:\n" + "\n".join(
        violations
    )
