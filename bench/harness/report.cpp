#include "bench/harness/report.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdlib>
#include <optional>

#include "bench/harness/errors.hpp"
#include "util/installed_file.hpp"
#include "util/process.hpp"
#include "util/python_probe.hpp"

namespace locus::bench {

namespace {
// What tells a rewritten file from the one that was there: os.replace() gives a new inode, and an
// in-place write a new modification time.
struct FileStamp {
  ino_t inode = 0;
  timespec modified{};
  bool operator==(const FileStamp& other) const {
    return inode == other.inode && modified.tv_sec == other.modified.tv_sec &&
           modified.tv_nsec == other.modified.tv_nsec;
  }
};

std::optional<FileStamp> stamp_of(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  return FileStamp{info.st_ino, info.st_mtim};
}

}  // namespace

std::string report_python() {
#ifdef LOCUS_BENCH_PYTHON
  return util::python_interpreter({LOCUS_BENCH_PYTHON});
#else
  return util::python_interpreter();
#endif
}

std::filesystem::path report_script() {
  if (const char* script = std::getenv("LOCUS_REPORT_SCRIPT"); script && *script) return script;
  return util::installed_or_source("bench/harness/make_report.py", LOCUS_BENCH_REPORT_SCRIPT);
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
  const std::string python = report_python();
  if (const auto problem = util::python_problem(python, {"matplotlib"})) {
    throw SweepStateError(fmt::format(
        "cannot write the report: {}. Set LOCUS_PYTHON to a Python 3 with matplotlib, or run "
        "`bash scripts/setup.sh` (it makes the repository's .venv with it)",
        *problem));
  }
  std::filesystem::path report = sweep_dir / "report.html";
  const std::optional<FileStamp> before = stamp_of(report);
  const std::vector<std::string> argv = {python, script.string(), sweep_dir.string()};
  const std::string command = util::command_text(argv);
  if (const int status = util::run_program(argv); status != 0) {
    throw SweepStateError(
        fmt::format("the report script failed (exit status {}): {}", status, command));
  }
  // Exit status 0 is not enough: a script replaced by something else may "succeed" doing nothing.
  const std::optional<FileStamp> after = stamp_of(report);
  if (!after || (before && *after == *before)) {
    throw SweepStateError(fmt::format("the report script exited 0 but did not write {}: {}",
                                      report.string(), command));
  }
  return report;
}

}  // namespace locus::bench
