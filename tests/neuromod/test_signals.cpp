// Optimizers (PyTorch's update rules, written out here again in double as the oracle), the NGM
// gain, and the dopamine and noradrenaline signals.

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "neuromod/dopamine.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/losses.hpp"
#include "neuromod/ngm.hpp"
#include "neuromod/noradrenaline.hpp"
#include "neuromod/optimizer.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;
using Catch::Matchers::Contains;

namespace {

// torch.optim's rules in double, one element at a time.
struct OracleState {
  double p, m = 0, v = 0;
};
void oracle_step(const OptimizerConfig& c, OracleState& s, double g, int t) {
  if (c.weight_decay > 0 && c.decoupled_weight_decay)
    s.p *= 1 - double(c.learning_rate) * c.weight_decay;
  if (c.weight_decay > 0 && !c.decoupled_weight_decay) g += double(c.weight_decay) * s.p;
  switch (c.kind) {
    case OptimizerKind::kSgd:
      s.p -= double(c.learning_rate) * g;
      break;
    case OptimizerKind::kMomentum:
      s.m = t == 1 ? g : double(c.momentum) * s.m + g;
      s.p -= double(c.learning_rate) * (c.nesterov ? g + double(c.momentum) * s.m : s.m);
      break;
    case OptimizerKind::kAdam: {
      s.m = c.beta1 * s.m + (1 - double(c.beta1)) * g;
      s.v = c.beta2 * s.v + (1 - double(c.beta2)) * g * g;
      const double mhat = s.m / (1 - std::pow(double(c.beta1), t));
      const double vhat = s.v / (1 - std::pow(double(c.beta2), t));
      s.p -= double(c.learning_rate) * mhat / (std::sqrt(vhat) + c.epsilon);
      break;
    }
    case OptimizerKind::kRmsprop:
      s.v = c.rms_alpha * s.v + (1 - double(c.rms_alpha)) * g * g;
      s.p -= double(c.learning_rate) * g / (std::sqrt(s.v) + c.epsilon);
      break;
  }
}

}  // namespace

TEST_CASE("optimizers follow PyTorch's update rules", "[neuromod][optimizer]") {
  for (auto kind : {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kAdam,
                    OptimizerKind::kRmsprop}) {
    for (int variant = 0; variant < 4; ++variant) {
      OptimizerConfig config;
      config.kind = kind;
      config.learning_rate = 0.05f;
      config.weight_decay = variant >= 1 ? 0.1f : 0.0f;
      config.decoupled_weight_decay = variant == 2;
      config.nesterov = variant == 3 && kind == OptimizerKind::kMomentum;
      INFO(to_string(kind) << " variant " << variant);
      const std::size_t n = 9;
      std::vector<float> value(n), first(n, 0.0f), second(n, 0.0f);
      std::vector<OracleState> oracle(n);
      RandomStream stream(3);
      for (std::size_t i = 0; i < n; ++i) {
        value[i] = static_cast<float>(stream.normal());
        oracle[i].p = value[i];
      }
      for (int t = 1; t <= 6; ++t) {
        std::vector<float> grad(n);
        for (auto& g : grad) g = static_cast<float>(stream.normal());
        apply_update(config, value, grad, 1.0f,
                     config.state_arrays() >= 1 ? std::span(first) : std::span<float>(),
                     config.state_arrays() >= 2 ? std::span(second) : std::span<float>(), t);
        for (std::size_t i = 0; i < n; ++i) oracle_step(config, oracle[i], grad[i], t);
      }
      for (std::size_t i = 0; i < n; ++i) REQUIRE(value[i] == Approx(oracle[i].p).margin(2e-6));
    }
  }
  // Hand-computed: momentum SGD, lr 0.1, mu 0.9, gradients 1 then 1: p = 1 - 0.1 - 0.19 = 0.71.
  OptimizerConfig momentum;
  momentum.kind = OptimizerKind::kMomentum;
  momentum.learning_rate = 0.1f;
  std::vector<float> p = {1.0f}, buf = {0.0f};
  const std::vector<float> one = {1.0f};
  apply_update(momentum, p, one, 1.0f, buf, {}, 1);
  apply_update(momentum, p, one, 1.0f, buf, {}, 2);
  REQUIRE(p[0] == Approx(0.71f).epsilon(1e-6));
}

TEST_CASE("gradient clipping by norm and by value", "[neuromod][optimizer]") {
  OptimizerConfig config;
  config.clip_grad_norm = 1.0f;
  REQUIRE(clip_factor(config, 0.5) == 1.0f);
  REQUIRE(clip_factor(config, 4.0) == Approx(0.25).epsilon(1e-5));
  config.clip_grad_norm = 0.0f;
  REQUIRE(clip_factor(config, 100.0) == 1.0f);
  config.clip_grad_value = 0.5f;
  config.learning_rate = 1.0f;
  std::vector<float> p = {0.0f, 0.0f};
  const std::vector<float> g = {2.0f, -0.25f};
  apply_update(config, p, g, 1.0f, {}, {}, 1);
  REQUIRE(p[0] == -0.5f);
  REQUIRE(p[1] == 0.25f);

  // In a network: the global norm over every updated tensor is reported and clipped to.
  auto net = make_network(modulated_mlp(6, {5}, 3, 1));
  OptimizerConfig sgd;
  sgd.learning_rate = 1.0f;
  sgd.clip_grad_norm = 1e-3f;
  net->set_optimizer(sgd);
  net->forward(random_matrix(4, 6, 1));
  net->zero_grad();
  net->backward(std::vector<Matrix>{random_matrix(4, 3, 2)});
  double norm = 0.0;
  std::vector<std::vector<float>> before;
  for (const ParameterInfo& info : net->parameters()) {
    if (info.context != 0) continue;
    for (float v : net->read_gradient(info.name, 0)) norm += double(v) * v;
    before.push_back(net->read_parameter(info.name, 0));
  }
  const StepStats stats = net->step();
  REQUIRE(stats.gradient_norm == Approx(std::sqrt(norm)).epsilon(1e-5));
  REQUIRE(stats.clip_factor < 1.0f);
  double moved = 0.0;
  std::size_t k = 0;
  for (const ParameterInfo& info : net->parameters()) {
    if (info.context != 0) continue;
    const auto after = net->read_parameter(info.name, 0);
    for (std::size_t i = 0; i < after.size(); ++i)
      moved += std::pow(double(after[i]) - before[k][i], 2);
    ++k;
  }
  REQUIRE(std::sqrt(moved) == Approx(1e-3).epsilon(1e-3));  // SGD lr 1 moves by the clipped norm
}

TEST_CASE("NGM gain follows g <- gamma g + (1 - gamma) g0 + eta H with every optimizer",
          "[neuromod][ngm]") {
  NgmGain ngm;  // defaults 0.9, 1, 0.4
  REQUIRE(ngm.gain() == 1.0f);
  REQUIRE(ngm.update_from_entropy(0.5) == Approx(0.9 + 0.1 + 0.2));
  REQUIRE(ngm.update_from_entropy(0.0) == Approx(0.9 * 1.2 + 0.1));
  REQUIRE(ngm.trace().size() == 2);
  REQUIRE(ngm.trace()[1].entropy == 0.0);
  REQUIRE_THROWS_AS(ngm.update_from_entropy(std::nan("")), NonFiniteError);

  for (auto kind : {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kAdam,
                    OptimizerKind::kRmsprop}) {
    for (auto placement : {GainPlacement::kEveryLayer, GainPlacement::kOutputOnly}) {
      for (auto unit : {EntropyUnit::kNats, EntropyUnit::kBits}) {
        INFO(to_string(kind) << " " << to_string(placement) << " " << to_string(unit));
        auto net = make_network(baseline_mlp(8, {6, 5}, 4, 2, false));
        OptimizerConfig config;
        config.kind = kind;
        net->set_optimizer(config);
        NgmConfig ngm_config;
        ngm_config.eta = 0.5f;
        ngm_config.target.placement = placement;
        ngm_config.entropy_unit = unit;
        NgmGain gain(ngm_config);
        gain.attach(*net);
        double expected = 1.0;
        for (int step = 0; step < 3; ++step) {
          const Matrix x = random_matrix(10, 8, step);
          const Matrix logits = net->forward(x)[0];
          Matrix grad;
          softmax_cross_entropy(logits, random_labels(10, 4, step), &grad);
          net->zero_grad();
          net->backward(std::vector<Matrix>{grad});
          net->step();
          const double h = mean_softmax_entropy(logits, unit);
          expected = 0.9 * expected + 0.1 * 1.0 + 0.5 * h;
          REQUIRE(gain.update(*net, logits) == Approx(expected).epsilon(1e-6));
        }
        REQUIRE(gain.trace().size() == 3);
        for (std::size_t slot = 0; slot < 3; ++slot) {
          const bool covered = placement == GainPlacement::kEveryLayer || slot == 2;
          REQUIRE(net->weight_gain(slot) == (covered ? gain.gain() : 1.0f));
        }
      }
    }
  }
  // The gain scales a bias-free ReLU network's logits by g^depth when placed on every layer.
  auto net = make_network(baseline_mlp(8, {6, 5}, 4, 2, false));
  const Matrix x = random_matrix(3, 8, 1);
  const Matrix plain = net->forward(x)[0];
  apply_weight_gain(*net, GainTarget{}, 1.5f);
  const Matrix scaled = net->forward(x)[0];
  for (std::size_t i = 0; i < plain.size(); ++i) {
    REQUIRE(scaled.data()[i] ==
            Approx(plain.data()[i] * 1.5 * 1.5 * 1.5).epsilon(1e-5).margin(1e-7));
  }
  GainTarget selected{GainPlacement::kSelectedLayers, {7}};
  REQUIRE_THROWS_WITH(selected.slots(*net), Contains("slot 7"));
}

TEST_CASE("dopamine: TD error and GAE(lambda)", "[neuromod][dopamine]") {
  DopamineSignal dopamine({.gamma = 0.9f, .lambda = 0.5f});
  REQUIRE(dopamine.td_error(1.0f, 0.5f, 2.0f, false) == Approx(1.0 + 0.9 * 2.0 - 0.5));
  REQUIRE(dopamine.td_error(1.0f, 0.5f, 2.0f, true) == Approx(0.5));
  REQUIRE(dopamine.trace() == std::vector<float>{dopamine.trace()[0], 0.5f});

  // Two envs, three steps, time-major. Env 0 terminates at t = 1; env 1 is truncated at t = 1
  // (bootstraps from its final observation's value, but the advantage does not cross the boundary).
  const std::vector<float> rewards = {1, 0, 0, 1, 1, 0};
  const std::vector<float> values = {0.5f, 0.2f, 0.4f, 0.1f, 0.3f, 0.6f};
  const std::vector<float> next_values = {0.4f, 0.1f, 9.0f, 0.7f, 0.2f, 0.3f};
  const std::vector<std::uint8_t> terminated = {0, 0, 1, 0, 0, 0};
  const std::vector<std::uint8_t> truncated = {0, 0, 0, 1, 0, 0};
  std::vector<float> advantages(6), returns(6);
  dopamine.clear_trace();
  dopamine.gae(3, 2, rewards, values, next_values, terminated, truncated, advantages, returns);
  const double g = 0.9, gl = 0.45;
  const double d[6] = {1 + g * 0.4 - 0.5, 0 + g * 0.1 - 0.2, 0 - 0.4,
                       1 + g * 0.7 - 0.1, 1 + g * 0.2 - 0.3, 0 + g * 0.3 - 0.6};
  const double a4 = d[4], a5 = d[5];
  const double a2 = d[2], a3 = d[3];  // each ends its episode
  const double a0 = d[0] + gl * a2, a1 = d[1] + gl * a3;
  const double expected[6] = {a0, a1, a2, a3, a4, a5};
  for (std::size_t i = 0; i < 6; ++i) {
    REQUIRE(advantages[i] == Approx(expected[i]).epsilon(1e-6).margin(1e-6));
    REQUIRE(returns[i] == Approx(expected[i] + values[i]).epsilon(1e-6).margin(1e-6));
  }
  REQUIRE(dopamine.trace().size() == 6);
  // lambda = 1 without endings: the discounted return minus the value.
  DopamineSignal mc({.gamma = 0.5f, .lambda = 1.0f, .record_trace = false});
  std::vector<float> adv(3), ret(3);
  mc.gae(3, 1, std::vector<float>{1, 1, 1}, std::vector<float>{0, 0, 0},
         std::vector<float>{0, 0, 0}, std::vector<std::uint8_t>{0, 0, 0},
         std::vector<std::uint8_t>{0, 0, 0}, adv, ret);
  REQUIRE(ret[0] == Approx(1.75));
  REQUIRE(mc.trace().empty());
  REQUIRE_THROWS_WITH(mc.gae(3, 1, std::vector<float>{1, 1}, std::vector<float>{0, 0, 0},
                             std::vector<float>{0, 0, 0}, std::vector<std::uint8_t>{0, 0, 0},
                             std::vector<std::uint8_t>{0, 0, 0}, adv, ret),
                      Contains("rewards"));
  REQUIRE_THROWS_AS(DopamineSignal({.gamma = 1.5f}), InvalidArgumentError);
}

TEST_CASE("noradrenaline rises fast, decays slowly and flags a change",
          "[neuromod][noradrenaline]") {
  NoradrenalineConfig config;
  config.source = UncertaintySource::kSurprise;
  config.warmup = 20;
  NoradrenalineSignal na(config);
  RandomStream stream(5);
  // A stationary stretch of small TD errors: no change flagged, gain near baseline.
  for (int i = 0; i < 200; ++i) na.observe_td_error(static_cast<float>(0.1 * stream.normal()));
  REQUIRE(na.changes().empty());
  const float resting = na.gain();
  REQUIRE(resting < 1.2f);
  // A surprise 50 standard deviations out: flagged, and the gain jumps within one observation.
  const NoradrenalineReading spike = na.observe_td_error(5.0f);
  REQUIRE(spike.change);
  REQUIRE(na.change_detected());
  REQUIRE(spike.z > 10.0);
  REQUIRE(spike.gain > resting + 0.5f * (config.max_gain - resting) * 0.9f);
  // Then it decays slowly: after 10 quiet observations it has lost well under half its excess.
  for (int i = 0; i < 10; ++i) na.observe_td_error(static_cast<float>(0.1 * stream.normal()));
  REQUIRE(na.gain() - resting > 0.5f * (spike.gain - resting));
  REQUIRE_FALSE(na.change_detected());
  // ... and is back near rest much later.
  for (int i = 0; i < 400; ++i) na.observe_td_error(static_cast<float>(0.1 * stream.normal()));
  REQUIRE(na.gain() - resting < 0.1f * (spike.gain - resting) + 0.05f);
  REQUIRE(na.trace().size() == 611);
  REQUIRE_THROWS_AS(na.observe_logits(Matrix({1, 2})), InvalidArgumentError);

  // Entropy-driven: uniform logits give drive 1 (normalized), confident ones near 0.
  NoradrenalineConfig entropy_config;
  entropy_config.source = UncertaintySource::kEntropy;
  entropy_config.rise_rate = 1.0f;
  NoradrenalineSignal by_entropy(entropy_config);
  Matrix uniform({4, 5});
  uniform.fill(0.0f);
  const auto reading = by_entropy.observe_logits(uniform);
  REQUIRE(reading.drive == Approx(1.0));
  REQUIRE(by_entropy.gain() == Approx(entropy_config.baseline_gain + entropy_config.sensitivity));
  auto net = make_network(modulated_mlp(3, {4}, 5, 1));
  by_entropy.apply(*net);
  REQUIRE(net->weight_gain(0) == by_entropy.gain());
  REQUIRE_THROWS_AS(NoradrenalineSignal({.rise_rate = 0.0f}), InvalidArgumentError);
}
