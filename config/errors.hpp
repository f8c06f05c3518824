#pragma once

#include <string>

#include "util/error.hpp"

namespace locus::config {

// Config text that cannot be read: not YAML or JSON, or something a config cannot hold (a key
// given twice, a non-finite number). The message starts with the source's name (and, for YAML,
// the line: "sweep.yaml, line 4: ...") and says how to fix it. A usage error: the caller's input.
class ParseError : public locus::Error {
 public:
  explicit ParseError(const std::string& message) : locus::Error(message, ErrorKind::kUsage) {}
};

}  // namespace locus::config
