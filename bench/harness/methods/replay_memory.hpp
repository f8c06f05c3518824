#pragma once
// Experience replay's memory (Chaudhry et al. 2019, "On Tiny Episodic Memories in Continual
// Learning"): a fixed number of training examples kept from the stream, replayed beside every
// new minibatch.
//
//   reservoir       Vitter's algorithm R: the n-th example offered is kept with probability
//                   capacity / n, in the place of a uniformly chosen one, so the memory is at any
//                   time a uniform sample of everything seen (each example with probability
//                   capacity / n), whatever the task boundaries;
//   class-balanced  class-balancing reservoir sampling (Chrysakis & Moens 2020, "Online Continual
//                   Learning from Imbalanced Data"): once the memory is full, an example of a
//                   class that is not among the largest in memory takes the place of a random
//                   example of the largest classes; one of a largest class replaces a random
//                   example of its own class with probability (held / seen) of that class, a
//                   reservoir within the class. Rare classes keep their examples.
//
// Draws come from the memory's own generator (seeded), so a run replays the same examples for any
// thread count.

#include <cstdint>
#include <span>
#include <vector>

#include "envs/rng.hpp"

namespace locus::bench {

struct StoredExample {
  std::vector<float> input;
  std::vector<float> logits;  // the network's outputs when stored (dark replay), else empty
  std::int64_t label = 0;
  std::int64_t task_id = -1;  // what the scenario reveals (-1: hidden)
  std::int64_t origin_task = 0;
};

class ReplayMemory {
 public:
  // capacity >= 1 (throws InvalidArgumentError otherwise).
  ReplayMemory(std::int64_t capacity, bool class_balanced, std::uint64_t seed);

  // Offers one training example to the memory.
  void offer(std::span<const float> input, std::int64_t label, std::int64_t task_id,
             std::int64_t origin_task, std::span<const float> logits = {});
  // `count` stored examples drawn uniformly without replacement (all of them when the memory holds
  // fewer), in draw order.
  std::vector<const StoredExample*> sample(std::int64_t count);

  std::int64_t size() const { return static_cast<std::int64_t>(slots_.size()); }
  std::int64_t capacity() const { return capacity_; }
  std::int64_t offered() const { return offered_; }
  const std::vector<StoredExample>& examples() const { return slots_; }
  // Bytes of the stored inputs and their labels.
  std::int64_t bytes() const;

 private:
  void offer_reservoir(StoredExample example);
  void offer_balanced(StoredExample example);

  std::int64_t capacity_;
  bool class_balanced_;
  envs::Rng rng_;
  std::int64_t offered_ = 0;
  std::vector<StoredExample> slots_;
  // Class-balanced: examples offered per class (the within-class reservoir's n).
  std::vector<std::int64_t> seen_per_class_;
};

}  // namespace locus::bench
