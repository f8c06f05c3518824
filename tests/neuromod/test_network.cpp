// Networks as a whole: the CPU backend against the reference backend, contexts (zero interference,
// freezing, cloning, mixed batches), baseline mode, determinism across TBB thread counts, and the
// errors a caller sees for bad input or non-finite values.

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "neuromod/errors.hpp"
#include "neuromod/losses.hpp"
#include "neuromod/network.hpp"
#include "neuromod/presets.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;
using Catch::Matchers::Contains;

namespace {

NetworkSpec mixed_spec() {
  NetworkSpec spec;
  spec.name = "mixed";
  spec.input_dim = 37;
  spec.seed = 77;
  LayerSpec sparse = layer(130, LayerKind::kSparseBinary, 5);
  sparse.center = true;
  sparse.site = ModulationSite::kPostActivation;
  sparse.gain_init = GainInit::kXavierNormal;
  LayerSpec dense = layer(65);
  dense.bias = true;
  dense.init_scale = 1.4f;
  spec.layers = {sparse, dense};
  spec.heads = {head("logits", 10, ReadoutWeights::kFixedRandom, BiasKind::kPerContext, true),
                head("value", 1, ReadoutWeights::kTrainablePerContext, BiasKind::kShared, false)};
  return spec;
}

// One supervised step on head 0 (cross-entropy) and head 1 (MSE toward zero), if present.
double train_step(Network& net, const Matrix& x, std::span<const ContextId> ids,
                  std::span<const std::int32_t> labels) {
  const auto& out = net.forward(x, ids);
  std::vector<Matrix> grads(out.size());
  double loss = softmax_cross_entropy(out[0], labels, &grads[0]);
  if (out.size() > 1) {
    Matrix zeros(out[1].shape());
    zeros.fill(0.0f);
    loss += mean_squared_error(out[1], zeros, &grads[1]);
  }
  net.zero_grad();
  net.backward(grads);
  net.step();
  return loss;
}

bool bit_identical(const Matrix& a, const Matrix& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("the CPU backend agrees with the reference backend through training",
          "[neuromod][network]") {
  for (auto kind : {OptimizerKind::kSgd, OptimizerKind::kAdam}) {
    auto cpu = make_network(mixed_spec(), Backend::kCpu);
    auto ref = make_network(mixed_spec(), Backend::kReference);
    REQUIRE(cpu->structure_digest() == ref->structure_digest());
    add_perturbed_contexts(*cpu, 3, 1);
    add_perturbed_contexts(*ref, 3, 1);
    OptimizerConfig config;
    config.kind = kind;
    config.learning_rate = 1e-2f;
    cpu->set_optimizer(config);
    ref->set_optimizer(config);
    for (int step = 0; step < 4; ++step) {
      const std::size_t rows = 17 + 16 * std::size_t(step);  // odd sizes across block edges
      const Matrix x = random_matrix(rows, 37, 10 + step);
      const auto ids = random_contexts(rows, 3, 20 + step);
      const auto labels = random_labels(rows, 10, 30 + step);
      const double loss_cpu = train_step(*cpu, x, ids, labels);
      const double loss_ref = train_step(*ref, x, ids, labels);
      REQUIRE(loss_cpu == Approx(loss_ref).epsilon(1e-4));
    }
    for (const ParameterInfo& info : cpu->parameters()) {
      const auto a = cpu->read_parameter(info.name, info.context);
      const auto b = ref->read_parameter(info.name, info.context);
      for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(info.name << " context " << info.context << " element " << i);
        // Adam normalizes each step, so an element whose gradient is ~0 can move by up to lr in
        // either backend's rounding; SGD follows the gradient's size.
        REQUIRE(a[i] == Approx(b[i]).margin(kind == OptimizerKind::kAdam ? 2e-3 : 1e-5));
      }
    }
  }
}

TEST_CASE("training one context leaves every other context bit-identical", "[neuromod][network]") {
  for (const Backend backend : semantic_backends()) {
    INFO("backend " << to_string(backend));
    for (auto kind : {OptimizerKind::kMomentum, OptimizerKind::kAdam, OptimizerKind::kRmsprop}) {
      auto net = make_network(mixed_spec(), backend);
      net->add_context();
      net->add_context();
      // mixed_spec's value head has a shared trainable bias: in kAllTrainable mode training B would
      // (rightly) move it. Zero interference is the promise of the per-context parameters.
      net->set_gradient_mode(GradientMode::kContextOnly);
      OptimizerConfig config;
      config.kind = kind;
      config.weight_decay = 0.01f;  // decay must not touch contexts outside the batch either
      net->set_optimizer(config);
      const Matrix probe = random_matrix(23, 37, 5);
      const std::vector<ContextId> as_a(23, 0), as_c(23, 2);
      // Train A first so it has optimizer state (momentum) that could leak into later steps.
      for (int i = 0; i < 3; ++i) train_step(*net, probe, as_a, random_labels(23, 10, i));
      const std::vector<Matrix> before_a = net->forward(probe, as_a);
      const std::vector<Matrix> before_c = net->forward(probe, as_c);
      const std::vector<ContextId> as_b(40, 1);
      for (int i = 0; i < 5; ++i) {
        train_step(*net, random_matrix(40, 37, 50 + i), as_b, random_labels(40, 10, 60 + i));
      }
      const std::vector<Matrix> after_a = net->forward(probe, as_a);
      const std::vector<Matrix> after_c = net->forward(probe, as_c);
      for (std::size_t h = 0; h < before_a.size(); ++h) {
        REQUIRE(bit_identical(before_a[h], after_a[h]));
        REQUIRE(bit_identical(before_c[h], after_c[h]));
      }
      // ... while B did change.
      const auto b_outputs = net->forward(probe, std::vector<ContextId>(23, 1));
      REQUIRE_FALSE(bit_identical(b_outputs[0], after_a[0]));
    }
  }
}

TEST_CASE("a frozen context does not learn, and rows of a mixed batch equal separate batches",
          "[neuromod][network]") {
  for (const Backend backend : semantic_backends()) {
    INFO("backend " << to_string(backend));
    auto net = make_network(mixed_spec(), backend);
    net->add_context();
    net->set_frozen(1, true);
    REQUIRE(net->is_frozen(1));
    const Matrix x = random_matrix(30, 37, 9);
    const auto ids = random_contexts(30, 2, 9);
    const auto gains_before = net->read_parameter("layer0.gain", 1);
    train_step(*net, x, ids, random_labels(30, 10, 9));
    REQUIRE(net->read_parameter("layer0.gain", 1) == gains_before);
    REQUIRE(net->read_parameter("layer0.gain", 0) != net->read_parameter("layer0.gain", 1));

    // A row's output depends only on its own input and context.
    const Matrix mixed_out = net->forward(x, ids)[0];
    for (ContextId c : {0, 1}) {
      std::vector<std::size_t> rows;
      for (std::size_t r = 0; r < 30; ++r) {
        if (ids[r] == c) rows.push_back(r);
      }
      Matrix sub({rows.size(), std::size_t{37}});
      for (std::size_t i = 0; i < rows.size(); ++i) {
        for (std::size_t j = 0; j < 37; ++j) sub(i, j) = x(rows[i], j);
      }
      net->select_context(c);
      const Matrix alone = net->forward(sub)[0];
      for (std::size_t i = 0; i < rows.size(); ++i) {
        for (std::size_t j = 0; j < 10; ++j) {
          REQUIRE(alone(i, j) == Approx(mixed_out(rows[i], j)).epsilon(1e-5).margin(1e-6));
        }
      }
    }
  }
}

TEST_CASE("cloned contexts start equal and then diverge, and a new context is seeded by its id",
          "[neuromod][network]") {
  for (const Backend backend : semantic_backends()) {
    INFO("backend " << to_string(backend));
    auto net = make_network(mixed_spec(), backend);
    auto twin = make_network(mixed_spec(), backend);
    net->add_context();
    twin->add_context();
    // Context k initializes the same way in any network of the same spec and seed.
    REQUIRE(net->read_parameter("layer0.gain", 1) == twin->read_parameter("layer0.gain", 1));
    REQUIRE(net->read_parameter("layer0.gain", 0) != net->read_parameter("layer0.gain", 1));
    train_step(*net, random_matrix(8, 37, 1), std::vector<ContextId>(8, 0),
               random_labels(8, 10, 1));
    const ContextId copy = net->clone_context(0);
    REQUIRE(copy == 2);
    REQUIRE(net->context_count() == 3);
    for (const char* name : {"layer0.gain", "layer1.gain", "layer1.bias", "head.value.weight"}) {
      REQUIRE(net->read_parameter(name, copy) == net->read_parameter(name, 0));
    }
  }
}

TEST_CASE("baseline mode trains every weight, context-only mode only the contexts",
          "[neuromod][network]") {
  for (const Backend backend : semantic_backends()) {
    INFO("backend " << to_string(backend));
    const NetworkSpec spec = baseline_mlp(20, {16, 12}, 4, 3);
    REQUIRE(spec.has_trainable_shared_weights());
    for (auto mode : {GradientMode::kAllTrainable, GradientMode::kContextOnly}) {
      auto net = make_network(spec, backend);
      net->set_gradient_mode(mode);
      const auto w0 = net->read_parameter("layer0.weight");
      const auto b0 = net->read_parameter("layer0.bias", 0);
      train_step(*net, random_matrix(9, 20, 2), {}, random_labels(9, 4, 2));
      REQUIRE((net->read_parameter("layer0.weight") != w0) ==
              (mode == GradientMode::kAllTrainable));
      REQUIRE(net->read_parameter("layer0.bias", 0) != b0);
    }
    // A modulated network's fixed weights never move, whatever the mode.
    auto modulated = make_network(modulated_mlp(20, {16}, 4, 3), backend);
    const auto fixed = modulated->read_parameter("layer0.weight");
    train_step(*modulated, random_matrix(9, 20, 2), {}, random_labels(9, 4, 2));
    REQUIRE(modulated->read_parameter("layer0.weight") == fixed);
    REQUIRE_THROWS_WITH(modulated->write_parameter("layer0.weight", kSharedContext, fixed),
                        Contains("fixed random weight"));
  }
}

TEST_CASE("add_to_gradient adds to the loss's gradient before the step", "[neuromod][network]") {
  for (const Backend backend : semantic_backends()) {
    INFO("backend " << to_string(backend));
    auto net = make_network(baseline_mlp(5, {4}, 3, 1), backend);
    net->set_gradient_mode(GradientMode::kAllTrainable);
    net->set_optimizer({.kind = OptimizerKind::kSgd, .learning_rate = 0.5f});
    const Matrix inputs = random_matrix(6, 5, 4);
    const std::vector<std::int32_t> labels = random_labels(6, 3, 4);
    Matrix gradient;
    softmax_cross_entropy(net->forward(inputs).front(), labels, &gradient);
    net->zero_grad();
    net->backward(gradient);
    const auto before = net->read_gradient("layer0.weight");
    const auto weights = net->read_parameter("layer0.weight");
    std::vector<float> extra(before.size());
    for (std::size_t i = 0; i < extra.size(); ++i) extra[i] = 0.01f * static_cast<float>(i % 7);
    net->add_to_gradient("layer0.weight", kSharedContext, extra);
    const auto after = net->read_gradient("layer0.weight");
    for (std::size_t i = 0; i < after.size(); ++i) {
      REQUIRE(after[i] == Approx(before[i] + extra[i]).margin(1e-7));
    }
    // The step follows the sum: plain SGD moves each weight by -lr x (gradient + extra).
    net->step();
    const auto stepped = net->read_parameter("layer0.weight");
    for (std::size_t i = 0; i < stepped.size(); ++i) {
      REQUIRE(stepped[i] == Approx(weights[i] - 0.5f * after[i]).margin(1e-6));
    }
    REQUIRE_THROWS_WITH(net->add_to_gradient("layer0.weight", kSharedContext, {extra.data(), 2}),
                        Contains("add_to_gradient"));
    auto modulated = make_network(modulated_mlp(5, {4}, 3, 1), backend);
    REQUIRE_THROWS_WITH(modulated->add_to_gradient("layer0.weight", kSharedContext, extra),
                        Contains("fixed random weight"));
  }
}

TEST_CASE("results are bit-identical for any number of TBB threads", "[neuromod][network]") {
  auto run = [](int threads) {
    tbb::task_arena arena(threads);
    std::vector<Matrix> outputs;
    std::vector<std::vector<float>> params;
    arena.execute([&] {
      for (const NetworkSpec& spec : {mixed_spec(), baseline_mlp(37, {200, 70}, 10, 4)}) {
        auto net = make_network(spec);
        add_perturbed_contexts(*net, 3, 2);
        OptimizerConfig config;
        config.kind = OptimizerKind::kAdam;
        config.clip_grad_norm = 0.5f;  // the global norm must be summed in a fixed order
        net->set_optimizer(config);
        for (int step = 0; step < 4; ++step) {
          // 150 and 157 rows use 64-row GEMM blocks, 600 rows 256-row and 1030 rows 512-row blocks
          const std::size_t rows = step == 3 ? 1030 : step == 2 ? 600 : 150 + 7 * std::size_t(step);
          train_step(*net, random_matrix(rows, 37, step), random_contexts(rows, 3, step),
                     random_labels(rows, 10, step));
        }
        outputs.push_back(net->forward(random_matrix(129, 37, 99), random_contexts(129, 3, 99))[0]);
        for (const ParameterInfo& info : net->parameters()) {
          params.push_back(net->read_parameter(info.name, info.context));
        }
      }
    });
    return std::make_pair(outputs, params);
  };
  const auto one = run(1);
  for (int threads : {2, 4}) {
    const auto many = run(threads);
    for (std::size_t i = 0; i < one.first.size(); ++i)
      REQUIRE(bit_identical(one.first[i], many.first[i]));
    REQUIRE(one.second == many.second);
  }
  // The same with a global limit instead of an arena.
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
    const auto limited = run(2);
    REQUIRE(one.second == limited.second);
  }
}

TEST_CASE("bad input gives errors that name the value", "[neuromod][network][errors]") {
  for (const Backend backend : semantic_backends()) {
    INFO("backend " << to_string(backend));
    auto net = make_network(mixed_spec(), backend);
    REQUIRE_THROWS_WITH(net->forward(random_matrix(3, 36, 1)),
                        Contains("(3, 36)") && Contains("37"));
    const std::vector<ContextId> too_few = {0, 0};
    REQUIRE_THROWS_AS(net->forward(random_matrix(3, 37, 1), too_few), ShapeError);
    const std::vector<ContextId> unknown = {0, 5, 0};
    REQUIRE_THROWS_WITH(net->forward(random_matrix(3, 37, 1), unknown),
                        Contains("row 1 has context 5") && Contains("1 contexts"));
    REQUIRE_THROWS_AS(net->select_context(3), ContextError);
    REQUIRE_THROWS_WITH(net->read_parameter("layer9.gain", 0), Contains("layer0.gain"));
    REQUIRE_THROWS_WITH(net->read_parameter("layer0.weight", 0), Contains("shared"));
    REQUIRE_THROWS_AS(net->backward(std::vector<Matrix>(2)), Error);  // no forward yet
    net->forward(random_matrix(3, 37, 1));
    REQUIRE_THROWS_WITH(net->backward(std::vector<Matrix>{random_matrix(4, 10, 1), Matrix()}),
                        Contains("(4, 10)") && Contains("(3, 10)"));
    REQUIRE_THROWS_AS(net->set_weight_gain(4, 1.0f), InvalidArgumentError);
    REQUIRE_THROWS_WITH(net->backward(random_matrix(3, 10, 1)), Contains("2 heads"));
    NetworkSpec bad = mixed_spec();
    bad.layers[0].sparse_k = 38;
    REQUIRE_THROWS_WITH(make_network(bad, backend),
                        Contains("sparse_k = 38") && Contains("[1, 37]"));
    OptimizerConfig config;
    config.momentum = 1.5f;
    REQUIRE_THROWS_WITH(net->set_optimizer(config), Contains("momentum = 1.5"));
  }
}

TEST_CASE("NaN and infinity are reported with where they appeared", "[neuromod][network][errors]") {
  for (const Backend backend : semantic_backends()) {
    INFO("backend " << to_string(backend));
    auto net = make_network(mixed_spec(), backend);
    Matrix x = random_matrix(4, 37, 1);
    x(2, 5) = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_THROWS_WITH(net->forward(x), Contains("row 2, column 5"));
    x(2, 5) = 0.0f;
    net->forward(x);
    Matrix grad = random_matrix(4, 10, 1);
    grad(1, 3) = std::numeric_limits<float>::infinity();
    REQUIRE_THROWS_WITH(net->backward(std::vector<Matrix>{grad, Matrix()}),
                        Contains("head 'logits'") && Contains("inf"));
    // A gain near the float limit overflows the forward pass; the error names the head.
    for (std::size_t slot = 0; slot < 3; ++slot) net->set_weight_gain(slot, 1e15f);  // 1e45 overall
    REQUIRE_THROWS_WITH(net->forward(x), Contains("output of head 'logits'"));
    for (std::size_t slot = 0; slot < 3; ++slot) net->set_weight_gain(slot, 1.0f);
    // Large but finite gains and gradients overflow a gradient; the error names the tensor.
    net->write_parameter("layer1.gain", 0, std::vector<float>(65, 1e10f));
    net->forward(x);
    Matrix large(grad.shape());
    large.fill(1e30f);
    REQUIRE_THROWS_WITH(net->backward(std::vector<Matrix>{large, Matrix()}),
                        Contains("gradient of") && Contains("context 0"));
    // An optimizer step that overflows names the parameter.
    auto small = make_network(modulated_mlp(5, {4}, 3, 1), backend);
    OptimizerConfig config;
    config.learning_rate = 3e38f;
    small->set_optimizer(config);
    small->forward(random_matrix(2, 5, 3));
    small->zero_grad();
    small->backward(std::vector<Matrix>{random_matrix(2, 3, 4)});
    REQUIRE_THROWS_WITH(small->step(), Contains("after the optimizer step"));
    // Checks can be switched off (a caller that checks itself).
    small->set_check_finite(false);
    Matrix bad = random_matrix(2, 5, 3);
    bad(0, 0) = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_NOTHROW(small->forward(bad));
  }
}
