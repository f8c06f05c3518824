#pragma once
// The one base of every error locus raises. Each subsystem (config, envs, neuromod, spiking,
// agents, bench) derives its own classes from it, so that a caller can catch one type for all of
// locus, and the command line (cli/main.cpp) and the Python bindings
// (python/src/errors.cpp) turn every error into a message and an exit status or a Python class in
// one place each.

#include <stdexcept>
#include <string>

namespace locus {

// What the error means for whoever called: kUsage is input the caller can fix (a config value, an
// argument, an id, a file of the wrong kind; the command line exits with status 2), kRuntime is
// something that went wrong while running (status 1).
enum class ErrorKind { kRuntime, kUsage };

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ErrorKind kind = ErrorKind::kRuntime)
      : std::runtime_error(message), kind_(kind) {}
  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace locus
