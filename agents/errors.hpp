#pragma once
// Error types of locus::agents. Every message names the offending value and what is allowed.
//
// A bad configuration is a usage error: ConfigError derives from envs::InvalidArgumentError so the
// command line maps it to exit status 2 like every other bad argument. A checkpoint or run
// directory that cannot be used, and a loss that went non-finite, are runtime errors (exit 1).

#include "envs/errors.hpp"

namespace locus::agents {

// An unknown key, agent, modulation or network mode, a value out of range, or an environment whose
// spaces the agent cannot handle.
class ConfigError : public envs::InvalidArgumentError {
 public:
  using envs::InvalidArgumentError::InvalidArgumentError;
};

// Base of the runtime errors of locus::agents.
class Error : public locus::Error {
 public:
  using locus::Error::Error;
};

// A checkpoint that is missing, truncated, corrupt (checksum) or written by another configuration.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

// An output directory that holds another run, or a run directory without a run to resume.
class RunDirectoryError : public Error {
 public:
  using Error::Error;
};

// A run stopped early on request (StopFlag, Ctrl-C in the command line), every agent at a
// checkpoint: `locus train --resume DIR` continues it exactly.
class RunInterrupted : public Error {
 public:
  using Error::Error;
};

// A loss, advantage or parameter that became NaN or infinite during training.
class TrainingError : public Error {
 public:
  using Error::Error;
};

}  // namespace locus::agents
