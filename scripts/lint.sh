#!/usr/bin/env bash
# The C++ style and static checks, run by scripts/test.sh before the sanitizer builds (so that they
# fail first, and cheaply):
#   clang-format  every C++ file must match .clang-format (the whole tree: ~3 s).
#                 Fix with: clang-format -i <file>
#   clang-tidy    the checks in .clang-tidy on the files changed since the merge base with main (or
#                 the last commit), then on the others within a time budget (scripts/tidy.py:
#                 LOCUS_TIDY_SECONDS, default 120; `python3 scripts/tidy.py --all` checks the whole
#                 tree, about an hour on 2 cores).
# LOCUS_SKIP_LINT=1 skips both (for quick local runs; CI runs them).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1m[locus lint]\033[0m %s\n' "$*"; }
if [[ "${LOCUS_SKIP_LINT:-0}" == "1" ]]; then
  log "skipped (LOCUS_SKIP_LINT=1)"
  exit 0
fi

cpp_files() {  # NUL-separated: the C++ files git knows (tracked or new), else every one outside builds
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard -- \
      '*.cpp' '*.hpp' '*.h' '*.cc' '*.cu' '*.cuh' |
      while IFS= read -r -d '' file; do [[ -f $file ]] && printf '%s\0' "$file"; done
  else
    find . \( -path './build*' -o -path './.venv*' -o -path './.git' \) -prune -o -type f \
      \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cc' -o -name '*.cu' -o -name '*.cuh' \) \
      -print0
  fi
}

log "clang-format: checking the C++ files against .clang-format"
unformatted=$(cpp_files | xargs -0 -r clang-format --dry-run -Werror 2>&1 |
  grep -oE '^[^:]+:[0-9]+:[0-9]+: error' | cut -d: -f1 | sort -u || true)
if [[ -n $unformatted ]]; then
  log "clang-format: these files are not formatted (clang-format -i FILE...):"
  printf '  %s\n' $unformatted >&2
  exit 1
fi
log "clang-format: clean"

python3 scripts/tidy.py
