// MatmulPrecision::kBfloat16: the rounding, the packed operand layout, the AVX512-BF16 product
// against the reference (same rounding, double sums) at many shapes, and networks that use it.
//
// Tolerance of the product: the bfloat16 operands multiply exactly in float32 (8-bit significands),
// so the CPU result differs from the reference only by float32 summation: gamma_K * sum |a_k b_k|
// per element (Higham 3.1), as in test_kernels.cpp. The tests of the CPU kernel skip, with a
// warning, on a CPU without AVX512-BF16; the reference tests always run.

#include <tbb/task_arena.h>

#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "neuromod/bf16_tiles.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/kernels.hpp"
#include "neuromod/losses.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using Catch::Matchers::Contains;
using locus::neuromod::testing::add_perturbed_contexts;
using locus::neuromod::testing::random_contexts;
using locus::neuromod::testing::random_labels;
using locus::neuromod::testing::random_matrix;

namespace {

bool skip_without_bf16() {
  if (cpu_supports_bf16_products()) return false;
  WARN("this CPU has no AVX512-BF16: the CPU backend's bfloat16 products are not tested here");
  return true;
}

bool identical(const Matrix& a, const Matrix& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

double max_abs(const Matrix& m) {
  double v = 0.0;
  for (float x : m) v = std::max(v, double(std::fabs(x)));
  return v;
}

double max_abs_difference(const Matrix& a, const Matrix& b) {
  REQUIRE(a.size() == b.size());
  double v = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    v = std::max(v, std::fabs(double(a.data()[i]) - double(b.data()[i])));
  }
  return v;
}

// B (depth, cols) as the network stores it for each product: forward reads W (cols, depth)
// row-major, backward reads W (depth, cols).
Bf16Panels pack(const Matrix& w, bool forward_layout) {
  const std::size_t rows = w.shape()[0], cols = w.shape()[1];
  return forward_layout ? pack_bf16_panels(w.data(), cols, rows, cols, 1)
                        : pack_bf16_panels(w.data(), rows, cols, 1, cols);
}

}  // namespace

TEST_CASE("bfloat16 rounding is to nearest, ties to even", "[neuromod][bf16]") {
  REQUIRE(round_to_bf16(1.0f) == 1.0f);
  REQUIRE(round_to_bf16(-2.5f) == -2.5f);
  const float ulp = std::ldexp(1.0f, -7);                        // bfloat16 keeps 7 fraction bits
  REQUIRE(round_to_bf16(1.0f + ulp / 2) == 1.0f);                // tie: down to the even 1.0
  REQUIRE(round_to_bf16(1.0f + 3 * ulp / 2) == 1.0f + 2 * ulp);  // tie: up to the even one
  REQUIRE(round_to_bf16(1.0f + ulp * 0.51f) == 1.0f + ulp);
  REQUIRE(round_to_bf16(0.1f) != 0.1f);
  REQUIRE(std::fabs(round_to_bf16(0.1f) - 0.1f) <= 0.1f * std::ldexp(1.0f, -8));
  REQUIRE(std::isnan(round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
  REQUIRE(std::isinf(round_to_bf16(std::numeric_limits<float>::infinity())));
  // Denormals count as zero, as in the hardware conversion.
  REQUIRE(round_to_bf16(std::numeric_limits<float>::denorm_min()) == 0.0f);
}

TEST_CASE("packed panels hold every element, rounded", "[neuromod][bf16]") {
  for (auto [rows, cols] :
       {std::pair<std::size_t, std::size_t>{1, 1}, {7, 33}, {16, 16}, {5, 49}}) {
    const Matrix w = random_matrix(rows, cols, rows * 100 + cols);
    for (bool forward : {true, false}) {
      const Bf16Panels b = pack(w, forward);
      REQUIRE(b.depth == (forward ? cols : rows));
      REQUIRE(b.cols == (forward ? rows : cols));
      REQUIRE(b.pairs == (b.depth + 1) / 2);
      REQUIRE(b.panels == (b.cols + 15) / 16);
      for (std::size_t r = 0; r < b.depth; ++r) {
        for (std::size_t n = 0; n < b.cols; ++n) {
          const float source = forward ? w(n, r) : w(r, n);
          REQUIRE(b.at(r, n) == round_to_bf16(source));
        }
      }
    }
  }
}

TEST_CASE("the bfloat16 product matches the reference at many shapes", "[neuromod][bf16]") {
  if (skip_without_bf16()) return;
  const Kernels& cpu = cpu_kernels();
  const Kernels& ref = reference_kernels();
  std::uint64_t seed = 1;
  // Rows around the 8-row tile and 64-row task; depths odd and even, around the 32-float conversion
  // step; columns around the 16-column panel and 48-column tile.
  std::size_t combination = 0;
  for (std::size_t rows : {1, 2, 3, 4, 5, 6, 7, 8, 9, 64, 65, 130}) {
    for (std::size_t depth : {1, 2, 3, 31, 33, 64, 401}) {
      for (std::size_t cols : {1, 10, 16, 17, 48, 49, 100}) {
        const bool forward = (rows + depth + cols) % 2 == 0;
        const Matrix w =
            forward ? random_matrix(cols, depth, seed++) : random_matrix(depth, cols, seed++);
        const Matrix a = random_matrix(rows, depth, seed++);
        const Bf16Panels b = pack(w, forward);
        Matrix w_abs = w, a_abs = a;
        for (auto& v : w_abs) v = std::fabs(v);
        for (auto& v : a_abs) v = std::fabs(v);
        const Bf16Panels b_abs = pack(w_abs, forward);
        const bool accumulate = combination++ % 2 == 0;
        const Matrix start = random_matrix(rows, cols, seed++);
        Matrix fast = start, exact = start, bound({rows, cols});
        cpu.bf16_product(a.data(), rows, b, 1.3f, fast.data(), accumulate);
        ref.bf16_product(a.data(), rows, b, 1.3f, exact.data(), accumulate);
        ref.bf16_product(a_abs.data(), rows, b_abs, 1.3f, bound.data(), false);
        const double u = std::ldexp(1.0, -24), terms = double(depth + 3);
        const double gamma = terms * u / (1.0 - terms * u);
        for (std::size_t e = 0; e < fast.size(); ++e) {
          const double allowed =
              gamma * (bound.data()[e] + (accumulate ? std::fabs(start.data()[e]) : 0)) +
              4e-7 * std::fabs(exact.data()[e]) + 1e-30;
          if (std::fabs(double(fast.data()[e]) - exact.data()[e]) > allowed) {
            FAIL("rows " << rows << " depth " << depth << " cols " << cols << " element " << e
                         << ": fast " << fast.data()[e] << " reference " << exact.data()[e]);
          }
        }
      }
    }
  }
}

TEST_CASE("the vector conversion rounds as round_to_bf16, special values included",
          "[neuromod][bf16]") {
  if (skip_without_bf16()) return;
  const float ulp = std::ldexp(1.0f, -7);
  const std::vector<float> specials = {1.0f + ulp / 2,
                                       1.0f + 3 * ulp / 2,
                                       -1.0f - ulp / 2,
                                       std::numeric_limits<float>::denorm_min(),
                                       -std::numeric_limits<float>::denorm_min(),
                                       std::numeric_limits<float>::min(),
                                       std::numeric_limits<float>::max(),
                                       -std::numeric_limits<float>::max(),
                                       std::numeric_limits<float>::infinity(),
                                       -std::numeric_limits<float>::infinity(),
                                       std::numeric_limits<float>::quiet_NaN(),
                                       std::numeric_limits<float>::signaling_NaN(),
                                       0.0f,
                                       -0.0f,
                                       0.1f,
                                       -3.3f};
  // 37 entries: the first 32 go through the vector path, the rest through the scalar tail (and the
  // last pair is padded); the specials sit in both.
  std::vector<float> row(37);
  for (std::size_t i = 0; i < row.size(); ++i) row[i] = specials[(i * 7) % specials.size()];
  std::vector<std::uint32_t> pairs(19);
  locus::neuromod::bf16::convert_rows(row.data(), 1, row.size(), pairs.data());
  auto bits = [](float v) { return std::bit_cast<std::uint32_t>(v); };
  for (std::size_t i = 0; i < row.size(); ++i) {
    const std::uint32_t half = (pairs[i / 2] >> (16 * (i % 2))) & 0xffffu;
    const float expected = round_to_bf16(row[i]);
    INFO("entry " << i << " value " << row[i]);
    if (std::isnan(expected)) {
      REQUIRE(std::isnan(std::bit_cast<float>(half << 16)));
    } else {
      REQUIRE((half << 16) == bits(expected));
    }
  }
  REQUIRE((pairs[18] >> 16) == 0);  // the padding of the odd last pair
}

TEST_CASE("the bfloat16 product is bit-identical for any number of threads", "[neuromod][bf16]") {
  if (skip_without_bf16()) return;
  const Matrix w = random_matrix(400, 784, 5), a = random_matrix(300, 784, 6);
  const Bf16Panels b = pack(w, true);
  auto run = [&](int threads) {
    Matrix c({300, 400});
    tbb::task_arena(threads).execute(
        [&] { cpu_kernels().bf16_product(a.data(), 300, b, 0.7f, c.data(), false); });
    return c;
  };
  const Matrix one = run(1);
  REQUIRE(identical(run(2), one));
  REQUIRE(identical(run(3), one));
}

TEST_CASE("a network in bfloat16 precision", "[neuromod][bf16][network]") {
  const NetworkSpec spec = modulated_mlp(67, {96, 40}, 10, 7);
  const Matrix x = random_matrix(70, 67, 1);
  const auto contexts = random_contexts(70, 3, 1);
  const auto labels = random_labels(70, 10, 1);

  SECTION("the names and the refusals") {
    REQUIRE(matmul_precision_from_string("bfloat16") == MatmulPrecision::kBfloat16);
    REQUIRE(to_string(MatmulPrecision::kTf32) == "tf32");
    REQUIRE_THROWS_WITH(matmul_precision_from_string("fp16"),
                        Contains("fp16") && Contains("float32, bfloat16, tf32"));
    auto net = make_network(spec, Backend::kReference);
    REQUIRE(net->matmul_precision() == MatmulPrecision::kFloat32);
    REQUIRE_THROWS_AS(net->set_matmul_precision(MatmulPrecision::kTf32), InvalidArgumentError);
    REQUIRE_THROWS_WITH(net->set_matmul_precision(MatmulPrecision::kTf32), Contains("CUDA"));
    REQUIRE(net->matmul_precision() == MatmulPrecision::kFloat32);
  }

  SECTION("the CPU backend follows the reference in bfloat16, and bfloat16 differs from float32") {
    if (skip_without_bf16()) return;
    auto fast = make_network(spec, Backend::kCpu);
    auto exact = make_network(spec, Backend::kReference);
    auto float32 = make_network(spec, Backend::kCpu);
    for (Network* net : {fast.get(), exact.get(), float32.get()}) {
      add_perturbed_contexts(*net, 3, 4);
      if (net != float32.get()) net->set_matmul_precision(MatmulPrecision::kBfloat16);
      net->set_gradient_mode(GradientMode::kContextOnly);
    }
    std::vector<Matrix> outputs;
    std::vector<std::vector<float>> gain_gradients;
    for (Network* net : {fast.get(), exact.get(), float32.get()}) {
      net->zero_grad();
      outputs.push_back(net->forward(x, contexts)[0]);
      Matrix grad;
      softmax_cross_entropy(outputs.back(), labels, &grad);
      net->backward(grad);
      gain_gradients.push_back(net->read_gradient("layer0.gain", 1));
    }
    const double scale = max_abs(outputs[1]);
    // float32 against double sums: the activations may round to neighbouring bfloat16 values.
    REQUIRE(max_abs_difference(outputs[0], outputs[1]) <= 1e-4 * scale);
    const double bf16_error = max_abs_difference(outputs[2], outputs[1]);
    REQUIRE(bf16_error > 1e-5 * scale);  // the precision really changed the arithmetic ...
    REQUIRE(bf16_error < 3e-2 * scale);  // ... by bfloat16's rounding, not by more
    double gradient_scale = 0.0, gradient_difference = 0.0;
    for (std::size_t i = 0; i < gain_gradients[1].size(); ++i) {
      gradient_scale = std::max(gradient_scale, double(std::fabs(gain_gradients[1][i])));
      gradient_difference = std::max(
          gradient_difference, double(std::fabs(gain_gradients[0][i] - gain_gradients[1][i])));
    }
    REQUIRE(gradient_scale > 0.0);
    REQUIRE(gradient_difference <= 1e-3 * gradient_scale);

    // Back to float32: the same bits as a network that never left it.
    fast->set_matmul_precision(MatmulPrecision::kFloat32);
    REQUIRE(identical(fast->forward(x, contexts)[0], float32->forward(x, contexts)[0]));
  }

  SECTION("trainable weights stay float32") {
    if (skip_without_bf16()) return;
    const NetworkSpec baseline = baseline_mlp(67, {96, 40}, 10, 7);
    auto bf16 = make_network(baseline);
    auto float32 = make_network(baseline);
    bf16->set_matmul_precision(MatmulPrecision::kBfloat16);
    REQUIRE(identical(bf16->forward(x)[0], float32->forward(x)[0]));
  }

  SECTION(
      "training in bfloat16: zero interference, thread invariance, and it learns like float32") {
    if (skip_without_bf16()) return;
    auto train = [&](MatmulPrecision precision, int threads) {
      auto net = make_network(spec);
      net->set_matmul_precision(precision);
      net->set_gradient_mode(GradientMode::kContextOnly);
      OptimizerConfig adam;
      adam.kind = OptimizerKind::kAdam;
      adam.learning_rate = 0.05f;
      net->set_optimizer(adam);
      net->add_context();
      const Matrix before = net->forward(x, std::vector<ContextId>(70, 0))[0];
      std::vector<double> losses;
      tbb::task_arena(threads).execute([&] {
        for (int step = 0; step < 60; ++step) {
          net->zero_grad();
          Matrix grad;
          losses.push_back(softmax_cross_entropy(net->forward(x, std::vector<ContextId>(70, 1))[0],
                                                 labels, &grad));
          net->backward(grad);
          net->step();
        }
      });
      // Training context 1 left context 0 bit-identical.
      REQUIRE(identical(net->forward(x, std::vector<ContextId>(70, 0))[0], before));
      return std::make_pair(losses, net->read_parameter("layer1.gain", 1));
    };
    const auto [bf16_losses, bf16_gains] = train(MatmulPrecision::kBfloat16, 1);
    const auto [float32_losses, float32_gains] = train(MatmulPrecision::kFloat32, 1);
    REQUIRE(float32_losses.back() < 0.8 * float32_losses.front());
    REQUIRE(bf16_losses.back() < 0.8 * bf16_losses.front());
    REQUIRE(bf16_losses.back() < 1.05 * float32_losses.back() + 0.02);
    REQUIRE(train(MatmulPrecision::kBfloat16, 2).second == bf16_gains);
  }
}
