#pragma once
// Error types of the environment API. Each maps to one of Gymnasium's error classes so that the
// Python bindings can raise the exception a Gymnasium user expects.

#include <string>

#include "util/error.hpp"

namespace locus::envs {

// Base of every error raised by locus::envs.
class Error : public locus::Error {
 public:
  using locus::Error::Error;
};

// An environment id that is not registered (gymnasium.error.NameNotFound / VersionNotFound /
// NamespaceNotFound) or that is malformed.
class UnknownEnvError : public Error {
 public:
  explicit UnknownEnvError(const std::string& message) : Error(message, ErrorKind::kUsage) {}
};

// An id registered twice, or a registration with inconsistent arguments.
class RegistrationError : public Error {
 public:
  using Error::Error;
};

// An action that is not in the action space (gymnasium.error.InvalidAction).
class InvalidActionError : public Error {
 public:
  using Error::Error;
};

// step() before reset() (gymnasium.error.ResetNeeded).
class ResetNeededError : public Error {
 public:
  using Error::Error;
};

// Keyword arguments of make(), reset options, or constructor arguments that are unknown,
// of the wrong type, or out of range.
class InvalidArgumentError : public Error {
 public:
  explicit InvalidArgumentError(const std::string& message) : Error(message, ErrorKind::kUsage) {}
};

// A render_mode the env does not support. Python raises it as a TypeError too, as an env whose
// constructor lacks the keyword would: Stable-Baselines3's make_vec_env asks for "rgb_array" and
// retries without a render mode on a TypeError.
class UnsupportedRenderModeError : public InvalidArgumentError {
 public:
  using InvalidArgumentError::InvalidArgumentError;
};

// A caller-provided buffer of the wrong size, or a value that does not fit a space's layout.
class BufferError : public Error {
 public:
  using Error::Error;
};

// A plugin library that cannot be loaded or that registers nothing.
class PluginError : public Error {
 public:
  using Error::Error;
};

// save_state() or restore_state() of an env that cannot capture its whole state
// (Env::supports_state is false): a Python env, a plugin's env, or a wrapper of one.
class UnsupportedStateError : public Error {
 public:
  using Error::Error;
};

// The env checker found a violation of the API contract.
class CheckError : public Error {
 public:
  using Error::Error;
};

}  // namespace locus::envs
