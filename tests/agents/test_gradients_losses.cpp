// The agents' actor-critic loss (agents/losses.cpp) by central differences: its hand-written
// gradients with respect to the policy outputs, the value outputs and the head's own parameters
// (the Gaussian log std), for A2C and for PPO with the clipped surrogate and the clipped value
// loss, through both action heads. test_policy.cpp checks the heads' log-probability and entropy
// gradients alone, and the categorical loss against neuromod's reference; this checks how
// losses.cpp composes them (the surrogate's clip, the value clip, the coefficients), which nothing
// else differentiates numerically.

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "agents/losses.hpp"
#include "agents/policy/categorical_head.hpp"
#include "agents/policy/gaussian_head.hpp"

using namespace locus::agents;
using locus::neuromod::Matrix;

namespace {

constexpr std::size_t kRows = 6;

Matrix normal_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  Matrix m({rows, cols});
  for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

// A minibatch whose PPO ratios and value moves fall on both sides of their clips.
struct Batch {
  Matrix policy, value, actions;
  std::vector<float> advantages = {0.5f, -1.0f, 2.0f, 0.1f, -0.3f, 1.2f};
  std::vector<float> returns = {1.0f, 0.0f, -1.0f, 2.0f, 0.5f, 0.3f};
  std::vector<float> old_log_probs = std::vector<float>(kRows);
  std::vector<float> old_values = std::vector<float>(kRows);
  Batch(ActionHead& head, Matrix actions_, std::uint64_t seed)
      : policy(normal_matrix(kRows, head.units(), seed)),
        value(normal_matrix(kRows, 1, seed + 1)),
        actions(std::move(actions_)) {
    head.log_probs(policy, actions, old_log_probs);
    // Ratios exp(+-0.5) leave [0.8, 1.2]; exp(+-0.05) stay inside.
    const float shifts[kRows] = {0.5f, -0.05f, -0.5f, 0.05f, 0.5f, -0.5f};
    // Value moves of +-0.6 leave the 0.2 clip; +-0.05 stay inside.
    const float moves[kRows] = {0.6f, -0.05f, -0.6f, 0.05f, -0.6f, 0.6f};
    for (std::size_t k = 0; k < kRows; ++k) {
      old_log_probs[k] += shifts[k];
      old_values[k] = value(k, 0) - moves[k];
    }
  }
};

// The loss's total, and its gradients (policy, value, head parameters) when asked.
double loss_of(ActionHead& head, const Batch& b, const Matrix& policy, const Matrix& value,
               const LossSettings& settings, Matrix& policy_gradient, Matrix& value_gradient) {
  for (auto& p : head.parameters()) std::fill(p.gradient.begin(), p.gradient.end(), 0.0f);
  const LossTargets targets{b.actions, b.advantages, b.returns, b.old_log_probs, b.old_values};
  return actor_critic_loss(head, policy, value, targets, settings, policy_gradient, value_gradient)
      .total;
}

// d total / d x[i] by central differences, x being one of the inputs that `total` reads.
void check_against_differences(const char* what, std::span<float> x,
                               std::span<const float> analytic,
                               const std::function<double()>& total, double& largest) {
  const double h = 1e-3;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float saved = x[i];
    x[i] = saved + float(h);
    const double up = total();
    x[i] = saved - float(h);
    const double down = total();
    x[i] = saved;
    const double numeric = (up - down) / (2 * h);
    largest = std::max(largest, std::abs(numeric));
    INFO(what << " element " << i);
    CHECK(analytic[i] == Approx(numeric).margin(2e-3));
  }
}

void check_loss_gradients(ActionHead& head, Batch& b, const LossSettings& settings) {
  Matrix policy_gradient, value_gradient, ignored_policy, ignored_value;
  loss_of(head, b, b.policy, b.value, settings, policy_gradient, value_gradient);
  std::vector<std::vector<float>> parameter_gradients;
  for (auto& p : head.parameters())
    parameter_gradients.emplace_back(p.gradient.begin(), p.gradient.end());
  const auto total = [&] {
    return loss_of(head, b, b.policy, b.value, settings, ignored_policy, ignored_value);
  };
  double largest = 0.0;
  check_against_differences("policy output", {b.policy.data(), b.policy.size()},
                            {policy_gradient.data(), policy_gradient.size()}, total, largest);
  check_against_differences("value output", {b.value.data(), b.value.size()},
                            {value_gradient.data(), value_gradient.size()}, total, largest);
  auto parameters = head.parameters();
  for (std::size_t p = 0; p < parameters.size(); ++p) {
    check_against_differences("head parameter", parameters[p].value, parameter_gradients[p], total,
                              largest);
  }
  CHECK(largest > 0.05);  // the check compared something
}

const LossSettings kA2c{.entropy_coef = 0.05f};
const LossSettings kPpo{
    .clipped = true, .clip_epsilon = 0.2f, .value_clip = 0.2f, .entropy_coef = 0.05f};

}  // namespace

TEST_CASE("the actor-critic loss's gradients match central differences, categorical head",
          "[agents][gradients]") {
  CategoricalHead head(3, 0);
  Matrix actions({kRows, 1});
  for (std::size_t k = 0; k < kRows; ++k) actions(k, 0) = float((k * 2) % 3);
  for (const LossSettings& settings : {kA2c, kPpo}) {
    INFO((settings.clipped ? "PPO" : "A2C"));
    Batch batch(head, actions, 7);
    check_loss_gradients(head, batch, settings);
  }
}

TEST_CASE(
    "the actor-critic loss's gradients, log std included, match central differences, "
    "Gaussian head",
    "[agents][gradients]") {
  GaussianHead head({-2.0, -1.0}, {2.0, 1.0}, -0.3f);
  head.parameters()[0].value[1] = 0.2f;  // two different standard deviations
  for (const LossSettings& settings : {kA2c, kPpo}) {
    INFO((settings.clipped ? "PPO" : "A2C"));
    Batch batch(head, normal_matrix(kRows, 2, 9, 1.5f), 8);
    check_loss_gradients(head, batch, settings);
  }
}
