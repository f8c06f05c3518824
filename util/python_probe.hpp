#pragma once
// The Python interpreter a command hands work to (reports, plots, Python environments), found one
// way everywhere, and the check that it can do the work. Without the check an interpreter that is
// not Python at all (LOCUS_PYTHON=/bin/true) "succeeds" having done nothing, and the command
// reports success.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "util/process.hpp"

namespace locus::util {

// The interpreter, in order: $LOCUS_PYTHON; the .venv next to the build the running program was
// built in (<repo>/.venv for <repo>/<build>/bin/locus, then <build>/.venv), where
// scripts/setup.sh installs the packages; the first of `fallbacks` (paths the caller's build
// knows, such as the Python CMake found) that exists; python3 on PATH.
inline std::string python_interpreter(std::initializer_list<std::string> fallbacks = {}) {
  if (const char* chosen = std::getenv("LOCUS_PYTHON"); chosen != nullptr && *chosen != '\0') {
    return chosen;
  }
  namespace fs = std::filesystem;
  const auto runnable = [](const fs::path& path) { return ::access(path.c_str(), X_OK) == 0; };
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    const fs::path build = self.parent_path().parent_path();  // <build>/bin/<program>
    for (const fs::path& venv : {build.parent_path() / ".venv", build / ".venv"}) {
      if (runnable(venv / "bin" / "python")) return (venv / "bin" / "python").string();
    }
  }
  for (const std::string& fallback : fallbacks) {
    if (!fallback.empty() && runnable(fallback)) return fallback;
  }
  return "python3";
}

// Why `python` cannot do Python work that imports `modules`, or nullopt if it can: it must start,
// run Python 3 code and import each module. The reason quotes the interpreter's own last line
// (an ImportError, say).
inline std::optional<std::string> python_problem(const std::string& python,
                                                 const std::vector<std::string>& modules) {
  constexpr const char* kMarker = "locus-python-probe-ok";
  std::string code = "import sys\nassert sys.version_info[0] == 3, sys.version\n";
  for (const auto& module : modules) code += "import " + module + "\n";
  code += std::string("sys.stdout.write('") + kMarker + "')\n";
  const CapturedRun run = run_captured({python, "-c", code});
  if (!run.start_error.empty()) {
    return "'" + python + "' cannot be started (" + run.start_error + ")";
  }
  if (run.exit_status == 0 && run.output.find(kMarker) != std::string::npos) return std::nullopt;
  std::string last_line = run.output;
  while (!last_line.empty() && (last_line.back() == '\n' || last_line.back() == '\r')) {
    last_line.pop_back();
  }
  if (const auto newline = last_line.rfind('\n'); newline != std::string::npos) {
    last_line = last_line.substr(newline + 1);
  }
  std::string needs = "run Python 3";
  for (std::size_t i = 0; i < modules.size(); ++i) {
    needs += (i == 0 ? " and import " : ", ") + modules[i];
  }
  return "'" + python + "' cannot " + needs + " (exit status " + std::to_string(run.exit_status) +
         ", " + (last_line.empty() ? std::string("printed nothing") : "said: " + last_line) + ")";
}

}  // namespace locus::util
