#pragma once
// Every parameter of a network, shared and per context, in parameters() order: the whole learned
// state in one vector, for tests that check that something left it unchanged.

#include <vector>

#include "neuromod/network.hpp"

namespace locus::testing {

inline std::vector<float> all_parameters(const neuromod::Network& network) {
  std::vector<float> out;
  for (const auto& info : network.parameters()) {
    const auto values = network.read_parameter(info.name, info.context);
    out.insert(out.end(), values.begin(), values.end());
  }
  return out;
}

}  // namespace locus::testing
