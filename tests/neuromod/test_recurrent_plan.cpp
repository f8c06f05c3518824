// The CUDA backend's plan of a recurrent layer (neuromod/cuda/recurrent_plan.hpp), run on the CPU:
// every Product as a plain column-major product with cuBLAS's semantics, every step through the
// same element functions the kernels call (recurrent_steps.hpp), on host memory. Compared with the
// host backend's recurrent_forward / recurrent_backward (recurrent_layer.hpp, reference kernels)
// for every cell kind, with contexts, episode starts, an initial state, noise and a weight gain, so
// the plan's shapes, per-step pointer arithmetic, product arguments and cell arithmetic are
// checked without a GPU. What this cannot check: the kernels' thread mapping and the cuBLAS calls
// themselves (test_cuda.cpp's parity tests do, where a device is present).

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <variant>
#include <vector>

#include "neuromod/cuda/recurrent_plan.hpp"
#include "neuromod/kernels.hpp"
#include "neuromod/recurrent_layer.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;

namespace {

constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();

std::vector<float> random_vector(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  std::vector<float> v(n);
  RandomStream stream(seed, 7);
  for (float& x : v) x = static_cast<float>(scale * stream.normal());
  return v;
}

// cublasSgemm's definition, in double.
void run_product(const cuda::Product& p) {
  for (int i = 0; i < p.m; ++i) {
    for (int j = 0; j < p.n; ++j) {
      double sum = 0.0;
      for (int q = 0; q < p.k; ++q) {
        const float a =
            p.transpose_a ? p.a[q + std::size_t(i) * p.lda] : p.a[i + std::size_t(q) * p.lda];
        const float b =
            p.transpose_b ? p.b[j + std::size_t(q) * p.ldb] : p.b[q + std::size_t(j) * p.ldb];
        sum += double(a) * b;
      }
      float& c = p.c[i + std::size_t(j) * p.ldc];
      c = static_cast<float>(p.alpha * sum + (p.beta == 0.0f ? 0.0 : double(p.beta) * c));
    }
  }
}

// What cuda_recurrent.cpp does with the device, on the host.
void run_ops(const std::vector<cuda::RecurrentOp>& ops) {
  for (const cuda::RecurrentOp& op : ops) {
    if (const auto* p = std::get_if<cuda::Product>(&op)) {
      run_product(*p);
    } else if (const auto* s = std::get_if<cuda::StateEntry>(&op)) {
      for (std::size_t b = 0; b < s->batch; ++b)
        for (std::size_t j = 0; j < s->units; ++j) cuda::enter_state(*s, b, j);
    } else if (const auto* f = std::get_if<cuda::CellForwardStep>(&op)) {
      for (std::size_t b = 0; b < f->batch; ++b)
        for (std::size_t j = 0; j < f->units; ++j) cuda::cell_forward(*f, b, j);
    } else if (const auto* g = std::get_if<cuda::CellBackwardStep>(&op)) {
      for (std::size_t b = 0; b < g->batch; ++b)
        for (std::size_t j = 0; j < g->units; ++j) cuda::cell_backward(*g, b, j);
    }
  }
}

struct Case {
  const char* name;
  Recurrence recurrence;
  Activation activation = Activation::kTanh;
  float alpha = 1.0f;
  bool noise = false;
  bool gain = true, bias = true, learn_u = false;
};

void check_plan(const Case& k, std::size_t steps, std::size_t batch, std::size_t units) {
  INFO(k.name << ": steps " << steps << ", batch " << batch << ", units " << units);
  cuda::RecurrentShape shape;
  shape.recurrence = k.recurrence;
  shape.activation = k.activation;
  shape.alpha = k.alpha;
  shape.steps = steps;
  shape.batch = batch;
  shape.units = units;
  const std::size_t rows = shape.rows(), H = units, width = shape.width(), contexts = 3;
  const bool lstm = shape.lstm();

  // The layer's inputs, shared by both sides.
  const std::vector<float> input_sum = random_vector(rows * width, 1);
  const std::vector<float> u = random_vector(width * H, 2, 1.0 / std::sqrt(double(H)));
  const std::vector<float> gain = random_vector(contexts * width, 3, 0.3);
  const std::vector<float> bias = random_vector(contexts * width, 4, 0.2);
  std::vector<float> gain_shifted(gain);
  for (float& g : gain_shifted) g += 1.0f;
  const std::vector<float> noise = k.noise ? random_vector(rows * H, 5, 0.2) : std::vector<float>{};
  const std::vector<float> initial_hidden = random_vector(batch * H, 6, 0.5);
  const std::vector<float> initial_cell = random_vector(batch * H, 7, 0.5);
  const std::vector<float> d_hidden = random_vector(rows * H, 8);
  std::vector<std::int32_t> row_context(rows), starts(rows, 0);
  for (std::size_t r = 0; r < rows; ++r) row_context[r] = std::int32_t((r * 7 + r / batch) % 3);
  // Starts at step 0 of sequence 0, at a middle step of sequence 1, and at the last step of the
  // last sequence: each crossing of the mask.
  starts[0] = 1;
  if (batch > 1 && steps > 2) starts[2 * batch + 1] = 1;
  if (steps > 1) starts[rows - 1] = 1;
  std::vector<std::uint8_t> starts_u8(starts.begin(), starts.end());
  const float weight_gain = 0.9f;

  // The host backend.
  RecurrentLayerArgs args;
  args.recurrence = k.recurrence;
  args.activation = k.activation;
  args.alpha = k.alpha;
  args.steps = steps;
  args.batch = batch;
  args.units = H;
  args.recurrent_weight = u.data();
  args.weight_gain = weight_gain;
  args.gain = k.gain ? gain_shifted.data() : nullptr;
  args.bias = k.bias ? bias.data() : nullptr;
  args.row_context = row_context.data();
  args.starts = starts_u8.data();
  RecurrentTrace host;
  host.input_sum = input_sum;
  host.noise = noise;
  recurrent_forward(reference_kernels(), args, initial_hidden.data(),
                    lstm ? initial_cell.data() : nullptr, host);
  std::vector<float> host_dxz(rows * width), host_du(width * H, 0.0f);
  std::vector<float> host_dgain(contexts * width, 0.0f), host_dbias(contexts * width, 0.0f);
  RecurrentGradients host_gradients;
  host_gradients.input_sum = host_dxz.data();
  host_gradients.recurrent_weight = k.learn_u ? host_du.data() : nullptr;
  host_gradients.gain = k.gain ? host_dgain.data() : nullptr;
  host_gradients.bias = k.bias ? host_dbias.data() : nullptr;
  host_gradients.contexts = contexts;
  recurrent_backward(reference_kernels(), args, host, d_hidden.data(), host_gradients);

  // The plan, on poisoned buffers of the sizes it asks for.
  const cuda::RecurrentBufferSizes sizes =
      cuda::recurrent_buffer_sizes(shape, k.noise, k.gain, k.bias);
  REQUIRE(sizes.noise == (k.noise ? rows * H : 0));
  std::vector<float> recurrent_sum(sizes.recurrent_sum, kPoison), gates(sizes.gates, kPoison);
  std::vector<float> previous(sizes.previous, kPoison), hidden(sizes.hidden, kPoison);
  std::vector<float> previous_cell(sizes.cell, kPoison), cell(sizes.cell, kPoison);
  cuda::RecurrentInputs in;
  in.recurrent_weight = u.data();
  in.weight_gain = weight_gain;
  in.gain = args.gain;
  in.bias = args.bias;
  in.row_context = row_context.data();
  in.starts = starts.data();
  in.initial_hidden = initial_hidden.data();
  in.initial_cell = initial_cell.data();
  in.noise = k.noise ? noise.data() : nullptr;
  cuda::RecurrentTraceBuffers trace;
  trace.input_sum = input_sum.data();
  trace.recurrent_sum = recurrent_sum.data();
  trace.gates = gates.data();
  trace.previous = previous.data();
  trace.previous_cell = lstm ? previous_cell.data() : nullptr;
  trace.cell = lstm ? cell.data() : nullptr;
  trace.hidden = hidden.data();
  run_ops(cuda::plan_recurrent_forward(shape, in, trace));
  CHECK(relative_error(recurrent_sum, host.recurrent_sum) < 1e-6);
  CHECK(relative_error(gates, host.gates) < 1e-6);
  CHECK(relative_error(previous, host.previous) < 1e-6);
  CHECK(relative_error(hidden, host.hidden) < 1e-6);
  if (lstm) {
    CHECK(relative_error(previous_cell, host.previous_cell) < 1e-6);
    CHECK(relative_error(cell, host.cell) < 1e-6);
  }

  std::vector<float> dxz(rows * width, kPoison), dhz(sizes.d_recurrent_sum, kPoison);
  std::vector<float> gate_grad(sizes.gate_grad, kPoison), gain_terms(sizes.gain_terms, kPoison);
  std::vector<float> carry(sizes.carry, kPoison), carry_cell(sizes.carry_cell, kPoison);
  std::vector<float> du(width * H, 0.0f);
  cuda::RecurrentGradientBuffers grads;
  grads.d_hidden = d_hidden.data();
  grads.d_input_sum = dxz.data();
  grads.d_recurrent_sum = dhz.data();
  grads.gate_grad = k.bias ? gate_grad.data() : nullptr;
  grads.gain_terms = k.gain ? gain_terms.data() : nullptr;
  grads.carry = carry.data();
  grads.carry_cell = lstm ? carry_cell.data() : nullptr;
  grads.d_recurrent_weight = k.learn_u ? du.data() : nullptr;
  run_ops(cuda::plan_recurrent_backward(shape, in, trace, grads));
  CHECK(relative_error(dxz, host_dxz) < 1e-5);
  if (k.learn_u) CHECK(relative_error(du, host_du) < 1e-5);
  // The network sums the terms per context (reduce_rows); here in plain loops.
  auto per_context = [&](const std::vector<float>& terms) {
    std::vector<float> sums(contexts * width, 0.0f);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < width; ++j) {
        sums[std::size_t(row_context[r]) * width + j] += terms[r * width + j];
      }
    }
    return sums;
  };
  if (k.gain) CHECK(relative_error(per_context(gain_terms), host_dgain) < 1e-5);
  if (k.bias) CHECK(relative_error(per_context(gate_grad), host_dbias) < 1e-5);
  // The gradients are not trivially zero (the comparison would pass on zeros).
  double norm = 0.0;
  for (float v : dxz) norm += double(v) * v;
  CHECK(norm > 1e-3);
}

}  // namespace

TEST_CASE("the CUDA recurrent plan, run on the CPU, matches the host backend for every cell kind",
          "[neuromod][recurrent][cuda_plan]") {
  const Case cases[] = {
      {"elman tanh", Recurrence::kElman},
      {"elman tanh leaky noisy, U learns", Recurrence::kElman, Activation::kTanh, 0.3f, true, true,
       true, true},
      {"elman relu", Recurrence::kElman, Activation::kRelu, 0.5f},
      {"elman softplus noisy", Recurrence::kElman, Activation::kSoftplus, 1.0f, true},
      {"gru", Recurrence::kGru},
      {"gru trainable (bias, no gain)", Recurrence::kGru, Activation::kTanh, 1.0f, false, false,
       true, true},
      {"lstm", Recurrence::kLstm},
      {"lstm trainable (no gain, no bias)", Recurrence::kLstm, Activation::kTanh, 1.0f, false,
       false, false, true},
  };
  for (const Case& k : cases) {
    check_plan(k, 6, 3, 5);
    check_plan(k, 1, 2, 4);  // one step: no carry, no next step
    check_plan(k, 4, 1, 3);  // one sequence
  }
}

TEST_CASE("the CUDA recurrent plan's products have cuBLAS's row-major-as-transpose arguments",
          "[neuromod][recurrent][cuda_plan]") {
  // z (2, 3) = x (2, 4) W^T with W (3, 4), against the row-major definition.
  const std::vector<float> x = random_vector(8, 11), w = random_vector(12, 12);
  std::vector<float> z(6, kPoison);
  run_product(cuda::product_forward(x.data(), 2, 4, w.data(), 3, 2.0f, 0.0f, z.data()));
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t o = 0; o < 3; ++o) {
      double sum = 0.0;
      for (std::size_t i = 0; i < 4; ++i) sum += double(x[r * 4 + i]) * w[o * 4 + i];
      CHECK(z[r * 3 + o] == Approx(2.0 * sum).epsilon(1e-6));
    }
  }
  // dx (2, 4) = 1 + dz (2, 3) W, accumulated; dW (3, 4) = 1 + dz^T x.
  std::vector<float> dx(8, 1.0f), dw(12, 1.0f);
  run_product(cuda::product_backward_input(z.data(), 2, 3, w.data(), 4, 1.0f, 1.0f, dx.data()));
  run_product(cuda::product_backward_weight(z.data(), 2, 3, x.data(), 4, 1.0f, dw.data()));
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t i = 0; i < 4; ++i) {
      double sum = 0.0;
      for (std::size_t o = 0; o < 3; ++o) sum += double(z[r * 3 + o]) * w[o * 4 + i];
      CHECK(dx[r * 4 + i] == Approx(1.0 + sum).epsilon(1e-6));
    }
  }
  for (std::size_t o = 0; o < 3; ++o) {
    for (std::size_t i = 0; i < 4; ++i) {
      double sum = 0.0;
      for (std::size_t r = 0; r < 2; ++r) sum += double(z[r * 3 + o]) * x[r * 4 + i];
      CHECK(dw[o * 4 + i] == Approx(1.0 + sum).epsilon(1e-6));
    }
  }
}

TEST_CASE("the CUDA recurrent plan finds each layer's tensors in a RecurrentState",
          "[neuromod][recurrent][cuda_plan]") {
  NetworkSpec spec;
  spec.input_dim = 3;
  for (Recurrence r : {Recurrence::kLstm, Recurrence::kNone, Recurrence::kGru, Recurrence::kElman,
                       Recurrence::kLstm}) {
    LayerSpec l = layer(4);
    l.recurrence = r;
    spec.layers.push_back(l);
  }
  CHECK(cuda::recurrent_state_index(spec, 0) == 0);
  CHECK(cuda::recurrent_state_index(spec, 2) == 2);  // after the LSTM's hidden and cell
  CHECK(cuda::recurrent_state_index(spec, 3) == 3);
  CHECK(cuda::recurrent_state_index(spec, 4) == 4);
}

TEST_CASE("the CUDA backend's recurrent noise is the host network's, draw for draw",
          "[neuromod][recurrent][cuda_plan]") {
  // Two noisy Elman layers whose gains are 0: each pre-activation is its noise alone, so the
  // output, read through an identity readout, is tanh(noise of the second layer).
  NetworkSpec spec;
  spec.name = "noise";
  spec.input_dim = 3;
  spec.seed = 21;
  for (int i = 0; i < 2; ++i) {
    LayerSpec l = layer(4);
    l.recurrence = Recurrence::kElman;
    l.activation = Activation::kTanh;
    l.recurrent_noise = 0.4f;
    spec.layers.push_back(l);
  }
  spec.heads = {head("out", 4, ReadoutWeights::kTrainableShared, BiasKind::kNone, false)};
  auto net = make_network(spec, Backend::kReference);
  const std::vector<float> zeros(4, 0.0f);
  net->write_parameter("layer0.gain", 0, zeros);
  net->write_parameter("layer1.gain", 0, zeros);
  std::vector<float> identity(16, 0.0f);
  for (std::size_t i = 0; i < 4; ++i) identity[i * 5] = 1.0f;
  net->write_parameter("head.out.weight", kSharedContext, identity);
  const std::size_t steps = 130, batch = 3, rows = steps * batch;  // 390 rows: two noise streams
  const Matrix x = random_matrix(rows, 3, 5);
  // Each forward pass draws once per noisy layer, in layer order: layer 1 gets draws 1 and 3.
  for (std::uint64_t draw : {1, 3}) {
    INFO("draw " << draw);
    const Matrix& out = net->forward_sequence(x, batch)[0];
    std::vector<float> expected(rows * 4);
    draw_recurrent_noise(spec.seed, 1, draw, rows, 4, 0.4f, expected.data());
    std::vector<float> seen(out.begin(), out.end());
    for (float& v : seen) v = std::atanh(v);
    CHECK(relative_error(seen, expected) < 1e-5);
  }
}
