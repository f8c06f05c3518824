#include "agents/policy/body.hpp"

#include <algorithm>

#include "agents/policy/feed_forward_body.hpp"
#include "agents/policy/recurrent_body.hpp"

namespace locus::agents {

std::unique_ptr<PolicyBody> make_policy_body(neuromod::Network& network) {
  if (network.spec().is_recurrent()) return std::make_unique<RecurrentBody>(network);
  return std::make_unique<FeedForwardBody>(network);
}

RecurrentState gather_state(const RecurrentState& state, std::span<const std::size_t> envs) {
  RecurrentState out;
  out.reserve(state.size());
  for (const Matrix& tensor : state) {
    const std::size_t width = tensor.shape()[1];
    Matrix rows({envs.size(), width});
    for (std::size_t k = 0; k < envs.size(); ++k) {
      std::copy_n(tensor.data() + envs[k] * width, width, rows.data() + k * width);
    }
    out.push_back(std::move(rows));
  }
  return out;
}

}  // namespace locus::agents
