#pragma once
// Names from a config that become one component of a path (a sweep's name in runs/<name>, a run's
// file name): they must stay inside the folder they are joined to, whatever the config says.

#include <optional>
#include <string>
#include <string_view>

namespace locus::util {

// What the names may be, for error messages.
inline constexpr std::string_view kPathNameRule =
    "one folder or file name: not empty, at most 255 bytes, not '.' or '..', without '/', '\\', "
    "NUL or other control characters";

// Why `name` cannot be used as one path component, or nullopt if it can.
inline std::optional<std::string> path_name_problem(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name.size() > 255) return "it is longer than 255 bytes";
  if (name == "." || name == "..") return "it names the current or parent folder";
  for (const char c : name) {
    if (c == '/' || c == '\\') return "it holds a path separator";
    if (c == '\0') return "it holds a NUL character";
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "it holds a control character";
  }
  return std::nullopt;
}

}  // namespace locus::util
