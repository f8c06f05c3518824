#!/usr/bin/env python3
"""Lists the tests CTest skipped, with their reasons, and fails when a required one is among them.

CTest counts a skipped test (SKIP_RETURN_CODE, e.g. an oracle test whose Python reference is not
installed) as passed and names it only in a list above its summary, without the reason; a
reference that silently went missing would turn a comparison into a no-op. scripts/test.sh runs
CTest with --output-junit and then this script, whose last line names every skipped test.

Usage: skipped_tests.py <ctest-junit.xml> [--require REGEX]
  --require REGEX  a skipped test whose name matches REGEX (Python re.search) fails the run
                   (default '^oracle: ': the references the README's test command installs).
Exit status: 0, 1 when a required test skipped, 2 when the report cannot be read.
"""

import argparse
import re
import sys
import xml.etree.ElementTree as ElementTree


def skipped_tests(report_path):
    """(name, reason) of every test the JUnit report marks skipped or not run."""
    root = ElementTree.parse(report_path).getroot()
    skipped = []
    for case in root.iter("testcase"):
        if case.get("status") not in ("notrun", "disabled"):
            continue
        output = (case.findtext("system-out") or "").strip().splitlines()
        reason_lines = [line for line in output if line.lower().startswith("skipped")]
        reason = (reason_lines or output or [case.get("status")])[-1]
        reason = re.sub(r"^skipped:?\s*", "", reason, flags=re.IGNORECASE)
        skipped.append((case.get("name"), reason))
    return skipped


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", help="the file ctest --output-junit wrote")
    parser.add_argument("--require", default="^oracle: ",
                        help="regex of test names that must not skip (default: %(default)s)")
    args = parser.parse_args()
    try:
        skipped = skipped_tests(args.report)
    except (OSError, ElementTree.ParseError) as error:
        print(f"[locus tests] cannot read CTest's report {args.report}: {error}", file=sys.stderr)
        return 2
    required = re.compile(args.require)
    missing = [(name, reason) for name, reason in skipped if required.search(name)]
    for name, reason in skipped:
        mark = " (required)" if required.search(name) else ""
        print(f"[locus tests] skipped{mark}: {name}: {reason}")
    if missing:
        print(f"[locus tests] {len(missing)} test(s) matching '{args.require}' skipped; they must "
              "run (scripts/setup.sh installs their references)", file=sys.stderr)
        return 1
    names = ", ".join(name for name, _ in skipped) or "none"
    print(f"[locus tests] skipped: {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
