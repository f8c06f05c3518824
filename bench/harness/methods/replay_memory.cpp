#include "bench/harness/methods/replay_memory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "bench/harness/errors.hpp"

namespace locus::bench {

ReplayMemory::ReplayMemory(std::int64_t capacity, bool class_balanced, std::uint64_t seed)
    : capacity_(capacity), class_balanced_(class_balanced), rng_(seed) {
  if (capacity < 1) {
    throw InvalidArgumentError(
        fmt::format("replay memory capacity {} must be at least 1 example", capacity));
  }
  slots_.reserve(static_cast<std::size_t>(capacity));
}

void ReplayMemory::offer(std::span<const float> input, std::int64_t label, std::int64_t task_id,
                         std::int64_t origin_task, std::span<const float> logits) {
  if (label < 0) throw InvalidArgumentError(fmt::format("replay: label {} is negative", label));
  ++offered_;
  StoredExample example{.input = std::vector<float>(input.begin(), input.end()),
                        .logits = std::vector<float>(logits.begin(), logits.end()),
                        .label = label,
                        .task_id = task_id,
                        .origin_task = origin_task};
  if (class_balanced_) {
    offer_balanced(std::move(example));
  } else {
    offer_reservoir(std::move(example));
  }
}

void ReplayMemory::offer_reservoir(StoredExample example) {
  if (size() < capacity_) {
    slots_.push_back(std::move(example));
    return;
  }
  const std::int64_t place = rng_.integers(offered_);  // uniform in [0, n)
  if (place < capacity_) slots_[static_cast<std::size_t>(place)] = std::move(example);
}

void ReplayMemory::offer_balanced(StoredExample example) {
  const auto label = static_cast<std::size_t>(example.label);
  if (seen_per_class_.size() <= label) seen_per_class_.resize(label + 1, 0);
  const std::int64_t seen_of_class = ++seen_per_class_[label];
  if (size() < capacity_) {
    slots_.push_back(std::move(example));
    return;
  }
  std::vector<std::int64_t> held(seen_per_class_.size(), 0);
  for (const auto& stored : slots_) ++held[static_cast<std::size_t>(stored.label)];
  const std::int64_t most = *std::max_element(held.begin(), held.end());
  // The slots of the classes `pick` selects, for a uniform choice among them.
  const auto slots_where = [&](auto pick) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (pick(slots_[i].label)) out.push_back(i);
    }
    return out;
  };
  if (held[label] < most) {
    // Not one of the largest classes: it takes a random place of the largest ones.
    const auto places =
        slots_where([&](std::int64_t c) { return held[static_cast<std::size_t>(c)] == most; });
    slots_[places[static_cast<std::size_t>(
        rng_.integers(static_cast<std::int64_t>(places.size())))]] = std::move(example);
    return;
  }
  // One of the largest: a reservoir over this class's examples.
  const std::int64_t place = rng_.integers(seen_of_class);
  if (place < held[label]) {
    const auto places =
        slots_where([&](std::int64_t c) { return c == static_cast<std::int64_t>(label); });
    slots_[places[static_cast<std::size_t>(place)]] = std::move(example);
  }
}

std::vector<const StoredExample*> ReplayMemory::sample(std::int64_t count) {
  std::vector<std::size_t> order(slots_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto n = static_cast<std::int64_t>(order.size());
  const std::int64_t take = std::min(std::max<std::int64_t>(count, 0), n);
  // A partial Fisher-Yates shuffle: the first `take` places are a uniform draw.
  for (std::int64_t i = 0; i < take; ++i) {
    const std::int64_t j = i + rng_.integers(n - i);
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  std::vector<const StoredExample*> out;
  out.reserve(static_cast<std::size_t>(take));
  for (std::int64_t i = 0; i < take; ++i)
    out.push_back(&slots_[order[static_cast<std::size_t>(i)]]);
  return out;
}

std::int64_t ReplayMemory::bytes() const {
  std::int64_t total = 0;
  for (const auto& stored : slots_) {
    total +=
        static_cast<std::int64_t>((stored.input.size() + stored.logits.size()) * sizeof(float)) +
        static_cast<std::int64_t>(sizeof(std::int64_t));
  }
  return total;
}

}  // namespace locus::bench
