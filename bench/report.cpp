#include "bench/report.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdlib>

#include "bench/errors.hpp"

namespace locus::bench {

namespace {
// Single-quotes a word for /bin/sh.
std::string shell_quote(const std::string& word) {
  std::string out = "'";
  for (const char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

std::string report_python() {
  if (const char* python = std::getenv("LOCUS_PYTHON"); python && *python) return python;
#ifdef LOCUS_BENCH_PYTHON
  if (std::filesystem::exists(LOCUS_BENCH_PYTHON)) return LOCUS_BENCH_PYTHON;
#endif
  return "python3";
}

std::filesystem::path report_script() {
  if (const char* script = std::getenv("LOCUS_REPORT_SCRIPT"); script && *script) return script;
  return LOCUS_BENCH_REPORT_SCRIPT;
}

std::filesystem::path make_report(const std::filesystem::path& sweep_dir) {
  if (!std::filesystem::exists(sweep_dir / "results.jsonl")) {
    throw SweepStateError(fmt::format(
        "'{}' holds no finished sweep (no results.jsonl); run `locus sweep CONFIG --out {}` first",
        sweep_dir.string(), sweep_dir.string()));
  }
  const std::filesystem::path script = report_script();
  if (!std::filesystem::exists(script)) {
    throw SweepStateError(
        fmt::format("report script '{}' not found (set LOCUS_REPORT_SCRIPT)", script.string()));
  }
  const std::string command =
      fmt::format("{} {} {}", shell_quote(report_python()), shell_quote(script.string()),
                  shell_quote(sweep_dir.string()));
  const int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw SweepStateError(fmt::format("the report script failed (exit status {}): {}",
                                      WIFEXITED(status) ? WEXITSTATUS(status) : -1, command));
  }
  return sweep_dir / "report.html";
}

}  // namespace locus::bench
