"""The documentation's promises, checked: every relative link in the Markdown files resolves (to a
file, a folder, or a heading of the linked page), nothing in the repository refers to a design
document outside it, and no #include runs against the layers that docs/architecture.md describes.

Run: python3 -m pytest -q tests/docs (CTest runs it as "docs: ...").
"""

from __future__ import annotations

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
    "neuromod/spiking": set(),
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


def without_code(text: str) -> str:
    """Markdown text with fenced code blocks and inline code removed (links there are not links)."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


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
    for line in without_code(path.read_text(encoding="utf-8")).splitlines():
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
    page.write_text(
        "[ok](there.md#a-heading) `[code](missing.md)` [bad](missing.md) [anchor](there.md#nope)\n",
        encoding="utf-8",
    )
    problems = broken_links(page)
    assert len(problems) == 2, problems
    assert "missing.md" in problems[0] and "#nope" in problems[1]


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
