// The CPU kernels against the reference kernels (plain loops, double accumulation) at many shapes,
// odd sizes and block edges included (the CPU kernels split work into blocks of 16, 64, 128 and
// 512).
//
// Tolerance: a K-term float dot product may differ from the exact value by gamma_K * sum |x_i w_i|
// with gamma_K = K u / (1 - K u), u = 2^-24 (Higham, Accuracy and Stability of Numerical
// Algorithms, 3.1); the tests allow exactly that bound per element, computed from the same
// operands.

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "neuromod/kernels.hpp"
#include "neuromod/losses.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using locus::neuromod::testing::random_contexts;
using locus::neuromod::testing::random_matrix;

namespace {

double gamma_bound(std::size_t terms) {
  const double u = std::ldexp(1.0, -24);
  return double(terms) * u / (1.0 - double(terms) * u);
}

Matrix absolute(const Matrix& m) {
  Matrix a = m;
  for (auto& v : a) v = std::fabs(v);
  return a;
}

// Each element of `fast` within gamma_K * bound[e] (+ a few ulps of the value) of `reference`.
void require_within_bound(const Matrix& fast, const Matrix& reference, const Matrix& bound,
                          std::size_t terms, const std::string& what) {
  REQUIRE(fast.size() == reference.size());
  const double gamma = gamma_bound(terms + 2);  // + the scale multiply and the final rounding
  for (std::size_t e = 0; e < fast.size(); ++e) {
    const double allowed = gamma * bound.data()[e] + 4e-7 * std::fabs(reference.data()[e]) + 1e-30;
    if (std::fabs(double(fast.data()[e]) - reference.data()[e]) > allowed) {
      FAIL(what << ": element " << e << " fast " << fast.data()[e] << " reference "
                << reference.data()[e] << " allowed " << allowed);
    }
  }
}

struct DenseShape {
  std::size_t in, out;
};

}  // namespace

TEST_CASE("dense kernels match the reference at many shapes", "[neuromod][kernels]") {
  const Kernels& cpu = cpu_kernels();
  const Kernels& ref = reference_kernels();
  const std::vector<std::size_t> row_counts = {1, 3, 17, 64, 65, 130, 700, 1100};
  const std::vector<DenseShape> shapes = {{1, 1},     {5, 7},     {33, 10},
                                          {784, 400}, {100, 513}, {7, 1030}};
  std::uint64_t seed = 1;
  for (std::size_t rows : row_counts) {
    for (const DenseShape& s : shapes) {
      if (rows >= 512 && s.in * s.out > 60000) continue;  // large batches: 256/512-row blocks
      const float scale = 1.3f;
      const Matrix x = random_matrix(rows, s.in, seed++);
      const Matrix w = random_matrix(s.out, s.in, seed++);
      const Matrix dz = random_matrix(rows, s.out, seed++);
      const std::string where = "rows " + std::to_string(rows) + " in " + std::to_string(s.in) +
                                " out " + std::to_string(s.out);
      Matrix z_fast({rows, s.out}), z_ref({rows, s.out}), z_abs({rows, s.out});
      cpu.dense_forward(x.data(), rows, s.in, w.data(), s.out, scale, z_fast.data());
      ref.dense_forward(x.data(), rows, s.in, w.data(), s.out, scale, z_ref.data());
      ref.dense_forward(absolute(x).data(), rows, s.in, absolute(w).data(), s.out, scale,
                        z_abs.data());
      require_within_bound(z_fast, z_ref, z_abs, s.in, "dense_forward " + where);

      // backward input, accumulating onto a non-zero buffer
      const Matrix start = random_matrix(rows, s.in, seed++);
      Matrix dx_fast = start, dx_ref = start, dx_abs({rows, s.in});
      cpu.dense_backward_input(dz.data(), rows, s.out, w.data(), s.in, scale, dx_fast.data(), true);
      ref.dense_backward_input(dz.data(), rows, s.out, w.data(), s.in, scale, dx_ref.data(), true);
      ref.dense_backward_input(absolute(dz).data(), rows, s.out, absolute(w).data(), s.in, scale,
                               dx_abs.data(), false);
      dx_abs += absolute(start);
      require_within_bound(dx_fast, dx_ref, dx_abs, s.out + 1, "dense_backward_input " + where);

      Matrix dw_fast = random_matrix(s.out, s.in, seed++), dw_ref = dw_fast,
             dw_abs = absolute(dw_fast);
      cpu.dense_backward_weight(dz.data(), rows, s.out, x.data(), s.in, scale, dw_fast.data());
      ref.dense_backward_weight(dz.data(), rows, s.out, x.data(), s.in, scale, dw_ref.data());
      ref.dense_backward_weight(absolute(dz).data(), rows, s.out, absolute(x).data(), s.in, scale,
                                dw_abs.data());
      require_within_bound(dw_fast, dw_ref, dw_abs, rows + 1, "dense_backward_weight " + where);
    }
  }
}

TEST_CASE("the sparse forward gives each row's in-order float sum, bit for bit",
          "[neuromod][kernels]") {
  // The CPU kernel sums a block of rows in one vector; each row must still get exactly the sum of
  // its k products added in order, as a plain loop computes it (no reordering, no fused
  // multiply-add), so results do not depend on the block or the instruction set.
  const std::size_t in = 784, out = 300, k = 7;
  RandomStream stream(7);
  std::vector<std::int32_t> index(out * k);
  for (auto& i : index) i = static_cast<std::int32_t>(stream.uniform_index(in));
  const Matrix values = random_matrix(out, k, 8);
  for (const std::size_t rows : {1, 15, 16, 17, 33}) {
    const Matrix x = random_matrix(rows, in, 9 + rows);
    Matrix z({rows, out});
    cpu_kernels().sparse_forward(x.data(), rows, in, index.data(), values.data(), out, k, 0.7f,
                                 z.data());
    std::size_t differing = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < out; ++j) {
        volatile float sum = 0.0f;  // one rounding per product and per addition, in order
        for (std::size_t t = 0; t < k; ++t) {
          const volatile float product =
              x.data()[r * in + std::size_t(index[j * k + t])] * values.data()[j * k + t];
          sum = sum + product;
        }
        differing += z.data()[r * out + j] == 0.7f * sum ? 0 : 1;
      }
    }
    CAPTURE(rows);
    CHECK(differing == 0);
  }
}

TEST_CASE("sparse kernels match the reference at many shapes", "[neuromod][kernels]") {
  const Kernels& cpu = cpu_kernels();
  const Kernels& ref = reference_kernels();
  struct SparseShape {
    std::size_t in, out, k;
  };
  std::uint64_t seed = 100;
  for (std::size_t rows : {1, 15, 16, 17, 40}) {
    for (SparseShape s :
         {SparseShape{5, 7, 1}, {33, 100, 5}, {784, 1000, 7}, {10, 3, 10}, {9, 129, 2}}) {
      RandomStream stream(seed++);
      std::vector<std::int32_t> index(s.out * s.k);
      for (auto& i : index) i = static_cast<std::int32_t>(stream.uniform_index(s.in));
      const Matrix values = random_matrix(s.out, s.k, seed++);
      const Matrix x = random_matrix(rows, s.in, seed++);
      const Matrix dz = random_matrix(rows, s.out, seed++);
      const std::string where = "rows " + std::to_string(rows) + " in " + std::to_string(s.in) +
                                " out " + std::to_string(s.out) + " k " + std::to_string(s.k);
      Matrix z_fast({rows, s.out}), z_ref({rows, s.out}), z_abs({rows, s.out});
      cpu.sparse_forward(x.data(), rows, s.in, index.data(), values.data(), s.out, s.k, 0.7f,
                         z_fast.data());
      ref.sparse_forward(x.data(), rows, s.in, index.data(), values.data(), s.out, s.k, 0.7f,
                         z_ref.data());
      ref.sparse_forward(absolute(x).data(), rows, s.in, index.data(), absolute(values).data(),
                         s.out, s.k, 0.7f, z_abs.data());
      require_within_bound(z_fast, z_ref, z_abs, s.k, "sparse_forward " + where);

      Matrix dx_fast({rows, s.in}), dx_ref({rows, s.in}), dx_abs({rows, s.in});
      cpu.sparse_backward_input(dz.data(), rows, s.out, index.data(), values.data(), s.k, s.in,
                                0.7f, dx_fast.data(), false);
      ref.sparse_backward_input(dz.data(), rows, s.out, index.data(), values.data(), s.k, s.in,
                                0.7f, dx_ref.data(), false);
      ref.sparse_backward_input(absolute(dz).data(), rows, s.out, index.data(),
                                absolute(values).data(), s.k, s.in, 0.7f, dx_abs.data(), false);
      require_within_bound(dx_fast, dx_ref, dx_abs, s.out * s.k, "sparse_backward_input " + where);

      Matrix dv_fast({s.out, s.k}), dv_ref({s.out, s.k}), dv_abs({s.out, s.k});
      dv_fast.fill(0.5f);
      dv_ref.fill(0.5f);
      dv_abs.fill(0.5f);
      cpu.sparse_backward_weight(dz.data(), rows, s.out, index.data(), s.k, x.data(), s.in, 0.7f,
                                 dv_fast.data());
      ref.sparse_backward_weight(dz.data(), rows, s.out, index.data(), s.k, x.data(), s.in, 0.7f,
                                 dv_ref.data());
      ref.sparse_backward_weight(absolute(dz).data(), rows, s.out, index.data(), s.k,
                                 absolute(x).data(), s.in, 0.7f, dv_abs.data());
      require_within_bound(dv_fast, dv_ref, dv_abs, rows + 1, "sparse_backward_weight " + where);
    }
  }
}

TEST_CASE("modulation kernels match the reference for every option", "[neuromod][kernels]") {
  const Kernels& cpu = cpu_kernels();
  const Kernels& ref = reference_kernels();
  const std::size_t contexts = 3;
  std::uint64_t seed = 500;
  for (std::size_t rows : {1, 5, 16, 17, 33}) {
    for (std::size_t units : {2, 3, 17, 128, 129, 300}) {
      for (auto site : {ModulationSite::kPreActivation, ModulationSite::kPostActivation}) {
        for (auto act : {Activation::kIdentity, Activation::kRelu, Activation::kTanh}) {
          for (int options = 0; options < 8; ++options) {
            const bool center = options & 1, use_gain = options & 2, use_bias = options & 4;
            const Matrix z = random_matrix(rows, units, seed++);
            const Matrix gain = random_matrix(contexts, units, seed++);
            const Matrix bias = random_matrix(contexts, units, seed++);
            const Matrix dh = random_matrix(rows, units, seed++);
            const auto ids = random_contexts(rows, contexts, seed++);
            ModulationArgs args;
            args.rows = rows;
            args.units = units;
            args.row_context = ids.data();
            args.gain = use_gain ? gain.data() : nullptr;
            args.bias = use_bias ? bias.data() : nullptr;
            args.center = center;
            args.activation = act;
            args.site = site;
            INFO("rows " << rows << " units " << units << " site " << to_string(site) << " act "
                         << to_string(act) << " center " << center << " gain " << use_gain
                         << " bias " << use_bias);
            Matrix saved_fast({rows, units}), h_fast({rows, units});
            Matrix saved_ref({rows, units}), h_ref({rows, units});
            cpu.modulate_forward(args, z.data(), saved_fast.data(), h_fast.data());
            ref.modulate_forward(args, z.data(), saved_ref.data(), h_ref.data());
            // Element-wise after a mean over `units` terms: a few float roundings of values of size
            // |z| + |mean| (and tanh's own error).
            for (std::size_t e = 0; e < h_fast.size(); ++e) {
              REQUIRE(std::fabs(h_fast.data()[e] - h_ref.data()[e]) <=
                      4e-6 * (1.0 + std::fabs(h_ref.data()[e])) *
                          (1.0 + std::fabs(gain.data()[0])));
              REQUIRE(std::fabs(saved_fast.data()[e] - saved_ref.data()[e]) <=
                      4e-6 * (1.0 + std::fabs(saved_ref.data()[e])));
            }
            Matrix dz_fast({rows, units}), dz_ref({rows, units});
            Matrix dg_fast({contexts, units}), dg_ref({contexts, units});
            Matrix db_fast({contexts, units}), db_ref({contexts, units});
            dg_fast.fill(0.25f), dg_ref.fill(0.25f), db_fast.fill(-0.5f), db_ref.fill(-0.5f);
            // Both backward passes read the reference forward's cache, so only backward differs.
            cpu.modulate_backward(args, saved_ref.data(), h_ref.data(), dh.data(), dz_fast.data(),
                                  use_gain ? dg_fast.data() : nullptr,
                                  use_bias ? db_fast.data() : nullptr);
            ref.modulate_backward(args, saved_ref.data(), h_ref.data(), dh.data(), dz_ref.data(),
                                  use_gain ? dg_ref.data() : nullptr,
                                  use_bias ? db_ref.data() : nullptr);
            for (std::size_t e = 0; e < dz_fast.size(); ++e) {
              REQUIRE(std::fabs(dz_fast.data()[e] - dz_ref.data()[e]) <=
                      1e-5 * (1.0 + std::fabs(dz_ref.data()[e])) * 4);
            }
            // Sums over up to 33 rows of products of unit-size values.
            for (std::size_t e = 0; e < dg_fast.size(); ++e) {
              REQUIRE(std::fabs(dg_fast.data()[e] - dg_ref.data()[e]) <=
                      1e-4 * (1.0 + std::fabs(dg_ref.data()[e])));
              REQUIRE(std::fabs(db_fast.data()[e] - db_ref.data()[e]) <=
                      1e-4 * (1.0 + std::fabs(db_ref.data()[e])));
            }
            if (!use_gain) REQUIRE(dg_fast(0, 0) == 0.25f);
          }
        }
      }
    }
  }
}

TEST_CASE("losses match their references", "[neuromod][kernels][losses]") {
  std::uint64_t seed = 900;
  for (std::size_t rows : {1, 31, 32, 33, 100}) {
    for (std::size_t cols : {1, 2, 10, 17}) {
      const Matrix logits = random_matrix(rows, cols, seed++, 3.0);
      const auto labels = locus::neuromod::testing::random_labels(rows, cols, seed++);
      Matrix g_fast, g_ref;
      const double l_fast = softmax_cross_entropy(logits, labels, &g_fast);
      const double l_ref = softmax_cross_entropy_reference(logits, labels, &g_ref);
      REQUIRE(l_fast == Approx(l_ref).epsilon(1e-5).margin(1e-6));
      for (std::size_t e = 0; e < g_fast.size(); ++e) {
        REQUIRE(g_fast.data()[e] == Approx(g_ref.data()[e]).margin(1e-6));
      }
      const double h_fast = mean_softmax_entropy(logits, EntropyUnit::kBits);
      const double h_ref = mean_softmax_entropy_reference(logits, EntropyUnit::kBits);
      REQUIRE(h_fast == Approx(h_ref).epsilon(1e-5).margin(1e-6));
      const Matrix target = random_matrix(rows, cols, seed++);
      Matrix m_fast, m_ref;
      REQUIRE(mean_squared_error(logits, target, &m_fast) ==
              Approx(mean_squared_error_reference(logits, target, &m_ref)).epsilon(1e-6));
      for (std::size_t e = 0; e < m_fast.size(); ++e) {
        REQUIRE(m_fast.data()[e] == Approx(m_ref.data()[e]).epsilon(1e-6).margin(1e-7));
      }
    }
  }
  // Entropy of a uniform distribution over 8 outcomes: 3 bits, ln 8 nats.
  Matrix uniform({2, 8});
  uniform.fill(0.3f);
  REQUIRE(mean_softmax_entropy(uniform, EntropyUnit::kBits) == Approx(3.0).epsilon(1e-6));
  REQUIRE(mean_softmax_entropy(uniform, EntropyUnit::kNats) == Approx(std::log(8.0)).epsilon(1e-6));
}
