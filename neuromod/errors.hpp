#pragma once
// Error types of locus::neuromod. Every message names the offending value and what is allowed, so a
// caller can fix the call without reading the source.

#include <string>

#include "util/error.hpp"

namespace locus::neuromod {

// Base of every error raised by locus::neuromod.
class Error : public locus::Error {
 public:
  using locus::Error::Error;
};

// A specification, option or argument that is out of range or inconsistent.
class InvalidArgumentError : public Error {
 public:
  explicit InvalidArgumentError(const std::string& message) : Error(message, ErrorKind::kUsage) {}
};

// A batch, gradient or parameter buffer whose shape does not match the network.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A context id that does not exist, or an operation a context's state does not allow.
class ContextError : public Error {
 public:
  using Error::Error;
};

// NaN or infinity in an input, a gradient or a parameter; the message says where it appeared.
class NonFiniteError : public Error {
 public:
  using Error::Error;
};

// A GPU that is missing, out of memory or failing: the message names the CUDA or cuBLAS call, its
// status and, where known, the sizes involved.
class DeviceError : public Error {
 public:
  using Error::Error;
};

// A checkpoint or context file that cannot be read: missing, truncated, corrupt (checksum), of an
// unknown format version, or written for a different network.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

}  // namespace locus::neuromod
