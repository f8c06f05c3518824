#pragma once
// Before a command hands work to a Python interpreter (reports, plots, Python environments), it
// checks that the interpreter is a Python that can import what the work needs. Without the check
// an interpreter that is not Python at all (LOCUS_PYTHON=/bin/true) "succeeds" having done
// nothing, and the command reports success.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace locus::util {

struct CapturedRun {
  int exit_status = -1;  // -1: it could not be started or did not exit normally
  std::string output;    // stdout and stderr together
  std::string start_error;
};

// Runs argv[0] (looked up on PATH) with argv, no shell, and captures what it prints.
inline CapturedRun run_captured(const std::vector<std::string>& argv) {
  CapturedRun result;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.start_error = std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    result.start_error = std::strerror(spawned);
    return result;
  }
  char buffer[4096];
  for (;;) {
    const ssize_t got = read(pipe_fds[0], buffer, sizeof(buffer));
    if (got > 0) {
      result.output.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return result;
  }
  if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  return result;
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
