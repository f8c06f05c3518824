#pragma once
// A duration as progress lines show it: "42s", "3m07s", "2h05m"; "?" when unknown (NaN, negative).

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace locus::util {

inline std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long>(std::lround(seconds));
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace locus::util
