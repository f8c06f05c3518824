#pragma once
// Error types of locus::bench. Every message names the offending value and what is allowed.

#include <string>

#include "util/error.hpp"

namespace locus::bench {

// Base of every error raised by locus::bench.
class Error : public locus::Error {
 public:
  using locus::Error::Error;
};

// A configuration value, argument or metric input that is out of range or inconsistent.
class InvalidArgumentError : public Error {
 public:
  explicit InvalidArgumentError(const std::string& message) : Error(message, ErrorKind::kUsage) {}
};

// A sweep directory whose files cannot be used: unreadable, or written by a different config.
class SweepStateError : public Error {
 public:
  using Error::Error;
};

}  // namespace locus::bench
