#pragma once
// Error types of the spiking microcircuit (locus::neuromod::spiking).

#include <string>

#include "util/error.hpp"

namespace locus::neuromod::spiking {

// Base of every error raised by locus::neuromod::spiking.
class Error : public locus::Error {
 public:
  using locus::Error::Error;
};

// A parameter, knob or argument outside what the model allows; the message names the value and
// the allowed range.
class InvalidArgumentError : public Error {
 public:
  explicit InvalidArgumentError(const std::string& message) : Error(message, ErrorKind::kUsage) {}
};

// A file (CSV output) that cannot be written.
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace locus::neuromod::spiking
