#pragma once
// Before a command hands work to a Python interpreter (reports, plots, Python environments), it
// checks that the interpreter is a Python that can import what the work needs. Without the check
// an interpreter that is not Python at all (LOCUS_PYTHON=/bin/true) "succeeds" having done
// nothing, and the command reports success.

#include <optional>
#include <string>
#include <vector>

#include "util/process.hpp"

namespace locus::util {

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
