#include "bench/harness/shard.hpp"

#include <fmt/format.h>

#include <charconv>
#include <map>

#include "bench/harness/errors.hpp"

namespace locus::bench {

namespace {

// More shards than any batch system's array (Slurm's MaxArraySize is at most 4,000,001).
constexpr std::size_t kMaxShards = 10'000'000;

bool parse_whole(std::string_view text, std::size_t& value) {
  const char* end = text.data() + text.size();
  const auto [last, error] = std::from_chars(text.data(), end, value);
  return !text.empty() && error == std::errc() && last == end;
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  Shard shard;
  if (slash == std::string::npos ||
      !parse_whole(std::string_view(text).substr(0, slash), shard.index) ||
      !parse_whole(std::string_view(text).substr(slash + 1), shard.count) || shard.count == 0 ||
      shard.count > kMaxShards || shard.index >= shard.count) {
    throw InvalidArgumentError(fmt::format(
        "--shard '{}' must be i/N with whole numbers 0 <= i < N <= {}, e.g. --shard 0/4 for the "
        "first of 4 (Slurm: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)",
        text, kMaxShards));
  }
  return shard;
}

std::vector<char> shard_members(const std::vector<RunSpec>& runs, const Shard& shard) {
  // A control's unit is its source's (followed to the end, should a control take its gain from
  // another control).
  std::vector<std::size_t> unit(runs.size());
  std::map<std::size_t, std::size_t> unit_number;  // the root run's index -> its unit's number
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::size_t root = i;
    for (std::size_t hops = 0; runs[root].source >= 0 && hops < runs.size(); ++hops) {
      root = static_cast<std::size_t>(runs[root].source);
    }
    unit[i] = root;
  }
  std::vector<char> members(runs.size(), 0);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!unit_number.contains(unit[i])) {
      const std::size_t next = unit_number.size();
      unit_number[unit[i]] = next;
    }
    members[i] = unit_number[unit[i]] % shard.count == shard.index ? 1 : 0;
  }
  return members;
}

}  // namespace locus::bench
