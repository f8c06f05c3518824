// The CUDA kernels of the heads, the loss, the row permutations, the finiteness flag and the
// optimizer, each against the reference backend or its definition: see test_cuda_kernels.cpp.

#include <catch2/catch.hpp>

#include "neuromod/cuda/cuda_network.hpp"

#ifdef LOCUS_HAVE_CUDA

#include <span>
#include <vector>

#include "cuda_kernel_support.hpp"
#include "neuromod/kernels.hpp"
#include "neuromod/losses.hpp"
#include "neuromod/optimizer.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;

TEST_CASE("CUDA kernel head_output applies the output gain and every kind of bias",
          "[cuda][kernel]") {
  if (!have_device()) return;
  const std::size_t rows = 41, units = 6;
  const std::vector<std::int32_t> row_context = random_indices(rows, kContexts, 19);
  const std::vector<float> lin = random_values(rows * units, 20);
  const std::vector<float> gain = random_values(kContexts, 21, 0.3, 1.0);
  const std::vector<float> bias = random_values(kContexts * units, 22);
  Ints dcontext(row_context);
  Floats dlin(lin), dgain(gain), dbias(bias);
  enum class Bias { kNone, kShared, kPerContext };
  for (const bool with_gain : {true, false}) {
    for (const Bias kind : {Bias::kNone, Bias::kShared, Bias::kPerContext}) {
      INFO("gain " << with_gain << ", bias kind " << int(kind));
      std::vector<float> expected(rows * units);
      for (std::size_t r = 0; r < rows; ++r) {
        const auto c = std::size_t(row_context[r]);
        for (std::size_t j = 0; j < units; ++j) {
          const double b = kind == Bias::kNone     ? 0.0
                           : kind == Bias::kShared ? bias[j]
                                                   : bias[c * units + j];
          expected[r * units + j] =
              static_cast<float>((with_gain ? double(gain[c]) : 1.0) * lin[r * units + j] + b);
        }
      }
      Floats y = poisoned(rows * units);
      cuda::head_output(kStream, rows, units, dcontext.d(), dlin.d(),
                        with_gain ? dgain.d() : nullptr, kind == Bias::kNone ? nullptr : dbias.d(),
                        kind == Bias::kPerContext, y.d());
      require_close(y.result(), expected);
    }
  }
}

// A per-context readout's shapes and inputs: weight (contexts, units, features).
namespace {

struct ReadoutCase {
  std::size_t rows = 90, units = 5, features = 33;
  float scale = 0.7f;
  std::vector<std::int32_t> row_context = random_indices(rows, kContexts, 23);
  std::vector<float> x = random_values(rows * features, 24);
  std::vector<float> weight = random_values(kContexts * units * features, 25);
  std::vector<float> dr = random_values(rows * units, 26);
  const float* weight_of(std::size_t row) const {
    return weight.data() + std::size_t(row_context[row]) * units * features;
  }
};

}  // namespace

TEST_CASE("CUDA kernel context_readout_forward matches the reference per row", "[cuda][kernel]") {
  if (!have_device()) return;
  const ReadoutCase s;
  std::vector<float> expected(s.rows * s.units);
  for (std::size_t r = 0; r < s.rows; ++r) {
    reference_kernels().dense_forward(s.x.data() + r * s.features, 1, s.features, s.weight_of(r),
                                      s.units, s.scale, expected.data() + r * s.units);
  }
  Ints context(s.row_context);
  Floats x(s.x), weight(s.weight), lin = poisoned(s.rows * s.units);
  cuda::context_readout_forward(kStream, s.rows, s.units, s.features, context.d(), x.d(),
                                weight.d(), s.scale, lin.d());
  require_close(lin.result(), expected);
}

TEST_CASE("CUDA kernel head_backward_terms scales by the output gain and forms the dot",
          "[cuda][kernel]") {
  if (!have_device()) return;
  const std::size_t rows = 41, units = 6;
  const std::vector<std::int32_t> row_context = random_indices(rows, kContexts, 27);
  const std::vector<float> dy = random_values(rows * units, 28);
  const std::vector<float> lin = random_values(rows * units, 29);
  const std::vector<float> gain = random_values(kContexts, 30, 0.3, 1.0);
  std::vector<float> expected_dr(rows * units), expected_dot(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    double dot = 0.0;
    for (std::size_t j = 0; j < units; ++j) {
      const std::size_t e = r * units + j;
      expected_dr[e] = static_cast<float>(double(gain[std::size_t(row_context[r])]) * dy[e]);
      dot += double(dy[e]) * lin[e];
    }
    expected_dot[r] = static_cast<float>(dot);
  }
  Ints context(row_context);
  Floats ddy(dy), dlin(lin), dgain(gain), dr = poisoned(rows * units), dot = poisoned(rows);
  cuda::head_backward_terms(kStream, rows, units, context.d(), ddy.d(), dlin.d(), dgain.d(), dr.d(),
                            dot.d());
  require_close(dr.result(), expected_dr);
  require_close(dot.result(), expected_dot);
  Floats dr_no_gain = poisoned(rows * units);  // no output gain: dr is dy, no dot asked for
  cuda::head_backward_terms(kStream, rows, units, context.d(), ddy.d(), dlin.d(), nullptr,
                            dr_no_gain.d(), nullptr);
  require_close(dr_no_gain.result(), dy);
}

TEST_CASE("CUDA kernel context_readout_backward_input matches the reference per row",
          "[cuda][kernel]") {
  if (!have_device()) return;
  const ReadoutCase s;
  const std::vector<float> start = random_values(s.rows * s.features, 31);  // += onto it
  std::vector<float> expected(start);
  for (std::size_t r = 0; r < s.rows; ++r) {
    reference_kernels().dense_backward_input(s.dr.data() + r * s.units, 1, s.units, s.weight_of(r),
                                             s.features, s.scale, expected.data() + r * s.features,
                                             true);
  }
  Ints context(s.row_context);
  Floats dr(s.dr), weight(s.weight), dfeatures(start);
  cuda::context_readout_backward_input(kStream, s.rows, s.units, s.features, context.d(), dr.d(),
                                       weight.d(), s.scale, dfeatures.d());
  require_close(dfeatures.result(), expected);
}

TEST_CASE("CUDA kernel context_readout_backward_weight matches the reference per context",
          "[cuda][kernel]") {
  if (!have_device()) return;
  const ReadoutCase s;
  const std::vector<float> start = random_values(s.weight.size(), 32);  // += onto it
  std::vector<float> expected(start);
  for (std::size_t r = 0; r < s.rows; ++r) {
    float* dweight = expected.data() + std::size_t(s.row_context[r]) * s.units * s.features;
    reference_kernels().dense_backward_weight(s.dr.data() + r * s.units, 1, s.units,
                                              s.x.data() + r * s.features, s.features, s.scale,
                                              dweight);
  }
  const DeviceGroups groups(s.row_context);
  Floats dr(s.dr), x(s.x), dweight(start);
  cuda::context_readout_backward_weight(kStream, groups.by_context, s.units, s.features, dr.d(),
                                        x.d(), s.scale, dweight.d());
  require_close(dweight.result(), expected);
}

TEST_CASE("CUDA kernel cross_entropy matches the reference loss, entropy and gradient",
          "[cuda][kernel]") {
  if (!have_device()) return;
  const std::size_t rows = 67, classes = 7;
  const Matrix logits = random_matrix(rows, classes, 33, 2.0);
  const std::vector<std::int32_t> labels = random_labels(rows, classes, 34);
  Matrix expected_gradient;
  const double loss = softmax_cross_entropy_reference(logits, labels, &expected_gradient);
  const double entropy = mean_softmax_entropy_reference(logits);
  Floats dlogits(std::vector<float>(logits.begin(), logits.end()));
  Ints dlabels(labels), bad(std::vector<std::int32_t>{0});
  Floats gradient = poisoned(rows * classes), row_loss = poisoned(rows),
         row_entropy = poisoned(rows);
  Mirror<double> totals(std::vector<double>(2, 0.0));
  cuda::cross_entropy(kStream, rows, classes, dlogits.d(), dlabels.d(), gradient.d(), row_loss.d(),
                      row_entropy.d(), totals.d(), bad.d());
  require_close(gradient.result(),
                std::vector<float>(expected_gradient.begin(), expected_gradient.end()));
  const std::vector<double> means = totals.result();
  CHECK(means[0] == Approx(loss).epsilon(kTolerance));
  CHECK(means[1] == Approx(entropy).epsilon(kTolerance));
  CHECK(bad.result()[0] == 0);
  double loss_sum = 0.0;
  for (const float v : row_loss.result()) loss_sum += v;
  CHECK(loss_sum / double(rows) == Approx(loss).epsilon(kTolerance));

  std::vector<std::int32_t> out_of_range(labels);
  out_of_range[rows / 2] = std::int32_t(classes);
  Ints dbad_labels(out_of_range);
  cuda::cross_entropy(kStream, rows, classes, dlogits.d(), dbad_labels.d(), gradient.d(),
                      row_loss.d(), row_entropy.d(), totals.d(), bad.d());
  CHECK(bad.result()[0] == 1);
}

TEST_CASE("CUDA kernel gather_rows moves each row from its source index", "[cuda][kernel]") {
  if (!have_device()) return;
  const std::size_t rows = 9, cols = 5;
  const std::vector<std::int32_t> order = {4, 0, 8, 2, 6, 1, 3, 7, 5};
  const std::vector<float> src = random_values(rows * cols, 35);
  std::vector<float> expected(rows * cols);
  for (std::size_t i = 0; i < rows; ++i) {
    std::copy_n(src.begin() + std::ptrdiff_t(std::size_t(order[i]) * cols), cols,
                expected.begin() + std::ptrdiff_t(i * cols));
  }
  Ints dorder(order);
  Floats dsrc(src), dst = poisoned(rows * cols);
  cuda::gather_rows(kStream, dorder.d(), rows, cols, dsrc.d(), dst.d());
  CHECK(dst.result() == expected);
}

TEST_CASE("CUDA kernel scatter_rows puts each row back at its index", "[cuda][kernel]") {
  if (!have_device()) return;
  const std::size_t rows = 9, cols = 5;
  const std::vector<std::int32_t> order = {4, 0, 8, 2, 6, 1, 3, 7, 5};
  const std::vector<float> src = random_values(rows * cols, 36);
  std::vector<float> expected(rows * cols);
  for (std::size_t i = 0; i < rows; ++i) {
    std::copy_n(src.begin() + std::ptrdiff_t(i * cols), cols,
                expected.begin() + std::ptrdiff_t(std::size_t(order[i]) * cols));
  }
  Ints dorder(order);
  Floats dsrc(src), dst = poisoned(rows * cols);
  cuda::scatter_rows(kStream, dorder.d(), rows, cols, dsrc.d(), dst.d());
  CHECK(dst.result() == expected);
}

TEST_CASE("CUDA kernel flag_non_finite finds a NaN or an infinity anywhere", "[cuda][kernel]") {
  if (!have_device()) return;
  const std::size_t n = 300000;  // more than the kernel's 1024 blocks of 256 threads
  const auto flag_of = [n](std::size_t at, float bad) {
    std::vector<float> values = random_values(n, 37);
    if (at < n) values[at] = bad;
    Floats data(values);
    Ints flag(std::vector<std::int32_t>{0});
    cuda::flag_non_finite(kStream, data.d(), n, flag.d());
    return flag.result()[0];
  };
  CHECK(flag_of(n, 0.0f) == 0);
  CHECK(flag_of(0, std::numeric_limits<float>::quiet_NaN()) == 1);
  CHECK(flag_of(n - 1, std::numeric_limits<float>::infinity()) == 1);
  CHECK(flag_of(n / 2, -std::numeric_limits<float>::infinity()) == 1);
}

TEST_CASE("CUDA kernels gradient_square_sums and finish_norm give the global norm and clip factor",
          "[cuda][kernel]") {
  if (!have_device()) return;
  const std::size_t width = 5000, instances = 4;  // several norm chunks per instance
  const std::vector<float> grad = random_values(width * instances, 38);
  const std::vector<std::int32_t> listed = {3, 1};  // instances 0 and 2 take no step
  double sum = 0.0;
  for (const std::int32_t i : listed) {
    for (std::size_t e = 0; e < width; ++e) {
      const double g = grad[std::size_t(i) * width + e];
      sum += g * g;
    }
  }
  const double norm = std::sqrt(sum);
  OptimizerConfig config;
  config.clip_grad_norm = static_cast<float>(norm / 3.0);
  const std::size_t chunks = cuda::norm_chunks(width);
  Floats dgrad(grad);
  Ints dlisted(listed);
  Mirror<double> partial(std::vector<double>(listed.size() * chunks, -1.0));
  Mirror<double> scalars(std::vector<double>(2, -1.0));
  cuda::gradient_square_sums(kStream, dgrad.d(), width, dlisted.d(), int(listed.size()),
                             partial.d());
  cuda::finish_norm(kStream, partial.d(), partial.host.size(), config.clip_grad_norm, scalars.d());
  const std::vector<double> result = scalars.result();
  CHECK(result[0] == Approx(norm).epsilon(1e-9));
  CHECK(result[1] == Approx(clip_factor(config, norm)).epsilon(1e-6));
  cuda::finish_norm(kStream, partial.d(), partial.host.size(), 0.0f, scalars.d());
  CHECK(scalars.result()[1] == 1.0);  // no clipping asked for
}

TEST_CASE("CUDA kernel apply_updates matches the reference update for every optimizer",
          "[cuda][kernel]") {
  if (!have_device()) return;
  const std::size_t width = 700, instances = 3;
  const std::vector<std::int32_t> listed = {2, 0};
  const std::vector<std::int64_t> steps = {1, 4};  // a first step and a later one
  const float gradient_scale = 0.6f;
  std::vector<OptimizerConfig> configs(6);
  configs[0].kind = OptimizerKind::kSgd;
  configs[0].weight_decay = 0.01f;
  configs[1].kind = OptimizerKind::kMomentum;
  configs[1].nesterov = true;
  configs[2].kind = OptimizerKind::kAdam;
  configs[3].kind = OptimizerKind::kAdam;
  configs[3].weight_decay = 0.05f;
  configs[3].decoupled_weight_decay = true;
  configs[4].kind = OptimizerKind::kRmsprop;
  configs[5].kind = OptimizerKind::kMomentum;
  configs[5].clip_grad_value = 0.5f;
  for (const OptimizerConfig& config : configs) {
    INFO(to_string(config.kind) << ", decay " << config.weight_decay << ", clip value "
                                << config.clip_grad_value);
    const std::vector<float> value = random_values(width * instances, 39);
    const std::vector<float> grad = random_values(width * instances, 40);
    const std::vector<float> first = random_values(width * instances, 41, 0.1);
    const std::vector<float> second = random_values(width * instances, 42, 0.01, 0.05);
    std::vector<float> expected_value(value), expected_first(first), expected_second(second);
    const std::size_t arrays = config.state_arrays();
    for (std::size_t k = 0; k < listed.size(); ++k) {
      const std::size_t at = std::size_t(listed[k]) * width;
      const auto part = [at, width](std::vector<float>& v) {
        return std::span<float>(v.data() + at, width);
      };
      apply_update(config, part(expected_value), std::span<const float>(grad.data() + at, width),
                   gradient_scale, arrays >= 1 ? part(expected_first) : std::span<float>{},
                   arrays >= 2 ? part(expected_second) : std::span<float>{}, steps[k]);
    }
    cuda::UpdateRule rule;
    rule.kind = static_cast<int>(config.kind);
    rule.learning_rate = config.learning_rate;
    rule.momentum = config.momentum;
    rule.beta1 = config.beta1;
    rule.beta2 = config.beta2;
    rule.epsilon = config.epsilon;
    rule.rms_alpha = config.rms_alpha;
    rule.weight_decay = config.weight_decay;
    rule.clip_value = config.clip_grad_value;
    rule.nesterov = config.nesterov;
    rule.decoupled_decay = config.decoupled_weight_decay;
    Floats dvalue(value), dgrad(grad), dfirst(first), dsecond(second);
    Ints dlisted(listed), flag(std::vector<std::int32_t>{0});
    Mirror<std::int64_t> dsteps(steps);
    Mirror<double> scalars(std::vector<double>{0.0, double(gradient_scale)});
    cuda::apply_updates(kStream, rule, dvalue.d(), dgrad.d(), arrays >= 1 ? dfirst.d() : nullptr,
                        arrays >= 2 ? dsecond.d() : nullptr, width, dlisted.d(), dsteps.d(),
                        int(listed.size()), scalars.d(), flag.d());
    require_close(dvalue.result(), expected_value);
    if (arrays >= 1) require_close(dfirst.result(), expected_first);
    if (arrays >= 2) require_close(dsecond.result(), expected_second);
    CHECK(flag.result()[0] == 0);
  }
}

#endif  // LOCUS_HAVE_CUDA
