// The parts of a policy, each against an independent reference: the action heads' gradients by
// finite differences, the losses against neuromod's reference actor-critic loss, and the bodies:
// a recurrent body acting step by step computes what its learning pass over the rollout computes.

#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <random>

#include "agents/losses.hpp"
#include "agents/policy/body.hpp"
#include "agents/policy/categorical_head.hpp"
#include "agents/policy/gaussian_head.hpp"
#include "agents/policy/policy_network.hpp"
#include "neuromod/losses.hpp"

using namespace locus::agents;
using locus::neuromod::Matrix;

namespace {

Matrix random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  Matrix m({rows, cols});
  for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

Matrix zeros(std::size_t rows, std::size_t cols) {
  Matrix m({rows, cols});
  std::fill(m.data(), m.data() + m.size(), 0.0f);
  return m;
}

// sum_k scale_k log pi_k + entropy_scale * mean H, in doubles through the head's own functions.
double objective(ActionHead& head, const Matrix& outputs, const Matrix& actions,
                 const std::vector<float>& scale, float entropy_scale) {
  std::vector<float> log_probs(scale.size());
  head.log_probs(outputs, actions, log_probs);
  double total = 0.0;
  for (std::size_t k = 0; k < scale.size(); ++k) total += double(scale[k]) * log_probs[k];
  Matrix ignored = zeros(outputs.shape()[0], outputs.shape()[1]);
  return total + entropy_scale * head.entropy(outputs, 0.0f, ignored);
}

// Checks the head's analytic gradient of objective() against central differences in the outputs
// and in the head's own parameters.
void check_head_gradient(ActionHead& head, Matrix outputs, const Matrix& actions) {
  const std::size_t rows = outputs.shape()[0], units = outputs.shape()[1];
  const std::vector<float> scale = {0.7f, -1.3f, 0.4f, 1.1f};
  REQUIRE(scale.size() == rows);
  const float entropy_scale = 0.3f;
  Matrix gradient = zeros(rows, units);
  for (auto& p : head.parameters()) std::fill(p.gradient.begin(), p.gradient.end(), 0.0f);
  head.add_log_prob_gradient(outputs, actions, scale, gradient);
  head.entropy(outputs, entropy_scale, gradient);
  double largest = 0.0;
  const double h = 1e-3;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const float saved = outputs.data()[i];
    outputs.data()[i] = saved + float(h);
    const double up = objective(head, outputs, actions, scale, entropy_scale);
    outputs.data()[i] = saved - float(h);
    const double down = objective(head, outputs, actions, scale, entropy_scale);
    outputs.data()[i] = saved;
    const double numeric = (up - down) / (2 * h);
    largest = std::max(largest, std::abs(numeric));
    CHECK(gradient.data()[i] == Approx(numeric).margin(2e-3));
  }
  for (auto& p : head.parameters()) {
    for (std::size_t i = 0; i < p.value.size(); ++i) {
      const float saved = p.value[i];
      p.value[i] = saved + float(h);
      const double up = objective(head, outputs, actions, scale, entropy_scale);
      p.value[i] = saved - float(h);
      const double down = objective(head, outputs, actions, scale, entropy_scale);
      p.value[i] = saved;
      const double numeric = (up - down) / (2 * h);
      largest = std::max(largest, std::abs(numeric));
      CHECK(p.gradient[i] == Approx(numeric).margin(2e-3));
    }
  }
  CHECK(largest > 0.05);  // the check compared something
}

}  // namespace

TEST_CASE("the categorical head's gradients match finite differences", "[agents][policy]") {
  CategoricalHead head(3, 0);
  Matrix actions({4, 1});
  for (std::size_t k = 0; k < 4; ++k) actions(k, 0) = float(k % 3);
  check_head_gradient(head, random_matrix(4, 3, 1), actions);
}

TEST_CASE("the Gaussian head's gradients, log std included, match finite differences",
          "[agents][policy]") {
  GaussianHead head({-2.0, -1.0}, {2.0, 1.0}, -0.3f);
  auto parameters = head.parameters();
  REQUIRE(parameters.size() == 1);
  parameters[0].value[1] = 0.2f;  // two different standard deviations
  check_head_gradient(head, random_matrix(4, 2, 2), random_matrix(4, 2, 3, 1.5f));
}

TEST_CASE("a categorical head samples by its probabilities and steps from the space's start",
          "[agents][policy]") {
  CategoricalHead head(3, 0);
  AgentRandom random(5);
  const std::vector<float> logits = {0.0f, std::log(2.0f), std::log(7.0f)};  // p = .1, .2, .7
  std::vector<int> counts(3, 0);
  double entropy = 0.0;
  float action = 0.0f;
  for (int i = 0; i < 20000; ++i) {
    const float log_prob = head.sample(logits, random, {&action, 1}, entropy);
    counts[std::size_t(action)] += 1;
    CHECK(log_prob == Approx(std::log(std::vector<double>{0.1, 0.2, 0.7}[std::size_t(action)])));
  }
  CHECK(counts[0] / 20000.0 == Approx(0.1).margin(0.01));
  CHECK(counts[2] / 20000.0 == Approx(0.7).margin(0.015));
  float greedy = -1.0f;
  head.greedy(logits, {&greedy, 1});
  CHECK(greedy == 2.0f);
}

TEST_CASE("the categorical actor-critic loss equals neuromod's reference loss",
          "[agents][policy]") {
  const std::size_t rows = 6;
  const Matrix logits = random_matrix(rows, 3, 11);
  const Matrix values = random_matrix(rows, 1, 12);
  std::vector<std::int32_t> labels = {0, 2, 1, 1, 0, 2};
  Matrix actions({rows, 1});
  for (std::size_t k = 0; k < rows; ++k) actions(k, 0) = float(labels[k]);
  std::vector<float> advantages = {0.5f, -1.0f, 2.0f, 0.1f, -0.3f, 1.2f};
  std::vector<float> returns = {1.0f, 0.0f, -1.0f, 2.0f, 0.5f, 0.3f};
  std::vector<float> old_values(rows, 0.0f);
  for (const bool ppo : {false, true}) {
    INFO("ppo " << ppo);
    std::vector<float> old_log_probs(rows);
    CategoricalHead head(3, 0);
    head.log_probs(logits, actions, old_log_probs);
    // Old probabilities that put some ratios outside the clip range.
    for (std::size_t k = 0; k < rows; ++k) old_log_probs[k] += (k % 2 ? 0.4f : -0.05f);
    const LossSettings settings{.clipped = ppo, .clip_epsilon = 0.2f};
    Matrix policy_gradient, value_gradient;
    const LossTerms terms = actor_critic_loss(
        head, logits, values, LossTargets{actions, advantages, returns, old_log_probs, old_values},
        settings, policy_gradient, value_gradient);
    Matrix reference_policy, reference_value;
    const auto reference = locus::neuromod::actor_critic_loss(
        logits, values, labels, advantages, returns,
        ppo ? std::span<const float>(old_log_probs) : std::span<const float>(),
        {.value_coef = settings.value_coef,
         .entropy_coef = settings.entropy_coef,
         .clip_epsilon = settings.clip_epsilon},
        &reference_policy, &reference_value);
    CHECK(terms.total == Approx(reference.total).epsilon(1e-5));
    CHECK(terms.policy == Approx(reference.policy).epsilon(1e-5));
    CHECK(terms.value == Approx(reference.value).epsilon(1e-5));
    CHECK(terms.entropy == Approx(reference.entropy).epsilon(1e-5));
    for (std::size_t i = 0; i < policy_gradient.size(); ++i) {
      CHECK(policy_gradient.data()[i] == Approx(reference_policy.data()[i]).margin(1e-6));
    }
    for (std::size_t i = 0; i < value_gradient.size(); ++i) {
      CHECK(value_gradient.data()[i] == Approx(reference_value.data()[i]).margin(1e-6));
    }
  }
}

TEST_CASE("PPO's clipped value loss takes the larger error and no gradient through the clip",
          "[agents][policy]") {
  CategoricalHead head(2, 0);
  Matrix logits = zeros(2, 2), actions = zeros(2, 1), values({2, 1});
  values(0, 0) = 1.0f;  // moved +1 from old 0: clipped to 0.2, error (0.2 - 2)^2 > (1 - 2)^2
  values(1, 0) = 0.1f;  // inside the clip range: plain error
  const std::vector<float> advantages = {0.0f, 0.0f}, returns = {2.0f, 1.0f};
  const std::vector<float> old_log_probs = {std::log(0.5f), std::log(0.5f)};
  const std::vector<float> old_values = {0.0f, 0.0f};
  Matrix policy_gradient, value_gradient;
  const LossTerms terms = actor_critic_loss(
      head, logits, values, LossTargets{actions, advantages, returns, old_log_probs, old_values},
      LossSettings{.clipped = true, .value_clip = 0.2f, .value_coef = 0.5f, .entropy_coef = 0.0f},
      policy_gradient, value_gradient);
  CHECK(terms.value == Approx((1.8 * 1.8 + 0.9 * 0.9) / 2));
  CHECK(value_gradient(0, 0) == 0.0f);
  CHECK(value_gradient(1, 0) == Approx(0.5 * 2 * (0.1 - 1.0) / 2));
}

TEST_CASE("minibatches cover the rollout once: rows, or whole env sequences when recurrent",
          "[agents][policy]") {
  AgentConfig config;
  config.hidden = {8};
  for (const PolicyType policy : {PolicyType::kMlp, PolicyType::kGru}) {
    config.policy = policy;
    auto network = make_policy_network(config, 3, 2, 1);
    auto body = make_policy_body(*network);
    REQUIRE(body->recurrent() == (policy != PolicyType::kMlp));
    AgentRandom random(3);
    const std::size_t steps = 5, envs = 6;
    const auto batches = body->minibatches(steps, envs, 3, random);
    REQUIRE(batches.size() == 3);
    std::vector<int> seen(steps * envs, 0);
    for (const auto& batch : batches) {
      for (std::size_t row : batch.rows) seen[row] += 1;
      if (body->recurrent()) {
        REQUIRE(batch.envs.size() == 2);
        for (std::size_t t = 0; t < steps; ++t) {
          for (std::size_t k = 0; k < batch.envs.size(); ++k) {
            CHECK(batch.rows[t * batch.envs.size() + k] == t * envs + batch.envs[k]);
          }
        }
      }
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
    const auto whole = body->minibatches(steps, envs, 1, random).front();
    std::vector<std::size_t> in_order(steps * envs);
    std::iota(in_order.begin(), in_order.end(), std::size_t{0});
    CHECK(whole.rows == in_order);
  }
}

TEST_CASE("a recurrent body acting step by step computes what its pass over the rollout does",
          "[agents][policy][recurrent]") {
  for (const PolicyType policy : {PolicyType::kRnn, PolicyType::kGru, PolicyType::kLstm}) {
    for (const NetworkMode mode : {NetworkMode::kModulated, NetworkMode::kTrainable}) {
      AgentConfig config;
      config.policy = policy;
      config.network = mode;
      config.hidden = {8, 5};  // a recurrent layer under a feed-forward one
      auto network = make_policy_network(config, 3, 2, 7);
      auto body = make_policy_body(*network);
      const std::size_t steps = 6, envs = 3;
      const Matrix inputs = random_matrix(steps * envs, 3, 9);
      std::vector<std::uint8_t> starts(steps * envs, 0);
      starts[0] = starts[1] = starts[2] = 1;
      starts[3 * envs + 1] = 1;  // env 1 begins an episode at step 3
      // A non-zero state before the rollout: that of a previous stretch.
      RecurrentState state = body->initial_state(envs);
      const Matrix warmup = random_matrix(envs, 3, 10);
      std::vector<std::uint8_t> fresh(envs, 1);
      body->act(warmup, fresh, state);
      const RecurrentState initial = state;
      std::fill(starts.begin(), starts.begin() + envs, 0);
      std::vector<float> acted_values, acted_logits;
      for (std::size_t t = 0; t < steps; ++t) {
        Matrix step({envs, 3});
        std::copy_n(inputs.data() + t * envs * 3, envs * 3, step.data());
        const auto& out = body->act(step, std::span(starts).subspan(t * envs, envs), state);
        acted_values.insert(acted_values.end(), out[1].data(), out[1].data() + envs);
        acted_logits.insert(acted_logits.end(), out[0].data(), out[0].data() + 2 * envs);
      }
      AgentRandom random(1);
      const Minibatch all = body->minibatches(steps, envs, 1, random).front();
      const auto& out = body->forward(inputs, all, starts, initial);
      INFO(to_string(policy) << " " << to_string(mode));
      for (std::size_t i = 0; i < acted_values.size(); ++i) {
        CHECK(out[1].data()[i] == Approx(acted_values[i]).margin(1e-5));
      }
      for (std::size_t i = 0; i < acted_logits.size(); ++i) {
        CHECK(out[0].data()[i] == Approx(acted_logits[i]).margin(1e-5));
      }
      // The pass over a minibatch of some env sequences gives those envs' rows.
      Minibatch some;
      some.envs = {2, 0};
      for (std::size_t t = 0; t < steps; ++t) {
        for (std::size_t e : some.envs) some.rows.push_back(t * envs + e);
      }
      Matrix some_inputs({some.rows.size(), 3});
      std::vector<std::uint8_t> some_starts;
      for (std::size_t k = 0; k < some.rows.size(); ++k) {
        std::copy_n(inputs.data() + some.rows[k] * 3, 3, some_inputs.data() + k * 3);
        some_starts.push_back(starts[some.rows[k]]);
      }
      const auto& part = body->forward(some_inputs, some, some_starts, initial);
      for (std::size_t k = 0; k < some.rows.size(); ++k) {
        CHECK(part[1](k, 0) == Approx(acted_values[some.rows[k]]).margin(1e-5));
      }
    }
  }
}
