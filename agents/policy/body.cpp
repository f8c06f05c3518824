#include "agents/policy/body.hpp"

#include <algorithm>
#include <numeric>

#include "agents/policy/feed_forward_body.hpp"
#include "agents/policy/recurrent_body.hpp"

namespace locus::agents {

std::unique_ptr<PolicyBody> make_policy_body(neuromod::Network& network) {
  if (network.spec().is_recurrent()) return std::make_unique<RecurrentBody>(network);
  return std::make_unique<FeedForwardBody>(network);
}

std::vector<std::vector<std::size_t>> shuffled_groups(std::size_t n, std::size_t count,
                                                      AgentRandom& random) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (count > 1) {
    for (std::size_t k = n; k-- > 1;) std::swap(order[k], order[random.below(k + 1)]);
  }
  const std::size_t size = n / count;
  std::vector<std::vector<std::size_t>> groups(count);
  for (std::size_t b = 0; b < count; ++b) {
    const std::size_t end = b + 1 == count ? n : (b + 1) * size;
    groups[b].assign(order.begin() + std::ptrdiff_t(b * size), order.begin() + std::ptrdiff_t(end));
  }
  return groups;
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
