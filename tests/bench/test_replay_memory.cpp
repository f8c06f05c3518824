// The replay memory: reservoir sampling keeps every example with probability capacity / n, the
// class-balanced memory keeps rare classes, draws are without replacement, bad sizes refused.

#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <vector>

#include "bench/harness/errors.hpp"
#include "bench/harness/methods/replay_memory.hpp"

using locus::bench::ReplayMemory;

namespace {

void offer_index(ReplayMemory& memory, std::int64_t index, std::int64_t label) {
  const float pixel = static_cast<float>(index);
  memory.offer(std::span<const float>(&pixel, 1), label, /*task_id=*/0, /*origin_task=*/0);
}

std::vector<std::int64_t> held_per_class(const ReplayMemory& memory, std::size_t classes) {
  std::vector<std::int64_t> held(classes, 0);
  for (const auto& stored : memory.examples()) ++held[static_cast<std::size_t>(stored.label)];
  return held;
}

}  // namespace

TEST_CASE("the reservoir keeps every example with probability capacity / n", "[bench][replay]") {
  // 100 examples offered to 10 places, 4000 times with different seeds: each example is kept
  // 400 times in expectation (binomial sd 19); a chi-square over the 100 counts stays below its
  // 99.9 % quantile (148 for 99 degrees of freedom) unless the sampling is biased.
  constexpr std::int64_t kOffered = 100, kCapacity = 10, kTrials = 4000;
  std::vector<std::int64_t> kept(kOffered, 0);
  for (std::int64_t trial = 0; trial < kTrials; ++trial) {
    ReplayMemory memory(kCapacity, /*class_balanced=*/false, static_cast<std::uint64_t>(trial));
    for (std::int64_t i = 0; i < kOffered; ++i) offer_index(memory, i, 0);
    REQUIRE(memory.size() == kCapacity);
    for (const auto& stored : memory.examples()) ++kept[static_cast<std::size_t>(stored.input[0])];
  }
  const double expected = static_cast<double>(kTrials * kCapacity) / kOffered;
  double chi_square = 0.0;
  for (const auto count : kept) {
    chi_square += (static_cast<double>(count) - expected) *
                  (static_cast<double>(count) - expected) / expected;
  }
  CAPTURE(chi_square, kept.front(), kept.back());
  CHECK(chi_square < 148.0);
  // The first and the last examples alike (a memory that stops accepting fails here).
  CHECK(std::fabs(static_cast<double>(kept.front()) - expected) < 5 * 19.0);
  CHECK(std::fabs(static_cast<double>(kept.back()) - expected) < 5 * 19.0);
}

TEST_CASE("the class-balanced memory keeps the rare classes", "[bench][replay]") {
  // 900 examples of class 0, then 90 of class 1, then 10 of class 2, into 60 places: a reservoir
  // would keep about 54, 5 and 1; the balanced memory keeps all 10 of class 2 and splits the rest.
  ReplayMemory memory(60, /*class_balanced=*/true, 3);
  std::int64_t index = 0;
  for (const auto& [label, count] :
       std::vector<std::pair<std::int64_t, int>>{{0, 900}, {1, 90}, {2, 10}}) {
    for (int i = 0; i < count; ++i) offer_index(memory, index++, label);
  }
  const auto held = held_per_class(memory, 3);
  CAPTURE(held[0], held[1], held[2]);
  CHECK(memory.size() == 60);
  CHECK(held[2] == 10);
  CHECK(held[0] == 25);
  CHECK(held[1] == 25);
  ReplayMemory reservoir(60, /*class_balanced=*/false, 3);
  index = 0;
  for (const auto& [label, count] :
       std::vector<std::pair<std::int64_t, int>>{{0, 900}, {1, 90}, {2, 10}}) {
    for (int i = 0; i < count; ++i) offer_index(reservoir, index++, label);
  }
  CHECK(held_per_class(reservoir, 3)[0] > 45);
}

TEST_CASE("draws are without replacement and bounded by what is stored", "[bench][replay]") {
  ReplayMemory memory(8, false, 1);
  for (std::int64_t i = 0; i < 5; ++i) offer_index(memory, i, i % 2);
  const auto all = memory.sample(20);
  CHECK(all.size() == 5);
  std::set<const locus::bench::StoredExample*> distinct(all.begin(), all.end());
  CHECK(distinct.size() == 5);
  CHECK(memory.sample(3).size() == 3);
  CHECK(memory.sample(0).empty());
  CHECK(memory.bytes() == 5 * static_cast<std::int64_t>(sizeof(float) + sizeof(std::int64_t)));
}

TEST_CASE("a memory of no places is refused", "[bench][replay]") {
  CHECK_THROWS_WITH(ReplayMemory(0, false, 1), Catch::Contains("at least 1 example"));
}
