#pragma once
// The weight gain s_w of every weighted slot (the layers, then the heads): 1 until set, checked the
// same way on every backend (HostNetwork and the CUDA network both hold one).

#include <cstddef>
#include <vector>

#include "neuromod/network_checks.hpp"

namespace locus::neuromod {

class WeightGains {
 public:
  // `slots` gains of 1.
  void reset(std::size_t slots) { gains_.assign(slots, 1.0f); }
  std::size_t size() const { return gains_.size(); }
  // Network::set_weight_gain and weight_gain: the slot and the value checked.
  void set(std::size_t slot, float gain) {
    checks::weight_gain_slot("set_weight_gain", slot, gains_.size());
    checks::weight_gain_value(gain, slot);
    gains_[slot] = gain;
  }
  float get(std::size_t slot) const {
    checks::weight_gain_slot("weight_gain", slot, gains_.size());
    return gains_[slot];
  }
  // Unchecked, for the products.
  float operator[](std::size_t slot) const { return gains_[slot]; }

 private:
  std::vector<float> gains_;
};

}  // namespace locus::neuromod
