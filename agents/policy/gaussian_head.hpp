#pragma once
// A diagonal Gaussian policy over a float32 Box: the policy head gives the mean, and a learned
// state-independent log standard deviation (one per action dimension, as SB3's) the spread:
//   log pi(a) = sum_d -0.5 z_d^2 - log_std_d - log sqrt(2 pi),  z_d = (a_d - mu_d) / exp(log_std_d)
//   H = sum_d log_std_d + 0.5 + log sqrt(2 pi).
// The env gets each sample clipped to the Box; the unclipped sample is stored and learned from.

#include "agents/policy/action_head.hpp"

namespace locus::agents {

class GaussianHead final : public ActionHead {
 public:
  GaussianHead(std::vector<double> low, std::vector<double> high, float init_log_std);

  std::size_t units() const override { return low_.size(); }
  std::size_t action_width() const override { return low_.size(); }
  float sample(std::span<const float> outputs, AgentRandom& random, std::span<float> action,
               double& entropy) const override;
  void greedy(std::span<const float> outputs, std::span<float> action) const override;
  void step(envs::VectorEnv& env, std::span<const float> actions) override;
  void log_probs(const Matrix& outputs, const Matrix& actions, std::span<float> out) const override;
  void add_log_prob_gradient(const Matrix& outputs, const Matrix& actions,
                             std::span<const float> scale, Matrix& gradient) override;
  double entropy(const Matrix& outputs, float scale, Matrix& gradient) override;
  std::vector<HeadParameter> parameters() override;
  // Clamps log_std to [-5, 2], which keeps exp(log_std) sane.
  void after_step() override;

  const std::vector<float>& log_std() const { return log_std_; }

 private:
  std::vector<double> low_, high_;
  std::vector<float> log_std_, log_std_gradient_;
  std::vector<float> env_actions_;
};

}  // namespace locus::agents
