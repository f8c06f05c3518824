#pragma once
// Error types of locus::bench. Every message names the offending value and what is allowed.

#include <stdexcept>

namespace locus::bench {

// Base of every error raised by locus::bench.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A configuration value, argument or metric input that is out of range or inconsistent.
class InvalidArgumentError : public Error {
 public:
  using Error::Error;
};

// A sweep directory whose files cannot be used: unreadable, or written by a different config.
class SweepStateError : public Error {
 public:
  using Error::Error;
};

}  // namespace locus::bench
