#pragma once
// Running another program (the Python scripts that draw reports and plots, the interpreter probe)
// without a shell, so that no path or argument is ever parsed by one, and showing such a command so
// that a user can paste it into a shell.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace locus::util {

namespace detail {

inline std::vector<char*> argv_pointers(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  return args;
}

// The exit status of `pid` once it ends; -1 if it did not exit normally (a signal).
inline int wait_exit_status(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace detail

// Runs argv[0] (looked up on PATH) with argv; it prints where this process prints. Returns its exit
// status, -1 if it could not be started or did not exit normally.
inline int run_program(const std::vector<std::string>& argv) {
  std::vector<char*> args = detail::argv_pointers(argv);
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  return detail::wait_exit_status(pid);
}

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
  std::vector<char*> args = detail::argv_pointers(argv);
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
  result.exit_status = detail::wait_exit_status(pid);
  return result;
}

// argv as a /bin/sh command line (each word single-quoted), for messages that say what to run.
inline std::string command_text(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& word : argv) {
    if (!text.empty()) text += ' ';
    text += '\'';
    for (const char c : word) text += c == '\'' ? std::string("'\\''") : std::string(1, c);
    text += '\'';
  }
  return text;
}

}  // namespace locus::util
