#pragma once

#include <stdexcept>

namespace locus::config {

// Config text that cannot be read: not YAML or JSON, or something a config cannot hold (a key
// given twice, a non-finite number). The message starts with the source's name (and, for YAML,
// the line: "sweep.yaml, line 4: ...") and says how to fix it. Callers turn it into their own
// error class (agents::ConfigError, bench::InvalidArgumentError).
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace locus::config
