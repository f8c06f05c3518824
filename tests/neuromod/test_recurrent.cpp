// Recurrent layers (Elman, GRU, LSTM): gradients by finite differences through time for every
// parameter kind and gate, on the reference backend; the CPU backend against the reference;
// determinism across thread counts; carried state, episode starts; and the errors.
//
// The gradient checks project every output of every step on a fixed random matrix, so every step's
// output carries loss, and each sequence has an initial state and an episode start in the middle,
// so the gradient must stop at the start and not reach the initial state. eps = 1e-2 on smooth
// cells (tanh, sigmoid, softplus): truncation O(eps^2), float rounding O(1e-7 / eps).

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>
#include <xtensor/xview.hpp>

#include "neuromod/checkpoint.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/kernels.hpp"
#include "neuromod/network.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;
using Catch::Matchers::Contains;

namespace {

constexpr std::size_t kInputs = 4, kSteps = 5, kBatch = 3;

// One recurrent layer, then a dense tanh layer (gradients cross from dense to recurrent), then a
// fixed and a trainable head.
NetworkSpec recurrent_spec(Recurrence recurrence, bool trainable, Activation activation,
                           float alpha) {
  NetworkSpec spec;
  spec.name = std::string("test_") + std::string(to_string(recurrence));
  spec.input_dim = kInputs;
  spec.seed = 21;
  LayerSpec cell = layer(6);
  cell.recurrence = recurrence;
  cell.activation = activation;
  cell.alpha = alpha;
  cell.trainable_weights = trainable;
  cell.gain = true;
  cell.bias = true;
  cell.recurrent_init_scale = 1.2f;
  LayerSpec dense = layer(5);
  dense.activation = Activation::kTanh;
  dense.bias = true;
  spec.layers = {cell, dense};
  spec.heads = {head("fixed", 3, ReadoutWeights::kFixedRandom, BiasKind::kPerContext, true),
                head("own", 2, ReadoutWeights::kTrainableShared, BiasKind::kShared, false)};
  return spec;
}

struct SequenceCase {
  Matrix inputs = random_matrix(kSteps * kBatch, kInputs, 31);
  std::vector<ContextId> contexts = {0, 1, 0};  // per sequence
  std::vector<std::uint8_t> starts = std::vector<std::uint8_t>(kSteps * kBatch, 0);
  RecurrentState initial;
  SequenceCase(const Network& net) {
    starts[2 * kBatch + 1] = 1;  // sequence 1 starts again at step 2
    initial = net.zero_state(kBatch);
    std::uint64_t seed = 41;
    for (Matrix& m : initial) m = random_matrix(m.shape()[0], m.shape()[1], seed++, 0.5);
  }
  const std::vector<Matrix>& run(Network& net) const {
    return net.forward_sequence(inputs, kBatch, contexts, &initial, starts);
  }
};

double projected_loss(Network& net, const SequenceCase& c, const std::vector<Matrix>& projections) {
  const auto& outputs = c.run(net);
  double loss = 0.0;
  for (std::size_t h = 0; h < outputs.size(); ++h) {
    for (std::size_t e = 0; e < outputs[h].size(); ++e) {
      loss += double(outputs[h].data()[e]) * projections[h].data()[e];
    }
  }
  return loss;
}

// Checks every learned tensor's gradient (after asserting it is not zero) against central
// differences. Returns the number of tensors checked.
std::size_t check_sequence_gradients(Network& net, const SequenceCase& c, double eps = 1e-2) {
  std::vector<Matrix> projections;
  for (std::size_t h = 0; h < net.spec().heads.size(); ++h) {
    projections.push_back(random_matrix(kSteps * kBatch, net.spec().heads[h].units, 4242 + h));
  }
  net.zero_grad();
  projected_loss(net, c, projections);
  net.backward(projections);
  std::size_t checked = 0;
  for (const ParameterInfo& info : net.parameters()) {
    if (!info.trainable) continue;
    const bool learns =
        info.context != kSharedContext || net.gradient_mode() == GradientMode::kAllTrainable;
    const std::vector<float> grad = net.read_gradient(info.name, info.context);
    INFO("parameter " << info.name << " context " << info.context);
    if (!learns) continue;
    // Every gate block must carry gradient: check the largest of each block of `units` entries.
    const bool cell_tensor =
        info.index == 0 &&
        (info.kind == ParameterKind::kLayerWeight ||
         info.kind == ParameterKind::kLayerRecurrentWeight ||
         info.kind == ParameterKind::kLayerGain || info.kind == ParameterKind::kLayerBias);
    const std::size_t blocks = cell_tensor ? info.shape[0] / 6 : 1;
    for (std::size_t b = 0; b < blocks; ++b) {
      double largest = 0.0;
      for (std::size_t i = b * grad.size() / blocks; i < (b + 1) * grad.size() / blocks; ++i) {
        largest = std::max(largest, double(std::fabs(grad[i])));
      }
      INFO("gate block " << b);
      REQUIRE(largest > 0.0);
    }
    std::vector<float> values = net.read_parameter(info.name, info.context);
    const std::size_t stride = std::max<std::size_t>(1, values.size() / 16);
    for (std::size_t i = 0; i < values.size(); i += stride) {
      const float original = values[i];
      values[i] = static_cast<float>(original + eps);
      net.write_parameter(info.name, info.context, values);
      const double plus = projected_loss(net, c, projections);
      values[i] = static_cast<float>(original - eps);
      net.write_parameter(info.name, info.context, values);
      const double minus = projected_loss(net, c, projections);
      values[i] = original;
      net.write_parameter(info.name, info.context, values);
      const double numeric = (plus - minus) / (2 * eps);
      INFO("element " << i << " analytic " << grad[i] << " numeric " << numeric);
      REQUIRE(std::fabs(grad[i] - numeric) <=
              1e-3 + 1e-2 * std::max(std::fabs(numeric), double(std::fabs(grad[i]))));
    }
    ++checked;
  }
  return checked;
}

struct SmoothCell {
  Recurrence recurrence;
  Activation activation;
  float alpha;
};
const std::vector<SmoothCell> kSmoothCells = {
    {Recurrence::kElman, Activation::kTanh, 1.0f},
    {Recurrence::kElman, Activation::kSoftplus, 0.2f},  // a leaky rate network (NeuroGym's CTRNN)
    {Recurrence::kGru, Activation::kTanh, 1.0f},
    {Recurrence::kLstm, Activation::kTanh, 1.0f},
};

}  // namespace

TEST_CASE("recurrent gradients, modulated: per-context gains and biases of every gate",
          "[neuromod][recurrent][gradients]") {
  for (const SmoothCell& cell : kSmoothCells) {
    INFO(to_string(cell.recurrence)
         << " " << to_string(cell.activation) << " alpha " << cell.alpha);
    auto net = make_network(recurrent_spec(cell.recurrence, false, cell.activation, cell.alpha),
                            Backend::kReference);
    add_perturbed_contexts(*net, 2, 5);
    net->set_weight_gain(0, 0.9f);
    const SequenceCase c(*net);
    // per context: cell gain and bias, dense gain and bias, fixed head bias and output gain (6);
    // shared: the trainable head's weight and bias
    REQUIRE(check_sequence_gradients(*net, c) == 2 * 6 + 2);
  }
}

TEST_CASE("recurrent gradients, trainable: input and recurrent weights of every gate",
          "[neuromod][recurrent][gradients]") {
  for (const SmoothCell& cell : kSmoothCells) {
    INFO(to_string(cell.recurrence) << " " << to_string(cell.activation));
    auto net = make_network(recurrent_spec(cell.recurrence, true, cell.activation, cell.alpha),
                            Backend::kReference);
    add_perturbed_contexts(*net, 2, 6);
    const SequenceCase c(*net);
    SECTION("all trainable") {
      // shared: W, U, dense weight... (the dense layer is fixed), head weight and bias
      REQUIRE(check_sequence_gradients(*net, c) == 2 * 6 + 4);
    }
    SECTION("context only: W and U get no gradient") {
      net->set_gradient_mode(GradientMode::kContextOnly);
      net->zero_grad();
      std::vector<Matrix> projections;
      for (const HeadSpec& h : net->spec().heads) {
        projections.push_back(random_matrix(kSteps * kBatch, h.units, 7));
      }
      c.run(*net);
      net->backward(projections);
      for (const char* name : {"layer0.weight", "layer0.recurrent_weight"}) {
        for (float g : net->read_gradient(name)) REQUIRE(g == 0.0f);
      }
      REQUIRE(check_sequence_gradients(*net, c) == 2 * 6);
    }
  }
}

TEST_CASE("recurrent layers on the CPU backend match the reference, any thread count",
          "[neuromod][recurrent]") {
  for (Recurrence recurrence : {Recurrence::kElman, Recurrence::kGru, Recurrence::kLstm}) {
    for (bool trainable : {false, true}) {
      INFO(to_string(recurrence) << " trainable " << trainable);
      // Wider than one chunk of sequences (16), so the CPU splits the batch across tasks.
      NetworkSpec spec = recurrent_network(recurrence, 7, 24, 3, 8, !trainable);
      const std::size_t steps = 6, batch = 37;
      const Matrix x = random_matrix(steps * batch, 7, 9);
      const std::vector<ContextId> contexts = random_contexts(batch, 2, 3);
      std::vector<std::uint8_t> starts(steps * batch, 0);
      for (std::size_t r = 0; r < starts.size(); r += 11) starts[r] = 1;
      const Matrix projection = random_matrix(steps * batch, 3, 12);
      struct Run {
        std::vector<float> out, state;
        std::vector<std::vector<float>> grads;
      };
      auto run = [&](Backend backend, int threads) {
        tbb::task_arena arena(threads);
        Run result;
        arena.execute([&] {
          auto net = make_network(spec, backend);
          add_perturbed_contexts(*net, 2, 4);
          const auto& out = net->forward_sequence(x, batch, contexts, nullptr, starts);
          result.out.assign(out[0].begin(), out[0].end());
          for (const Matrix& m : net->final_state()) {
            result.state.insert(result.state.end(), m.begin(), m.end());
          }
          net->zero_grad();
          net->backward(projection);
          for (const ParameterInfo& info : net->parameters()) {
            if (info.trainable) result.grads.push_back(net->read_gradient(info.name, info.context));
          }
        });
        return result;
      };
      const Run reference = run(Backend::kReference, 1);
      const Run one = run(Backend::kCpu, 1);
      const Run two = run(Backend::kCpu, 2);
      REQUIRE(one.out == two.out);  // bit-identical whatever the thread count
      REQUIRE(one.state == two.state);
      REQUIRE(one.grads == two.grads);
      auto close = [](const std::vector<float>& a, const std::vector<float>& b) {
        REQUIRE(a.size() == b.size());
        double scale = 0.0, diff = 0.0;
        for (std::size_t i = 0; i < a.size(); ++i) {
          scale = std::max(scale, double(std::fabs(b[i])));
          diff = std::max(diff, double(std::fabs(a[i] - b[i])));
        }
        REQUIRE(scale > 0.0);
        REQUIRE(diff <= 1e-4 * scale);
      };
      close(one.out, reference.out);
      close(one.state, reference.state);
      REQUIRE(one.grads.size() == reference.grads.size());
      for (std::size_t i = 0; i < one.grads.size(); ++i) close(one.grads[i], reference.grads[i]);
    }
  }
}

TEST_CASE("a sequence run in two calls with the state carried equals one call",
          "[neuromod][recurrent]") {
  for (Recurrence recurrence : {Recurrence::kElman, Recurrence::kGru, Recurrence::kLstm}) {
    INFO(to_string(recurrence));
    auto net = make_network(recurrent_network(recurrence, 5, 16, 2, 3, true), Backend::kCpu);
    const std::size_t steps = 8, batch = 4, half = steps / 2 * batch;
    const Matrix x = random_matrix(steps * batch, 5, 2);
    const std::vector<float> whole(net->forward_sequence(x, batch)[0].begin(),
                                   net->forward_sequence(x, batch)[0].end());
    const RecurrentState whole_state = net->final_state();
    const Matrix first = xt::view(x, xt::range(0, half), xt::all());
    const Matrix second = xt::view(x, xt::range(half, steps * batch), xt::all());
    std::vector<float> split(net->forward_sequence(first, batch)[0].begin(),
                             net->forward_sequence(first, batch)[0].end());
    const RecurrentState carried = net->final_state();
    REQUIRE(carried.size() == (recurrence == Recurrence::kLstm ? 2u : 1u));
    const auto& rest = net->forward_sequence(second, batch, {}, &carried);
    split.insert(split.end(), rest[0].begin(), rest[0].end());
    REQUIRE(split.size() == whole.size());
    for (std::size_t i = 0; i < whole.size(); ++i)
      REQUIRE(split[i] == Approx(whole[i]).margin(1e-6));
    for (std::size_t i = 0; i < whole_state.size(); ++i) {
      for (std::size_t e = 0; e < whole_state[i].size(); ++e) {
        REQUIRE(net->final_state()[i].data()[e] == Approx(whole_state[i].data()[e]).margin(1e-6));
      }
    }
  }
}

TEST_CASE("an episode start zeroes the state: the steps after it match a fresh sequence",
          "[neuromod][recurrent]") {
  auto net = make_network(recurrent_network(Recurrence::kGru, 3, 8, 2, 5, true), Backend::kCpu);
  const std::size_t steps = 6, batch = 2, restart = 3;
  const Matrix x = random_matrix(steps * batch, 3, 4);
  std::vector<std::uint8_t> starts(steps * batch, 0);
  starts[restart * batch + 1] = 1;  // sequence 1 starts again at step 3
  const RecurrentState initial = {random_matrix(batch, 8, 6)};
  const Matrix out = net->forward_sequence(x, batch, {}, &initial, starts)[0];
  // Sequence 1 from step 3, alone and from zeros.
  Matrix tail({steps - restart, 3});
  for (std::size_t t = restart; t < steps; ++t) {
    for (std::size_t i = 0; i < 3; ++i) tail(t - restart, i) = x(t * batch + 1, i);
  }
  const Matrix fresh = net->forward_sequence(tail, 1)[0];
  for (std::size_t t = restart; t < steps; ++t) {
    for (std::size_t j = 0; j < 2; ++j) {
      REQUIRE(out(t * batch + 1, j) == Approx(fresh(t - restart, j)).margin(1e-6));
    }
  }
  // Before the start, the initial state matters.
  const Matrix from_zero = net->forward_sequence(x, batch, {}, nullptr, starts)[0];
  REQUIRE(out(batch + 1, 0) != from_zero(batch + 1, 0));
}

TEST_CASE("recurrent noise: drawn per call, independent of thread count, zero by default",
          "[neuromod][recurrent]") {
  NetworkSpec spec = recurrent_network(Recurrence::kElman, 3, 8, 2, 5, false, 0.2f);
  spec.layers[0].recurrent_noise = 0.3f;
  const Matrix x = random_matrix(4 * 2, 3, 4);
  auto draw_twice = [&](int threads) {
    tbb::task_arena arena(threads);
    std::vector<Matrix> outs;
    arena.execute([&] {
      auto net = make_network(spec, Backend::kCpu);
      outs.push_back(net->forward_sequence(x, 2)[0]);
      outs.push_back(net->forward_sequence(x, 2)[0]);
    });
    return outs;
  };
  const auto one = draw_twice(1), two = draw_twice(2);
  REQUIRE(one[0] == two[0]);
  REQUIRE(one[1] == two[1]);
  REQUIRE(one[0] != one[1]);  // fresh noise on each call
  spec.layers[0].recurrent_noise = 0.0f;
  auto quiet = make_network(spec, Backend::kCpu);
  const Matrix a = quiet->forward_sequence(x, 2)[0];
  REQUIRE(quiet->forward_sequence(x, 2)[0] == a);
}

TEST_CASE("a recurrent checkpoint round-trips: same outputs, same state",
          "[neuromod][recurrent][checkpoint]") {
  TempDir dir("locus_recurrent_checkpoint_");
  for (bool modulated : {true, false}) {
    auto net = make_network(recurrent_network(Recurrence::kLstm, 4, 10, 3, 7, modulated));
    add_perturbed_contexts(*net, 2, 3);
    const Matrix x = random_matrix(3 * 2, 4, 5);
    const Matrix expected = net->forward_sequence(x, 2, std::vector<ContextId>{1, 0})[0];
    save_checkpoint(*net, dir.path / "lstm.ckpt");
    auto loaded = load_checkpoint(dir.path / "lstm.ckpt");
    REQUIRE(loaded->spec().layers[0].recurrence == Recurrence::kLstm);
    REQUIRE(loaded->forward_sequence(x, 2, std::vector<ContextId>{1, 0})[0] == expected);
    // A checkpoint holds the seed and the contexts: a modulated one stores no weight matrix.
    if (modulated) REQUIRE(checkpoint_bytes(*net) < 4 * 4 * 10 * (4 + 10) * sizeof(float));
  }
}

TEST_CASE("recurrent networks: clear errors naming the sizes", "[neuromod][recurrent][errors]") {
  auto net = make_network(recurrent_network(Recurrence::kLstm, 4, 10, 3, 7, true));
  const Matrix x = random_matrix(6, 4, 1);
  SECTION("forward() on a recurrent network points to forward_sequence") {
    REQUIRE_THROWS_WITH(net->forward(x),
                        Contains("recurrent layers") && Contains("forward_sequence"));
  }
  SECTION("rows that are not whole sequences") {
    REQUIRE_THROWS_WITH(net->forward_sequence(x, 4), Contains("(6, 4) for a batch of 4 sequences"));
  }
  SECTION("a state of the wrong shape") {
    RecurrentState state = net->zero_state(3);
    REQUIRE_THROWS_WITH(net->forward_sequence(x, 2, {}, &state),
                        Contains("layer 0 hidden state has shape (3, 10); expected (2, 10)"));
    state = {Matrix({2, 10})};
    REQUIRE_THROWS_WITH(net->forward_sequence(x, 2, {}, &state),
                        Contains("the initial state has 1 tensors") && Contains("carries 2"));
  }
  SECTION("episode_starts and context ids of the wrong length") {
    const std::vector<std::uint8_t> starts(5, 0);
    REQUIRE_THROWS_WITH(net->forward_sequence(x, 2, {}, nullptr, starts),
                        Contains("5 episode_starts flags for 6 rows"));
    const std::vector<ContextId> ids(4, 0);
    REQUIRE_THROWS_WITH(net->forward_sequence(x, 2, ids), Contains("4 context ids"));
  }
  SECTION("a BPTT window beyond the memory budget is refused before anything is allocated") {
    auto wide = make_network(recurrent_network(Recurrence::kLstm, 1, 4096, 2, 7, false));
    const Matrix long_inputs({std::size_t{4'000'000}, 1}, 0.0f);
    REQUIRE_THROWS_WITH(wide->forward_sequence(long_inputs, 1),
                        Contains("4000000 steps of 1 sequences") && Contains("fewer steps"));
  }
  SECTION("a recurrent checkpoint's context does not load into a dense network") {
    TempDir dir("locus_recurrent_context_");
    save_context(*net, 0, dir.path / "c.ctx");
    auto dense = make_network(baseline_mlp(4, {10}, 3, 7));
    REQUIRE_THROWS_AS(load_context(*dense, dir.path / "c.ctx"), CheckpointError);
  }
  SECTION("spec checks") {
    NetworkSpec spec = recurrent_network(Recurrence::kGru, 4, 10, 3, 7, true);
    spec.layers[0].activation = Activation::kRelu;
    REQUIRE_THROWS_WITH(spec.validate(), Contains("GRU and LSTM layers use tanh"));
    spec = recurrent_network(Recurrence::kElman, 4, 10, 3, 7, true);
    spec.layers[0].alpha = 0.0f;
    REQUIRE_THROWS_WITH(spec.validate(), Contains("alpha = 0 must be in (0, 1]"));
    spec.layers[0].alpha = 1.0f;
    spec.weight_sets = 2;
    REQUIRE_THROWS_WITH(spec.validate(), Contains("recurrent"));
    const std::string json = to_json(recurrent_network(Recurrence::kGru, 4, 10, 3, 7, false));
    REQUIRE(to_json(network_spec_from_json(json)) == json);
  }
}

TEST_CASE("bfloat16 products: a modulated recurrent network's input weights in bfloat16",
          "[neuromod][recurrent][bf16]") {
  if (!cpu_supports_bf16_products()) {
    WARN("this CPU has no AVX512-BF16: recurrent bfloat16 products are not tested here");
    return;
  }
  for (Recurrence recurrence : {Recurrence::kElman, Recurrence::kGru, Recurrence::kLstm}) {
    INFO(to_string(recurrence));
    auto net = make_network(recurrent_network(recurrence, 32, 64, 3, 2, true));
    const Matrix x = random_matrix(10 * 8, 32, 3);
    const Matrix exact = net->forward_sequence(x, 8)[0];
    net->set_matmul_precision(MatmulPrecision::kBfloat16);
    const Matrix rounded = net->forward_sequence(x, 8)[0];
    double scale = 0.0, diff = 0.0;
    for (std::size_t i = 0; i < exact.size(); ++i) {
      scale = std::max(scale, double(std::fabs(exact.data()[i])));
      diff = std::max(diff, double(std::fabs(exact.data()[i] - rounded.data()[i])));
    }
    REQUIRE(diff > 0.0);  // the products did change precision
    REQUIRE(diff <= 2e-2 * scale);
    net->zero_grad();
    net->backward(random_matrix(10 * 8, 3, 4));  // the gains' gradients flow in bfloat16 too
    double largest = 0.0;
    for (float g : net->read_gradient("layer0.gain", 0))
      largest = std::max(largest, double(std::fabs(g)));
    REQUIRE(largest > 0.0);
  }
}

TEST_CASE("the noise position can be saved and put back", "[neuromod][recurrent]") {
  NetworkSpec spec = recurrent_network(Recurrence::kElman, 3, 8, 2, 5, false, 0.5f);
  spec.layers[0].recurrent_noise = 0.3f;
  auto net = make_network(spec, Backend::kCpu);
  const Matrix x = random_matrix(4 * 2, 3, 4);
  const std::uint64_t saved = net->noise_position();
  const Matrix first = net->forward_sequence(x, 2)[0];
  REQUIRE(net->noise_position() == saved + 1);
  net->forward_sequence(x, 2);  // an evaluation's pass, say
  net->set_noise_position(saved + 1);
  const Matrix second = net->forward_sequence(x, 2)[0];
  net->set_noise_position(saved + 1);
  REQUIRE(net->forward_sequence(x, 2)[0] == second);
  REQUIRE(second != first);
}
