#pragma once
// Memory checks made before a large allocation: a config that asks for more memory than the
// machine has is refused up front with the estimate in the message, instead of growing until the
// allocator fails (std::bad_alloc) or the kernel's OOM killer ends the process.
//
// Estimates use saturating arithmetic: a product of absurd sizes saturates at UINT64_MAX instead
// of wrapping round to a small number that would pass the check.

#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace locus::util {

inline constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();

inline std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a > kSaturated - b ? kSaturated : a + b;
}

inline std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > kSaturated / b ? kSaturated : a * b;
}

template <class... Rest>
std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b, Rest... rest) {
  return saturating_mul(saturating_mul(a, b), static_cast<std::uint64_t>(rest)...);
}

// "1.5 GiB", "12 MiB", "512 B"; "more than 16 EiB" for a saturated estimate.
inline std::string format_bytes(std::uint64_t bytes) {
  if (bytes == kSaturated) return "more than 16 EiB";
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 6) {
    value /= 1024.0;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

namespace detail {
// A number of bytes from a one-value file such as /sys/fs/cgroup/memory.max ("max": no limit).
inline std::optional<std::uint64_t> read_bytes_file(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// MemAvailable of /proc/meminfo: what the kernel can give without swapping.
inline std::optional<std::uint64_t> meminfo_available() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  std::uint64_t value = 0;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return saturating_mul(value, 1024);  // reported in kB
  }
  return std::nullopt;
}
}  // namespace detail

// Bytes this process can still allocate: /proc/meminfo's MemAvailable, lowered to the headroom
// of a cgroup v2 memory limit (a container's) if one is set; sysconf's available pages where
// /proc is missing; nullopt if nothing says (then no check refuses anything).
inline std::optional<std::uint64_t> available_memory_bytes() {
  std::optional<std::uint64_t> available = detail::meminfo_available();
  if (!available) {
    const long pages = sysconf(_SC_AVPHYS_PAGES);
    const long page_size = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page_size > 0) {
      available =
          saturating_mul(static_cast<std::uint64_t>(pages), static_cast<std::uint64_t>(page_size));
    }
  }
  const auto limit = detail::read_bytes_file("/sys/fs/cgroup/memory.max");
  const auto used = detail::read_bytes_file("/sys/fs/cgroup/memory.current");
  if (limit && used) {
    const std::uint64_t headroom = *limit > *used ? *limit - *used : 0;
    available = available ? std::min(*available, headroom) : headroom;
  }
  return available;
}

// The message for an estimate that does not fit, or nullopt if it fits (or the available memory
// is unknown). `what` names the thing (e.g. "the vector env of 1048576 CartPole-v1 envs") and
// `advice` says which settings to lower.
inline std::optional<std::string> memory_shortfall(std::uint64_t estimate_bytes,
                                                   std::string_view what, std::string_view advice) {
  const std::optional<std::uint64_t> available = available_memory_bytes();
  if (!available || estimate_bytes <= *available) return std::nullopt;
  return fmt::format("{} needs at least {} of memory, but only {} is available (MemAvailable); {}",
                     what, format_bytes(estimate_bytes), format_bytes(*available), advice);
}

// Throws Error(message) if the estimate does not fit in the available memory.
template <class Error>
void require_memory(std::uint64_t estimate_bytes, std::string_view what, std::string_view advice) {
  if (auto message = memory_shortfall(estimate_bytes, what, advice)) throw Error(*message);
}

}  // namespace locus::util
