// Finite-difference checks of every gradient: each layer kind (dense, sparse; fixed or trainable),
// each modulation (gain and bias before or after the activation, centering, activations, the weight
// gain s_w that NGM and noradrenaline set), each head kind (fixed, trainable shared, trainable per
// context; bias; output gain) and each loss (cross-entropy, MSE, actor-critic A2C and PPO). Every
// check first asserts that the analytic gradient is not zero.
//
// The networks run on the reference backend (double accumulation inside each kernel) and the
// central differences use eps = 1e-2 on smooth activations: the truncation error is O(eps^2) and
// the float32 rounding of the outputs O(1e-7 / eps), both far below the 1e-3 + 1% allowed.

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "neuromod/losses.hpp"
#include "neuromod/network.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;

namespace {

double projected_loss(Network& net, const Matrix& x, std::span<const ContextId> ids,
                      const std::vector<Matrix>& projections) {
  const auto& outputs = net.forward(x, ids);
  double loss = 0.0;
  for (std::size_t h = 0; h < outputs.size(); ++h) {
    for (std::size_t e = 0; e < outputs[h].size(); ++e) {
      loss += double(outputs[h].data()[e]) * projections[h].data()[e];
    }
  }
  return loss;
}

// Compares the analytic gradient of sum_h <projection_h, output_h> with central differences for up
// to `samples` elements of every learned tensor. Returns the number of tensors checked.
std::size_t check_gradients(Network& net, const Matrix& x, const std::vector<ContextId>& ids,
                            double eps = 1e-2, double rtol = 1e-2, double atol = 1e-3,
                            std::size_t samples = 12) {
  std::vector<Matrix> projections;
  for (std::size_t h = 0; h < net.spec().heads.size(); ++h) {
    projections.push_back(random_matrix(x.shape()[0], net.spec().heads[h].units, 4242 + h));
  }
  net.zero_grad();
  projected_loss(net, x, ids, projections);
  net.backward(projections);
  std::size_t checked = 0;
  for (const ParameterInfo& info : net.parameters()) {
    if (!info.trainable) continue;
    const std::vector<float> grad = net.read_gradient(info.name, info.context);
    const bool learns =
        info.context != kSharedContext || net.gradient_mode() == GradientMode::kAllTrainable;
    INFO("parameter " << info.name << " context " << info.context);
    if (!learns) {
      for (float g : grad) REQUIRE(g == 0.0f);  // context-only mode leaves shared weights alone
      continue;
    }
    double largest = 0.0;
    for (float g : grad) largest = std::max(largest, double(std::fabs(g)));
    REQUIRE(largest > 0.0);
    std::vector<float> values = net.read_parameter(info.name, info.context);
    const std::size_t stride = std::max<std::size_t>(1, values.size() / samples);
    for (std::size_t i = 0; i < values.size(); i += stride) {
      const float original = values[i];
      values[i] = static_cast<float>(original + eps);
      net.write_parameter(info.name, info.context, values);
      const double plus = projected_loss(net, x, ids, projections);
      values[i] = static_cast<float>(original - eps);
      net.write_parameter(info.name, info.context, values);
      const double minus = projected_loss(net, x, ids, projections);
      values[i] = original;
      net.write_parameter(info.name, info.context, values);
      // The step actually taken (float rounding of original +- eps).
      const double numeric = (plus - minus) / (2 * eps);
      INFO("element " << i << " analytic " << grad[i] << " numeric " << numeric);
      REQUIRE(std::fabs(grad[i] - numeric) <=
              atol + rtol * std::max(std::fabs(numeric), double(std::fabs(grad[i]))));
    }
    ++checked;
  }
  return checked;
}

NetworkSpec dense_modulated_spec(ModulationSite site, Activation act, bool center) {
  NetworkSpec spec;
  spec.name = "dense_modulated";
  spec.input_dim = 6;
  spec.seed = 11;
  LayerSpec l0 = layer(9);
  l0.site = site;
  l0.activation = act;
  l0.center = center;
  l0.bias = true;
  LayerSpec l1 = layer(5);
  l1.site = site == ModulationSite::kPreActivation ? ModulationSite::kPostActivation
                                                   : ModulationSite::kPreActivation;
  l1.activation = Activation::kTanh;
  l1.bias = true;
  spec.layers = {l0, l1};
  spec.heads = {head("fixed", 3, ReadoutWeights::kFixedRandom, BiasKind::kPerContext, true),
                head("own", 2, ReadoutWeights::kTrainablePerContext, BiasKind::kShared, true),
                head("shared", 4, ReadoutWeights::kTrainableShared, BiasKind::kNone, false)};
  return spec;
}

}  // namespace

TEST_CASE("gradients of dense modulated layers and every head kind", "[neuromod][gradients]") {
  for (auto site : {ModulationSite::kPreActivation, ModulationSite::kPostActivation}) {
    for (auto act : {Activation::kTanh, Activation::kIdentity}) {
      for (bool center : {false, true}) {
        INFO("site " << to_string(site) << " activation " << to_string(act) << " center "
                     << center);
        auto net = make_network(dense_modulated_spec(site, act, center), Backend::kReference);
        add_perturbed_contexts(*net, 3, 7);
        const Matrix x = random_matrix(7, 6, 3);
        const std::vector<ContextId> ids = {0, 1, 2, 2, 0, 1, 1};
        // gains(2) + biases(2) + fixed head bias + output gains(2) + own weight, per context (8),
        // times 3 contexts, plus the shared tensors: own bias, shared weight
        REQUIRE(check_gradients(*net, x, ids) == 3 * 8 + 2);
      }
    }
  }
}

TEST_CASE("gradients with weight gains (NGM) on every layer", "[neuromod][gradients]") {
  auto net =
      make_network(dense_modulated_spec(ModulationSite::kPreActivation, Activation::kTanh, true),
                   Backend::kReference);
  add_perturbed_contexts(*net, 2, 8);
  for (std::size_t slot = 0; slot < net->weight_gain_slots(); ++slot) {
    net->set_weight_gain(slot, 0.6f + 0.35f * float(slot));
  }
  const Matrix x = random_matrix(5, 6, 4);
  REQUIRE(check_gradients(*net, x, {1, 0, 1, 1, 0}) == 2 * 8 + 2);
}

TEST_CASE("gradients with several weight sets, rows of every set interleaved",
          "[neuromod][gradients][weight_sets]") {
  NetworkSpec spec = dense_modulated_spec(ModulationSite::kPreActivation, Activation::kTanh, true);
  spec.weight_sets = 3;  // every shared weight fixed: the per-context heads only
  spec.heads = {head("fixed", 3, ReadoutWeights::kFixedRandom, BiasKind::kPerContext, true),
                head("own", 2, ReadoutWeights::kTrainablePerContext, BiasKind::kPerContext, true)};
  auto net = make_network(spec, Backend::kReference);
  add_perturbed_contexts(*net, 5, 9);  // sets 0, 1, 2, 0, 1
  net->set_weight_gain(1, 0.8f);
  const Matrix x = random_matrix(9, 6, 5);
  // gains(2) + biases(2) + fixed head bias + output gains(2) + own weight + own bias, per context
  REQUIRE(check_gradients(*net, x, {4, 0, 2, 1, 3, 2, 0, 4, 1}) == 5 * 9);
}

TEST_CASE("gradients of sparse and dense trainable layers (baseline form)",
          "[neuromod][gradients]") {
  NetworkSpec spec;
  spec.name = "trainable";
  spec.input_dim = 12;
  spec.seed = 5;
  LayerSpec sparse = layer(10, LayerKind::kSparseBinary, 4);
  sparse.trainable_weights = true;
  sparse.activation = Activation::kTanh;
  sparse.gain = false;
  sparse.bias = true;
  LayerSpec dense = layer(6);
  dense.trainable_weights = true;
  dense.activation = Activation::kTanh;
  dense.gain = true;
  dense.center = true;
  spec.layers = {sparse, dense};
  spec.heads = {head("out", 3, ReadoutWeights::kTrainableShared, BiasKind::kShared, false)};
  auto net = make_network(spec, Backend::kReference);
  add_perturbed_contexts(*net, 1, 9);
  net->set_weight_gain(1, 1.4f);
  const Matrix x = random_matrix(6, 12, 5);
  const std::vector<ContextId> ids(6, 0);
  SECTION("all trainable: every weight") {
    // sparse values, dense weight, head weight, head bias, layer0 bias, layer1 gain
    REQUIRE(check_gradients(*net, x, ids) == 6);
  }
  SECTION("context only: shared weights get no gradient") {
    net->set_gradient_mode(GradientMode::kContextOnly);
    REQUIRE(check_gradients(*net, x, ids) == 2);
  }
}

TEST_CASE("gradients of the published model's shape (sparse, centered ReLU, c * h, s)",
          "[neuromod][gradients]") {
  NetworkSpec spec;
  spec.name = "published_small";
  spec.input_dim = 20;
  spec.seed = 3;
  LayerSpec projection = layer(40, LayerKind::kSparseBinary, 3);
  projection.center = true;
  projection.site = ModulationSite::kPostActivation;
  projection.gain_init = GainInit::kXavierNormal;
  spec.layers = {projection};
  spec.heads = {head("output", 5, ReadoutWeights::kFixedRandom, BiasKind::kNone, true)};
  auto net = make_network(spec, Backend::kReference);
  net->add_context();
  // ReLU has a kink at 0: a small step keeps the differences on one side of it for these inputs
  // (float rounding of the outputs is then ~1e-7 / 1e-3 = 1e-4, inside the tolerance).
  const Matrix x = random_matrix(4, 20, 6);
  REQUIRE(check_gradients(*net, x, {0, 1, 0, 1}, 1e-3, 2e-2, 2e-3) == 4);
}

TEST_CASE("CPU backend gradients pass the same finite-difference check", "[neuromod][gradients]") {
  auto net =
      make_network(dense_modulated_spec(ModulationSite::kPostActivation, Activation::kTanh, true),
                   Backend::kCpu);
  add_perturbed_contexts(*net, 2, 10);
  const Matrix x = random_matrix(6, 6, 7);
  REQUIRE(check_gradients(*net, x, {0, 1, 1, 0, 0, 1}) == 2 * 8 + 2);
}

namespace {

// Central differences of a scalar function of a matrix against its analytic gradient.
template <typename Loss>
void check_loss_gradient(Matrix input, const Matrix& gradient, const Loss& loss, double eps = 1e-3,
                         double tol = 2e-3) {
  double largest = 0.0;
  for (float g : gradient) largest = std::max(largest, double(std::fabs(g)));
  REQUIRE(largest > 0.0);
  for (std::size_t e = 0; e < input.size(); ++e) {
    const float original = input.data()[e];
    input.data()[e] = static_cast<float>(original + eps);
    const double plus = loss(input);
    input.data()[e] = static_cast<float>(original - eps);
    const double minus = loss(input);
    input.data()[e] = original;
    const double numeric = (plus - minus) / (2 * eps);
    INFO("element " << e << " analytic " << gradient.data()[e] << " numeric " << numeric);
    REQUIRE(std::fabs(gradient.data()[e] - numeric) <= tol * (1.0 + std::fabs(numeric)));
  }
}

}  // namespace

TEST_CASE("gradients of the losses", "[neuromod][gradients][losses]") {
  const Matrix logits = random_matrix(5, 4, 21, 2.0);
  const auto labels = random_labels(5, 4, 22);
  SECTION("softmax cross-entropy") {
    Matrix grad;
    softmax_cross_entropy(logits, labels, &grad);
    check_loss_gradient(
        logits, grad, [&](const Matrix& z) { return softmax_cross_entropy_reference(z, labels); });
  }
  SECTION("mean squared error") {
    const Matrix target = random_matrix(5, 4, 23);
    Matrix grad;
    mean_squared_error(logits, target, &grad);
    check_loss_gradient(logits, grad,
                        [&](const Matrix& p) { return mean_squared_error_reference(p, target); });
  }
  SECTION("actor-critic, A2C and PPO") {
    const Matrix values = random_matrix(5, 1, 24);
    const std::vector<float> advantages = {0.5f, -1.0f, 2.0f, 0.1f, -0.3f};
    const std::vector<float> returns = {1.0f, 0.0f, -1.0f, 0.5f, 2.0f};
    const auto actions = random_labels(5, 4, 25);
    std::vector<float> old_log_probs = log_probabilities(logits, actions);
    // Move the old policy so some ratios leave [0.8, 1.2] and get clipped.
    const std::vector<float> shifts = {0.05f, -0.4f, 0.3f, -0.02f, 0.5f};
    for (std::size_t i = 0; i < 5; ++i) old_log_probs[i] += shifts[i];
    ActorCriticCoefficients coefficients;
    coefficients.entropy_coef = 0.05f;
    for (bool ppo : {false, true}) {
      INFO("ppo " << ppo);
      std::span<const float> old =
          ppo ? std::span<const float>(old_log_probs) : std::span<const float>();
      Matrix policy_grad, value_grad;
      const ActorCriticLoss loss = actor_critic_loss(logits, values, actions, advantages, returns,
                                                     old, coefficients, &policy_grad, &value_grad);
      if (ppo) {
        REQUIRE(loss.clip_fraction > 0.0);
        REQUIRE(loss.clip_fraction < 1.0);
      }
      check_loss_gradient(logits, policy_grad, [&](const Matrix& z) {
        return actor_critic_loss(z, values, actions, advantages, returns, old, coefficients,
                                 nullptr, nullptr)
            .total;
      });
      check_loss_gradient(values, value_grad, [&](const Matrix& v) {
        return actor_critic_loss(logits, v, actions, advantages, returns, old, coefficients,
                                 nullptr, nullptr)
            .total;
      });
    }
  }
}
