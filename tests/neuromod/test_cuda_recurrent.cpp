// Recurrent networks on the CUDA backend against the reference backend (the oracle: double sums on
// the CPU): forward_sequence's outputs and final state, every gradient after backward, and the
// parameters after a step, for every cell kind (Elman with leak, noise and each activation, GRU,
// LSTM; modulated and trainable; stacked with a dense layer between), with per-sequence and per-row
// contexts, episode starts and an initial state. Tagged [cuda]: without a device (or in a build
// without CUDA) they say so in a warning and pass without checking. The same comparisons run with
// the CPU backend in place of CUDA ([recurrent], every build), which checks the tests themselves
// (shapes, tolerances, gradients that are not zero) on machines without a GPU.
//
// Tolerances: float32 against double; a sequence of 7 steps adds a few roundings per step, so 1e-4
// relative on each tensor leaves room for them and no more. The optimizer is momentum SGD: the
// normalizing rules would move elements whose gradient is ~0 by up to the learning rate.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "cuda_device.hpp"
#include "neuromod/cuda/cuda_network.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/losses.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;
using Catch::Matchers::Contains;

namespace {

void require_close(const Matrix& a, const Matrix& b, double tolerance) {
  REQUIRE(a.shape() == b.shape());
  for (float v : a) REQUIRE(std::isfinite(v));
  REQUIRE(relative_error(a, b) < tolerance);
}

struct RecurrentCase {
  std::string name;
  NetworkSpec spec;
  std::size_t contexts;
};

LayerSpec recurrent_layer(Recurrence recurrence, std::size_t units) {
  LayerSpec l = layer(units);
  l.recurrence = recurrence;
  l.activation = Activation::kTanh;
  l.bias = true;
  return l;
}

std::vector<RecurrentCase> recurrent_cases() {
  const std::size_t in = 6, hidden = 40, out = 4;
  std::vector<RecurrentCase> cases;
  NetworkSpec elman = recurrent_network(Recurrence::kElman, in, hidden, out, 3, true, 0.4f);
  elman.layers[0].recurrent_noise = 0.2f;
  cases.push_back({"elman tanh, leak 0.4, noise 0.2, modulated", elman, 3});
  NetworkSpec relu = recurrent_network(Recurrence::kElman, in, hidden, out, 4, false, 0.7f);
  relu.layers[0].activation = Activation::kRelu;
  cases.push_back({"elman relu, leak 0.7, trainable", relu, 1});
  NetworkSpec softplus = recurrent_network(Recurrence::kElman, in, hidden, out, 5, true);
  softplus.layers[0].activation = Activation::kSoftplus;
  cases.push_back({"elman softplus, modulated", softplus, 3});
  cases.push_back(
      {"gru modulated", recurrent_network(Recurrence::kGru, in, hidden, out, 6, true), 3});
  cases.push_back(
      {"gru trainable", recurrent_network(Recurrence::kGru, in, hidden, out, 7, false), 1});
  cases.push_back(
      {"lstm modulated", recurrent_network(Recurrence::kLstm, in, hidden, out, 8, true), 3});
  cases.push_back(
      {"lstm trainable", recurrent_network(Recurrence::kLstm, in, hidden, out, 9, false), 1});
  // Two recurrent layers with a dense one between, two heads: the state's order, the gradient
  // through a recurrent layer into the layers below, and a trainable per-context readout.
  NetworkSpec stacked;
  stacked.name = "stacked";
  stacked.input_dim = in;
  stacked.seed = 10;
  LayerSpec dense = layer(20);
  dense.activation = Activation::kTanh;
  dense.bias = true;
  stacked.layers = {recurrent_layer(Recurrence::kGru, 33), dense,
                    recurrent_layer(Recurrence::kLstm, 17)};
  stacked.heads = {
      head("logits", out, ReadoutWeights::kFixedRandom, BiasKind::kPerContext, true),
      head("value", 1, ReadoutWeights::kTrainablePerContext, BiasKind::kShared, false)};
  cases.push_back({"gru, dense, lstm, two heads", stacked, 3});
  return cases;
}

// Episode starts at step 0 of sequence 2, a middle step of sequence 1 and the last step of the
// last sequence: the mask at each place it can cut.
std::vector<std::uint8_t> episode_starts(std::size_t steps, std::size_t batch) {
  std::vector<std::uint8_t> starts(steps * batch, 0);
  starts[2 % batch] = 1;
  starts[(steps / 2) * batch + 1 % batch] = 1;
  starts[steps * batch - 1] = 1;
  return starts;
}

RecurrentState random_state(const Network& net, std::size_t batch, std::uint64_t seed) {
  RecurrentState state = net.zero_state(batch);
  for (Matrix& m : state) m = random_matrix(m.shape()[0], m.shape()[1], seed++, 0.5);
  return state;
}

std::vector<Matrix> loss_gradients(const std::vector<Matrix>& outputs, std::uint64_t seed) {
  return head_gradients(outputs, random_labels(outputs[0].shape()[0], outputs[0].shape()[1], seed));
}

// Two training steps of `backend` and the reference side by side: the second with per-row
// contexts and an initial state, each with episode starts; everything compared on the way.
void compare_with_reference(Backend backend, const RecurrentCase& c, std::size_t steps,
                            std::size_t batch, double tolerance) {
  INFO(c.name << " on " << to_string(backend) << ", " << steps << " steps of " << batch);
  auto fast = make_network(c.spec, backend);
  auto reference = make_network(c.spec, Backend::kReference);
  add_perturbed_contexts(*fast, c.contexts, 5);
  add_perturbed_contexts(*reference, c.contexts, 5);
  OptimizerConfig config;
  config.kind = OptimizerKind::kMomentum;
  config.learning_rate = 1e-2f;
  for (Network* net : {fast.get(), reference.get()}) {
    net->set_optimizer(config);
    net->set_weight_gain(0, 1.2f);  // s_w on both products of the first layer
  }
  const std::size_t rows = steps * batch;
  const std::vector<std::uint8_t> starts = episode_starts(steps, batch);
  for (int pass = 0; pass < 2; ++pass) {
    INFO("pass " << pass);
    const Matrix x = random_matrix(rows, c.spec.input_dim, 10 + pass);
    const auto ids = random_contexts(pass == 0 ? batch : rows, c.contexts, 20 + pass);
    const RecurrentState initial = random_state(*reference, batch, 30 + pass);
    const RecurrentState* initial_state = pass == 0 ? nullptr : &initial;
    const auto& out = fast->forward_sequence(x, batch, ids, initial_state, starts);
    const auto& expected = reference->forward_sequence(x, batch, ids, initial_state, starts);
    REQUIRE(out.size() == expected.size());
    for (std::size_t h = 0; h < out.size(); ++h) require_close(out[h], expected[h], tolerance);
    REQUIRE(fast->final_state().size() == reference->final_state().size());
    REQUIRE(!fast->final_state().empty());
    for (std::size_t i = 0; i < fast->final_state().size(); ++i) {
      INFO("final state " << i);
      require_close(fast->final_state()[i], reference->final_state()[i], tolerance);
    }
    const std::vector<Matrix> grads = loss_gradients(expected, 40 + pass);
    double gradient_norm = 0.0;
    for (Network* net : {fast.get(), reference.get()}) {
      net->zero_grad();
      net->backward(grads);
    }
    for (const ParameterInfo& info : reference->parameters()) {
      if (!info.trainable) continue;
      INFO(info.name << " context " << info.context);
      const auto b = reference->read_gradient(info.name, info.context);
      for (float v : b) gradient_norm += double(v) * v;
      REQUIRE(relative_error(fast->read_gradient(info.name, info.context), b) < tolerance);
    }
    REQUIRE(gradient_norm > 1e-6);  // the comparisons above are not of zeros
    fast->step();
    reference->step();
    for (const ParameterInfo& info : reference->parameters()) {
      INFO(info.name << " context " << info.context << " after the step");
      REQUIRE(relative_error(fast->read_parameter(info.name, info.context),
                             reference->read_parameter(info.name, info.context)) < tolerance);
    }
  }
}

}  // namespace

TEST_CASE("recurrent networks: the comparison with the reference, run on the CPU backend",
          "[neuromod][recurrent]") {
  for (const RecurrentCase& c : recurrent_cases()) {
    compare_with_reference(Backend::kCpu, c, 7, 5, 1e-4);
  }
}

TEST_CASE("CUDA recurrent networks match the reference for every cell kind",
          "[cuda][neuromod][recurrent]") {
  if (!have_device()) return;
  for (const RecurrentCase& c : recurrent_cases()) {
    compare_with_reference(Backend::kCuda, c, 7, 5, 1e-4);
    compare_with_reference(Backend::kCuda, c, 1, 1, 1e-4);  // one step of one sequence
  }
}

TEST_CASE("CUDA recurrent networks match the reference at a larger shape",
          "[cuda][neuromod][recurrent]") {
  if (!have_device()) return;
  // 800 rows: many 64-row chunks per context in the gain and bias reductions; 130 units.
  NetworkSpec gru = recurrent_network(Recurrence::kGru, 9, 130, 5, 12, true);
  NetworkSpec lstm = recurrent_network(Recurrence::kLstm, 9, 130, 5, 13, false);
  compare_with_reference(Backend::kCuda, {"gru 130 modulated", gru, 4}, 20, 40, 1e-4);
  compare_with_reference(Backend::kCuda, {"lstm 130 trainable", lstm, 1}, 20, 40, 1e-4);
}

TEST_CASE("CUDA recurrent results are bit-identical run to run", "[cuda][neuromod][recurrent]") {
  if (!have_device()) return;
  const NetworkSpec spec = recurrent_network(Recurrence::kLstm, 6, 70, 4, 14, true);
  auto run = [&] {
    auto net = make_network(spec, Backend::kCuda);
    add_perturbed_contexts(*net, 3, 2);
    const Matrix x = random_matrix(300, 6, 3);
    const auto ids = random_contexts(300, 3, 4);
    const auto& out = net->forward_sequence(x, 30, ids, nullptr, episode_starts(10, 30));
    net->zero_grad();
    net->backward(loss_gradients(out, 5));
    return std::make_pair(out[0], net->read_gradient("layer0.gain", 1));
  };
  const auto [first_out, first_grad] = run();
  const auto [second_out, second_grad] = run();
  REQUIRE(std::memcmp(first_out.data(), second_out.data(), first_out.size() * sizeof(float)) == 0);
  REQUIRE(std::memcmp(first_grad.data(), second_grad.data(), first_grad.size() * sizeof(float)) ==
          0);
}

TEST_CASE("a recurrent CUDA network points forward() and forward_device to forward_sequence",
          "[cuda][neuromod][recurrent]") {
  if (!have_device()) return;
  auto net = make_network(recurrent_network(Recurrence::kGru, 6, 8, 4, 1, true), Backend::kCuda);
  const Matrix x = random_matrix(4, 6, 1);
  REQUIRE_THROWS_WITH(net->forward(x), Contains("forward_sequence"));
  DeviceArray<float> inputs(x.size());
  inputs.upload(std::span<const float>(x.data(), x.size()));
  REQUIRE_THROWS_WITH(as_cuda(*net).forward_device(inputs.data(), 4), Contains("forward_sequence"));
  // A state of the wrong shape is refused before anything runs.
  RecurrentState wrong = net->zero_state(3);
  REQUIRE_THROWS_AS(net->forward_sequence(x, 2, {}, &wrong), ShapeError);
}
