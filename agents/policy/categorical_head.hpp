#pragma once
// A categorical policy over Discrete(n) actions: the policy head gives n logits,
// pi = softmax(logits).

#include <cstdint>

#include "agents/policy/action_head.hpp"

namespace locus::agents {

class CategoricalHead final : public ActionHead {
 public:
  // `first` is the space's start (Discrete(n, start)): action index k is sent as first + k.
  CategoricalHead(std::size_t classes, std::int64_t first);

  std::size_t units() const override { return classes_; }
  std::size_t action_width() const override { return 1; }
  std::size_t classes() const override { return classes_; }
  float sample(std::span<const float> outputs, AgentRandom& random, std::span<float> action,
               double& entropy) const override;
  void greedy(std::span<const float> outputs, std::span<float> action) const override;
  void step(envs::VectorEnv& env, std::span<const float> actions) override;
  void log_probs(const Matrix& outputs, const Matrix& actions, std::span<float> out) const override;
  void add_log_prob_gradient(const Matrix& outputs, const Matrix& actions,
                             std::span<const float> scale, Matrix& gradient) override;
  double entropy(const Matrix& outputs, float scale, Matrix& gradient) override;

 private:
  std::size_t classes_;
  std::int64_t first_;
  std::vector<std::int64_t> env_actions_;
  mutable std::vector<double> probabilities_;  // sample()'s scratch
};

}  // namespace locus::agents
