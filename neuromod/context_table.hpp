#pragma once
// The contexts of a network, apart from their parameters: how many there are, the weight set each
// uses, which are frozen and which one is selected. Every backend keeps its parameters in its own
// memory (host vectors, device arrays) but this bookkeeping, and the checks at the Network calls
// that reach it, are the same: HostNetwork and the CUDA network both hold one ContextTable.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "neuromod/network.hpp"
#include "neuromod/network_checks.hpp"

namespace locus::neuromod {

class ContextTable {
 public:
  std::size_t size() const { return frozen_.size(); }
  // The index of `context`; ContextError naming `what` (the call) when there is no such context.
  std::size_t index(ContextId context, std::string_view what) const {
    return checks::context_index(context, frozen_.size(), what);
  }
  // Appends a context using `weight_set` (checked by the caller), not frozen; returns its id.
  ContextId add(std::size_t weight_set) {
    frozen_.push_back(0);
    weight_sets_.push_back(static_cast<std::uint32_t>(weight_set));
    return static_cast<ContextId>(frozen_.size() - 1);
  }

  std::size_t weight_set(ContextId context) const {
    return weight_sets_[index(context, "weight_set")];
  }
  // (contexts): each context's weight set, unchecked, for the per-row loops.
  std::span<const std::uint32_t> weight_sets() const { return weight_sets_; }

  void select(ContextId context) {
    index(context, "select_context");
    selected_ = context;
  }
  ContextId selected() const { return selected_; }

  void set_frozen(ContextId context, bool frozen) {
    frozen_[index(context, "set_frozen")] = frozen ? 1 : 0;
  }
  bool is_frozen(ContextId context) const { return frozen_[index(context, "is_frozen")] != 0; }
  // Whether the context at `i` (< size()) is frozen, unchecked.
  bool frozen_at(std::size_t i) const { return frozen_[i] != 0; }

 private:
  std::vector<char> frozen_;
  std::vector<std::uint32_t> weight_sets_;
  ContextId selected_ = 0;
};

}  // namespace locus::neuromod
