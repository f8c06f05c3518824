#pragma once
// Shared by the envs tests that assert on warnings: routes locus::envs::warn into a list while the
// capture lives.

#include <string>
#include <vector>

#include "envs/env.hpp"

namespace locus::envs::testing {

class WarningCapture {
 public:
  WarningCapture() {
    messages().clear();
    set_warning_handler(&record);
  }
  ~WarningCapture() { set_warning_handler(nullptr); }
  WarningCapture(const WarningCapture&) = delete;
  WarningCapture& operator=(const WarningCapture&) = delete;

  // The warnings since the capture started (or since the last clear()).
  static std::vector<std::string>& messages() {
    static std::vector<std::string> captured;  // the handler is a plain function pointer
    return captured;
  }
  static void clear() { messages().clear(); }
  static bool saw(const std::string& part) {
    for (const auto& message : messages()) {
      if (message.find(part) != std::string::npos) return true;
    }
    return false;
  }

 private:
  static void record(const std::string& message) { messages().push_back(message); }
};

}  // namespace locus::envs::testing
