#pragma once
// Error types of the spiking microcircuit (locus::neuromod::spiking).

#include <stdexcept>
#include <string>

namespace locus::neuromod::spiking {

// Base of every error raised by locus::neuromod::spiking.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A parameter, knob or argument outside what the model allows; the message names the value and
// the allowed range.
class InvalidArgumentError : public Error {
 public:
  using Error::Error;
};

// A file (CSV output) that cannot be written.
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace locus::neuromod::spiking
