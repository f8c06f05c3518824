// The CUDA backend against the reference backend (the oracle: double accumulation on the CPU), at
// many shapes including odd ones, through forward, backward and every optimizer; determinism run to
// run; zero interference between contexts; the device-side loss; errors. Tagged [cuda]: without a
// device (or in a build without CUDA) each test says so in a warning and passes without checking,
// except the first, which checks the error a user gets when asking for CUDA without it.
//
// Tolerances: the CUDA backend computes in float32 (cuBLAS sgemm, fused kernels with float
// accumulation), the reference in double; relative errors are ~1e-6 per operation, so 1e-4 on
// outputs and parameters after a few steps leaves room for the accumulated rounding and no more.
// Adam normalizes each step, so an element whose gradient is ~0 may move by up to lr either way.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include "cuda_device.hpp"
#include "neuromod/checkpoint.hpp"
#include "neuromod/cuda/cuda_network.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/losses.hpp"
#include "neuromod/presets.hpp"
#include "support.hpp"

#ifdef LOCUS_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

using namespace locus::neuromod;
using namespace locus::neuromod::testing;
using Catch::Matchers::Contains;

namespace {

// Every feature of the modulated network: a dense layer, then a centered sparse layer with the
// published post-activation gain, a dense layer with gain and bias, a fixed readout with
// per-context bias and output gain, and a trainable per-context readout with a shared bias.
NetworkSpec modulated_spec() {
  NetworkSpec spec;
  spec.name = "cuda-modulated";
  spec.input_dim = 37;
  spec.seed = 11;
  // Below the sparse layer, so gradients flow back through it; wider than one 256-unit tile of
  // the fused backward kernel.
  LayerSpec first = layer(300);
  LayerSpec sparse = layer(130, LayerKind::kSparseBinary, 5);
  sparse.center = true;
  sparse.site = ModulationSite::kPostActivation;
  sparse.gain_init = GainInit::kXavierNormal;
  LayerSpec dense = layer(67);
  dense.bias = true;
  dense.activation = Activation::kTanh;
  spec.layers = {first, sparse, dense};
  spec.heads = {head("logits", 10, ReadoutWeights::kFixedRandom, BiasKind::kPerContext, true),
                head("value", 3, ReadoutWeights::kTrainablePerContext, BiasKind::kShared, false)};
  return spec;
}

// Trainable shared weights everywhere: the ordinary-network baseline, plus a trainable sparse
// layer.
NetworkSpec trainable_spec() {
  NetworkSpec spec = baseline_mlp(29, {45, 33}, 7, 5, true);
  spec.name = "cuda-trainable";
  LayerSpec sparse = layer(51, LayerKind::kSparseBinary, 4);
  sparse.trainable_weights = true;
  sparse.gain = false;
  sparse.activation = Activation::kIdentity;
  sparse.center = true;
  spec.layers.insert(spec.layers.begin(), sparse);
  spec.heads[0].bias = BiasKind::kShared;
  return spec;
}

double step_on(Network& net, const Matrix& x, std::span<const ContextId> ids,
               std::span<const std::int32_t> labels) {
  const auto& out = net.forward(x, ids);
  std::vector<Matrix> grads(out.size());
  double loss = softmax_cross_entropy(out[0], labels, &grads[0]);
  for (std::size_t h = 1; h < out.size(); ++h) {
    Matrix zeros(out[h].shape());
    zeros.fill(0.25f);
    loss += mean_squared_error(out[h], zeros, &grads[h]);
  }
  net.zero_grad();
  net.backward(grads);
  net.step();
  return loss;
}

void require_same_parameters(Network& cuda, Network& reference, double tolerance) {
  for (const ParameterInfo& info : cuda.parameters()) {
    const auto a = cuda.read_parameter(info.name, info.context);
    const auto b = reference.read_parameter(info.name, info.context);
    INFO(info.name << " context " << info.context);
    for (float v : a) REQUIRE(std::isfinite(v));
    REQUIRE(relative_error(a, b) < tolerance);
  }
}

// Fills device memory with NaN (all bits set), so that an element a kernel fails to write shows.
void poison(const float* device, std::size_t count) {
#ifdef LOCUS_HAVE_CUDA
  REQUIRE(cudaMemset(const_cast<float*>(device), 0xff, count * sizeof(float)) == cudaSuccess);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
#else
  (void)device;
  (void)count;
#endif
}

bool bit_identical(const Matrix& a, const Matrix& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("asking for CUDA without a device or a CUDA build is a clear error", "[cuda]") {
  if (cuda_available()) {
    REQUIRE(make_network(modulated_spec(), Backend::kCuda)->backend() == Backend::kCuda);
    return;
  }
  REQUIRE_THROWS_WITH(make_network(modulated_spec(), Backend::kCuda), Contains("CUDA"));
  REQUIRE(backend_from_string("cuda") == Backend::kCuda);
  REQUIRE_THROWS_WITH(backend_from_string("gpu"), Contains("cpu, reference, cuda"));
}

TEST_CASE("CUDA forward matches the reference at many batch sizes, mixed contexts",
          "[cuda][neuromod]") {
  if (!have_device()) return;
  for (const NetworkSpec& spec : {modulated_spec(), trainable_spec()}) {
    auto cuda = make_network(spec, Backend::kCuda);
    auto reference = make_network(spec, Backend::kReference);
    REQUIRE(cuda->structure_digest() == reference->structure_digest());
    add_perturbed_contexts(*cuda, 4, 3);
    add_perturbed_contexts(*reference, 4, 3);
    for (std::size_t rows : {1, 2, 31, 32, 33, 255, 256, 257, 1000}) {
      const Matrix x = random_matrix(rows, spec.input_dim, rows);
      const auto ids = random_contexts(rows, 4, rows + 1);
      // Run once, poison the device outputs, run again: every element must be written again.
      DeviceArray<float> inputs(x.size());
      inputs.upload(std::span<const float>(x.data(), x.size()));
      const auto pointers = as_cuda(*cuda).forward_device(inputs.data(), rows, ids);
      for (std::size_t h = 0; h < pointers.size(); ++h) {
        poison(pointers[h], rows * spec.heads[h].units);
      }
      const auto& out = cuda->forward(x, ids);
      const auto& expected = reference->forward(x, ids);
      for (std::size_t h = 0; h < out.size(); ++h) {
        INFO(spec.name << " rows " << rows << " head " << h);
        const std::vector<float> a(out[h].begin(), out[h].end());
        const std::vector<float> b(expected[h].begin(), expected[h].end());
        for (float v : a) REQUIRE(std::isfinite(v));
        REQUIRE(relative_error(a, b) < 1e-5);
      }
    }
  }
}

TEST_CASE("CUDA weight sets write every output, grouped or interleaved",
          "[cuda][neuromod][weight_sets]") {
  if (!have_device()) return;
  NetworkSpec spec = modulated_mlp(37, {300, 67}, 10, 4);
  spec.weight_sets = 5;
  auto cuda = make_network(spec, Backend::kCuda);
  auto reference = make_network(spec, Backend::kReference);
  add_perturbed_contexts(*cuda, 10, 3);  // context k on set k % 5
  add_perturbed_contexts(*reference, 10, 3);
  for (std::size_t rows : {5, 10, 255, 1000}) {
    for (bool grouped : {true, false}) {
      as_cuda(*cuda).set_batched_set_products(rows != 255);  // both kernel versions
      INFO("rows " << rows << (grouped ? " grouped" : " interleaved")
                   << (rows != 255 ? ", strided batched" : ", a GEMM per set"));
      std::vector<ContextId> ids(rows);
      for (std::size_t r = 0; r < rows; ++r) {
        // grouped: rows / 5 per set, in set order (one strided batched product per layer)
        ids[r] = static_cast<ContextId>(grouped ? r * 5 / rows + 5 * (r % 2) : (r * 7) % 10);
      }
      const Matrix x = random_matrix(rows, spec.input_dim, rows + grouped);
      DeviceArray<float> inputs(x.size());
      inputs.upload(std::span<const float>(x.data(), x.size()));
      const auto pointers = as_cuda(*cuda).forward_device(inputs.data(), rows, ids);
      poison(pointers[0], rows * 10);
      const Matrix& out = cuda->forward(x, ids)[0];  // into the poisoned buffer, then read back
      const auto& expected = reference->forward(x, ids)[0];
      const std::vector<float> a(out.begin(), out.end()), b(expected.begin(), expected.end());
      for (float v : a) REQUIRE(std::isfinite(v));
      REQUIRE(relative_error(a, b) < 1e-5);
      // And backward: the head gradients cross into the network's row order, the input gradients
      // of both layers run through the set products.
      const auto labels = random_labels(rows, 10, rows);
      for (Network* net : {cuda.get(), reference.get()}) {
        Matrix grad;
        softmax_cross_entropy(net->forward(x, ids)[0], labels, &grad);
        net->zero_grad();
        net->backward(grad);
      }
      for (const ParameterInfo& info : cuda->parameters()) {
        if (!info.trainable || !std::count(ids.begin(), ids.end(), info.context)) continue;
        INFO(info.name << " context " << info.context);
        REQUIRE(relative_error(cuda->read_gradient(info.name, info.context),
                               reference->read_gradient(info.name, info.context)) < 1e-4);
      }
      // The same step through the device calls (labels and gradient in the caller's row order):
      // loss, entropy and gradients as the host loss and the reference give them.
      DeviceArray<std::int32_t> device_labels(rows);
      device_labels.upload(labels);
      DeviceArray<float> device_gradient(rows * 10);
      CudaNetwork& net = as_cuda(*cuda);
      net.forward_device(inputs.data(), rows, ids);
      net.cross_entropy_device(0, device_labels.data(), device_gradient.data());
      net.zero_grad();
      const float* gradients[1] = {device_gradient.data()};
      net.backward_device(gradients);
      Matrix host_gradient;
      const double loss =
          softmax_cross_entropy(reference->forward(x, ids)[0], labels, &host_gradient);
      REQUIRE(net.last_loss_and_entropy().first == Approx(loss).epsilon(1e-5));
      const std::vector<float> device_values = device_gradient.download();
      REQUIRE(relative_error(device_values, std::vector<float>(host_gradient.begin(),
                                                               host_gradient.end())) < 1e-5);
      for (const ParameterInfo& info : cuda->parameters()) {
        if (!info.trainable || !std::count(ids.begin(), ids.end(), info.context)) continue;
        INFO("device calls: " << info.name << " context " << info.context);
        REQUIRE(relative_error(cuda->read_gradient(info.name, info.context),
                               reference->read_gradient(info.name, info.context)) < 1e-4);
      }
    }
  }
}

TEST_CASE("CUDA training matches the reference for every optimizer and gradient mode",
          "[cuda][neuromod]") {
  if (!have_device()) return;
  for (const NetworkSpec& spec : {modulated_spec(), trainable_spec()}) {
    for (auto kind : {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kAdam,
                      OptimizerKind::kRmsprop}) {
      for (auto mode : {GradientMode::kContextOnly, GradientMode::kAllTrainable}) {
        INFO(spec.name << " optimizer " << to_string(kind) << " mode " << int(mode));
        auto cuda = make_network(spec, Backend::kCuda);
        auto reference = make_network(spec, Backend::kReference);
        const std::size_t contexts = spec.name == "cuda-modulated" ? 3 : 1;
        add_perturbed_contexts(*cuda, contexts, 7);
        add_perturbed_contexts(*reference, contexts, 7);
        OptimizerConfig config;
        config.kind = kind;
        // The normalizing rules (Adam, RMSprop) move each element by about lr whatever its
        // gradient's size, so with their default epsilon (1e-8) a gradient that is 0 in double
        // but 1e-9 of float32 rounding in one sum moves as far as a real one: a larger epsilon
        // and a small learning rate keep those elements still, so the comparison measures the
        // rule and not the rounding (an H100 run at lr 1e-2, epsilon 1e-8 saw RMSprop's gradient
        // norms drift 1.4e-3 apart in a trainable network).
        const bool normalizing = kind == OptimizerKind::kAdam || kind == OptimizerKind::kRmsprop;
        config.learning_rate = normalizing ? 1e-3f : 1e-2f;
        if (normalizing) config.epsilon = 1e-4f;
        config.weight_decay = 1e-3f;
        config.clip_grad_norm = 5.0f;  // exercises the device-side norm and clip factor
        // The options of each rule: Nesterov momentum, decoupled decay (AdamW), value clipping.
        config.nesterov = kind == OptimizerKind::kMomentum;
        config.decoupled_weight_decay = kind == OptimizerKind::kAdam;
        config.clip_grad_value = kind == OptimizerKind::kSgd ? 0.05f : 0.0f;
        for (Network* net : {cuda.get(), reference.get()}) {
          net->set_optimizer(config);
          net->set_gradient_mode(mode);
          net->set_weight_gain(0, 1.3f);  // an NGM-style weight gain on the first layer
        }
        for (int step = 0; step < 4; ++step) {
          const std::size_t rows = 17 + 80 * std::size_t(step);  // across chunk edges (256)
          const Matrix x = random_matrix(rows, spec.input_dim, 40 + step);
          const auto ids = random_contexts(rows, contexts, 50 + step);
          const auto labels = random_labels(rows, spec.heads[0].units, 60 + step);
          const double loss_cuda = step_on(*cuda, x, ids, labels);
          const double loss_reference = step_on(*reference, x, ids, labels);
          REQUIRE(loss_cuda == Approx(loss_reference).epsilon(1e-5));
          // The same update happened: norm, clip factor and tensors updated (step() again with
          // no new gradient re-applies the rule to the same gradients on both).
          const StepStats a = cuda->step(), b = reference->step();
          REQUIRE(a.gradient_norm == Approx(b.gradient_norm).epsilon(1e-4));
          REQUIRE(a.clip_factor == Approx(b.clip_factor).epsilon(1e-4));
          REQUIRE(a.updated_tensors == b.updated_tensors);
        }
        for (const ParameterInfo& info : cuda->parameters()) {
          if (!info.trainable) continue;
          INFO(info.name << " context " << info.context);
          REQUIRE(relative_error(cuda->read_gradient(info.name, info.context),
                                 reference->read_gradient(info.name, info.context)) < 1e-4);
        }
        require_same_parameters(*cuda, *reference, normalizing ? 2e-3 : 1e-4);
      }
    }
  }
}

TEST_CASE("CUDA results are bit-identical run to run, and contexts do not interfere",
          "[cuda][neuromod]") {
  if (!have_device()) return;
  auto run = [](std::vector<Matrix>* probe_outputs) {
    auto net = make_network(modulated_spec(), Backend::kCuda);
    add_perturbed_contexts(*net, 3, 1);
    net->set_gradient_mode(GradientMode::kContextOnly);
    OptimizerConfig config;
    config.kind = OptimizerKind::kAdam;
    config.learning_rate = 1e-2f;
    net->set_optimizer(config);
    const Matrix probe = random_matrix(40, 37, 3);
    const std::vector<ContextId> as_a(40, 0);
    const std::vector<Matrix> before_a = net->forward(probe, as_a);
    for (int i = 0; i < 5; ++i) {  // 3000 rows: many chunks per context in the reductions
      const auto ids = random_contexts(3000, 2, 10 + i);
      std::vector<ContextId> b_or_c(ids.size());
      for (std::size_t r = 0; r < ids.size(); ++r) b_or_c[r] = ids[r] + 1;
      step_on(*net, random_matrix(3000, 37, 20 + i), b_or_c, random_labels(3000, 10, 30 + i));
    }
    const std::vector<Matrix> after_a = net->forward(probe, as_a);
    for (std::size_t h = 0; h < before_a.size(); ++h)
      REQUIRE(bit_identical(before_a[h], after_a[h]));
    *probe_outputs = net->forward(probe, std::vector<ContextId>(40, 1));
    return net->read_parameter("layer0.gain", 2);
  };
  std::vector<Matrix> first_outputs, second_outputs;
  const auto first = run(&first_outputs);
  const auto second = run(&second_outputs);
  REQUIRE(std::memcmp(first.data(), second.data(), first.size() * sizeof(float)) == 0);
  for (std::size_t h = 0; h < first_outputs.size(); ++h) {
    REQUIRE(bit_identical(first_outputs[h], second_outputs[h]));
  }
}

TEST_CASE("CUDA device-side cross-entropy matches the host loss, entropy and gradient",
          "[cuda][neuromod]") {
  if (!have_device()) return;
  auto net = make_network(modulated_spec(), Backend::kCuda);
  auto& cuda = as_cuda(*net);
  for (std::size_t rows : {1, 7, 300}) {
    const Matrix x = random_matrix(rows, 37, 5 + rows);
    const auto labels = random_labels(rows, 10, 6 + rows);
    const Matrix logits = net->forward(x)[0];
    Matrix expected_gradient;
    const double expected_loss = softmax_cross_entropy(logits, labels, &expected_gradient);
    const double expected_entropy = mean_softmax_entropy(logits, EntropyUnit::kNats);
    DeviceArray<float> inputs(x.size()), gradient(rows * 10);
    DeviceArray<std::int32_t> device_labels(rows);
    inputs.upload(std::span<const float>(x.data(), x.size()));
    device_labels.upload(labels);
    cuda.forward_device(inputs.data(), rows);
    cuda.cross_entropy_device(0, device_labels.data(), gradient.data());
    const auto [loss, entropy] = cuda.last_loss_and_entropy();
    REQUIRE(loss == Approx(expected_loss).epsilon(1e-5));
    REQUIRE(entropy == Approx(expected_entropy).epsilon(1e-5));
    REQUIRE(relative_error(gradient.download(),
                           std::vector<float>(expected_gradient.begin(), expected_gradient.end())) <
            1e-5);
  }
  DeviceArray<float> inputs(37), gradient(10);
  inputs.upload(std::vector<float>(37, 0.5f));
  DeviceArray<std::int32_t> bad(1);
  bad.upload(std::vector<std::int32_t>{10});
  cuda.forward_device(inputs.data(), 1);
  cuda.cross_entropy_device(0, bad.data(), gradient.data());
  REQUIRE_THROWS_AS(cuda.last_loss_and_entropy(), InvalidArgumentError);
}

TEST_CASE("CUDA networks report bad input, non-finite values and bad contexts clearly",
          "[cuda][neuromod]") {
  if (!have_device()) return;
  auto net = make_network(modulated_spec(), Backend::kCuda);
  Matrix x = random_matrix(4, 37, 1);
  REQUIRE_THROWS_AS(net->forward(random_matrix(4, 36, 1)), ShapeError);
  REQUIRE_THROWS_WITH(net->forward(x, std::vector<ContextId>{0, 0, 5, 0}),
                      Contains("row 2 has context 5"));
  x(1, 3) = std::nanf("");
  REQUIRE_THROWS_WITH(net->forward(x), Contains("row 1, column 3"));
  x(1, 3) = 0.0f;
  net->forward(x);
  std::vector<Matrix> grads = {Matrix({4, 10}), Matrix({4, 3})};
  grads[0].fill(0.0f);
  grads[1].fill(0.0f);
  grads[0](2, 2) = std::numeric_limits<float>::infinity();
  REQUIRE_THROWS_AS(net->backward(grads), NonFiniteError);
  // A huge gradient overflows the per-context gains: the step names the parameter.
  grads[0](2, 2) = 3e38f;
  grads[1].fill(3e38f);
  OptimizerConfig sgd;
  sgd.learning_rate = 1e30f;
  net->set_optimizer(sgd);
  net->zero_grad();
  REQUIRE_THROWS_AS(
      [&] {
        net->backward(grads);
        net->step();
      }(),
      NonFiniteError);
  REQUIRE_THROWS_WITH(net->read_parameter("layer9.gain", 0), Contains("has no parameter"));
}

TEST_CASE("a checkpoint written on the CPU loads on CUDA with the same outputs",
          "[cuda][neuromod]") {
  if (!have_device()) return;
  auto cpu = make_network(modulated_spec(), Backend::kCpu);
  add_perturbed_contexts(*cpu, 2, 4);
  const auto file = std::filesystem::temp_directory_path() / "locus_cuda_checkpoint.lcp";
  save_checkpoint(*cpu, file);
  auto cuda = load_checkpoint(file, Backend::kCuda);
  std::filesystem::remove(file);
  REQUIRE(cuda->backend() == Backend::kCuda);
  REQUIRE(cuda->context_count() == 2);
  const Matrix x = random_matrix(50, 37, 8);
  const auto ids = random_contexts(50, 2, 9);
  const auto expected = cpu->forward(x, ids);
  const auto& out = cuda->forward(x, ids);
  for (std::size_t h = 0; h < out.size(); ++h) {
    const std::vector<float> a(out[h].begin(), out[h].end());
    const std::vector<float> b(expected[h].begin(), expected[h].end());
    REQUIRE(relative_error(a, b) < 1e-5);
  }
}

TEST_CASE("the fused and the two-pass CUDA layer backward give the same gradients",
          "[cuda][neuromod]") {
  if (!have_device()) return;
  auto fused = make_network(modulated_spec(), Backend::kCuda);
  auto two_pass = make_network(modulated_spec(), Backend::kCuda);
  as_cuda(*two_pass).set_fused_backward(false);
  for (Network* net : {fused.get(), two_pass.get()}) add_perturbed_contexts(*net, 5, 2);
  for (std::size_t rows : {1, 63, 64, 65, 700}) {
    const Matrix x = random_matrix(rows, 37, 70 + rows);
    const auto ids = random_contexts(rows, 5, 80 + rows);
    const auto labels = random_labels(rows, 10, 90 + rows);
    for (Network* net : {fused.get(), two_pass.get()}) {
      const auto& out = net->forward(x, ids);
      std::vector<Matrix> grads(out.size());
      softmax_cross_entropy(out[0], labels, &grads[0]);
      net->zero_grad();
      net->backward(grads);
    }
    for (const ParameterInfo& info : fused->parameters()) {
      if (info.kind != ParameterKind::kLayerGain && info.kind != ParameterKind::kLayerBias)
        continue;
      const auto a = fused->read_gradient(info.name, info.context);
      const auto b = two_pass->read_gradient(info.name, info.context);
      INFO(info.name << " context " << info.context << " rows " << rows);
      REQUIRE(relative_error(a, b) < 1e-5);
    }
  }
}
