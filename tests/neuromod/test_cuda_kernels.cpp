// Each CUDA kernel alone (the launchers of device_kernels.hpp and recurrent_kernels.hpp) against
// the reference backend, on small random inputs: one test case per launcher. Where the reference
// backend has the same operation (reference_kernels(): sparse and dense products, the modulation;
// losses.hpp's reference loss; optimizer.hpp's apply_update) the comparison is with it; the head
// epilogues and reductions, which HostNetwork writes inline, are compared with their definition in
// double here; the recurrent steps with the element functions of recurrent_steps.hpp, which
// test_recurrent_plan.cpp ties to the reference backend on the CPU. The network-level comparisons
// (test_cuda.cpp, test_cuda_recurrent.cpp) check how the kernels compose; these say which kernel
// is wrong when one is.
//
// Tagged [cuda][kernel]: without a device each case says so in a warning and passes without
// checking (Catch2 2 has no skip); a build without CUDA has no kernels to test and compiles one
// case that says so. Tolerances: float32 on the device against double in the reference, 1e-5
// relative; the per-step recurrent arithmetic (CUDA's expf/tanhf against the host's) the same.

#include <catch2/catch.hpp>

#include "neuromod/cuda/cuda_network.hpp"

#ifndef LOCUS_HAVE_CUDA

TEST_CASE("CUDA kernel parity: this build has no CUDA", "[cuda][kernel]") {
  WARN("CUDA kernel tests skipped: " << locus::neuromod::cuda_status());
}

#else

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "neuromod/cuda/batch_plan.hpp"
#include "neuromod/cuda/device_kernels.hpp"
#include "neuromod/cuda/recurrent_kernels.hpp"
#include "neuromod/kernels.hpp"
#include "neuromod/losses.hpp"
#include "neuromod/optimizer.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;

namespace {

constexpr cudaStream_t kStream = nullptr;  // the legacy default stream: ordered with cudaMemcpy
constexpr double kTolerance = 1e-5;
constexpr std::size_t kContexts = 3;

bool have_device() {
  if (cuda_available()) return true;
  WARN("CUDA kernel test skipped: " << cuda_status());
  return false;
}

std::vector<float> random_values(std::size_t n, std::uint64_t seed, double scale = 1.0,
                                 double offset = 0.0) {
  std::vector<float> v(n);
  RandomStream stream(seed, 5);
  for (float& x : v) x = static_cast<float>(offset + scale * stream.normal());
  return v;
}

std::vector<std::int32_t> random_indices(std::size_t n, std::size_t bound, std::uint64_t seed) {
  std::vector<std::int32_t> v(n);
  RandomStream stream(seed, 6);
  for (auto& x : v) x = static_cast<std::int32_t>(stream.uniform_index(bound));
  return v;
}

// A host array and its device copy.
template <typename T>
struct Mirror {
  std::vector<T> host;
  DeviceArray<T> device;
  explicit Mirror(std::vector<T> values) : host(std::move(values)), device(host.size()) {
    device.upload(host);
  }
  T* d() { return device.data(); }
  // The device's values after the queued kernels ran (and checked that they launched and ran).
  std::vector<T> result() const {
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    return device.download();
  }
};
using Floats = Mirror<float>;
using Ints = Mirror<std::int32_t>;

// Device memory filled with NaN, so that an element a kernel fails to write shows.
Floats poisoned(std::size_t n) {
  return Floats(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()));
}

void require_close(const std::vector<float>& device, const std::vector<float>& expected,
                   double tolerance = kTolerance) {
  REQUIRE(device.size() == expected.size());
  for (const float v : device) REQUIRE(std::isfinite(v));
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < device.size(); ++i) {
    diff += (double(device[i]) - expected[i]) * (double(device[i]) - expected[i]);
    norm += double(expected[i]) * expected[i];
  }
  CHECK(norm > 0.0);  // a comparison of zeros would pass whatever the kernel does
  CHECK(std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30) < tolerance);
}

// A batch's row groups on the device, planned as the network plans them.
struct DeviceGroups {
  cuda::BatchPlan plan;
  Ints staging{std::vector<std::int32_t>{0}};
  cuda::RowGroups by_context, all_rows;
  explicit DeviceGroups(const std::vector<std::int32_t>& row_context) {
    const std::vector<std::uint32_t> sets(kContexts, 0);
    cuda::plan_batch({.rows = row_context.size(), .context_ids = row_context, .context_set = sets},
                     plan);
    staging = Ints(plan.staging);
    const auto on_device = [this](const cuda::RowGroupsLayout& layout) {
      std::int32_t* base = staging.d();
      return cuda::RowGroups{base + layout.order, base + layout.chunks, base + layout.groups,
                             layout.chunk_count, layout.group_count};
    };
    by_context = on_device(plan.by_context);
    all_rows = on_device(plan.all_rows);
  }
};

// The sparse connectivity's transpose as CSR over inputs (what cuda_network.cpp uploads).
void sparse_transpose(const std::vector<std::int32_t>& index, std::size_t in,
                      std::vector<std::int32_t>& input_begin, std::vector<std::int32_t>& entries) {
  input_begin.assign(in + 1, 0);
  for (const std::int32_t i : index) ++input_begin[std::size_t(i) + 1];
  for (std::size_t i = 0; i < in; ++i) input_begin[i + 1] += input_begin[i];
  entries.assign(index.size(), 0);
  std::vector<std::int32_t> next(input_begin.begin(), input_begin.end() - 1);
  for (std::size_t p = 0; p < index.size(); ++p) {
    entries[std::size_t(next[std::size_t(index[p])]++)] = static_cast<std::int32_t>(p);
  }
}

struct SparseCase {
  std::size_t rows = 70, in = 23, out = 19, k = 4;
  float scale = 0.8f;
  std::vector<std::int32_t> index = random_indices(out * k, in, 1);
  std::vector<float> value = random_values(out * k, 2);
};

struct ModulationCase {
  const char* name;
  Activation activation;
  ModulationSite site;
  bool center, gain, bias;
};

const ModulationCase kModulations[] = {
    {"relu pre", Activation::kRelu, ModulationSite::kPreActivation, false, true, true},
    {"tanh pre centered", Activation::kTanh, ModulationSite::kPreActivation, true, true, false},
    {"relu post centered", Activation::kRelu, ModulationSite::kPostActivation, true, true, true},
    {"softplus post", Activation::kSoftplus, ModulationSite::kPostActivation, false, false, true},
    {"identity, no gain or bias", Activation::kIdentity, ModulationSite::kPreActivation, false,
     false, false},
};

// One modulated layer's inputs, on both sides.
struct ModulationData {
  std::size_t rows, units;
  std::vector<std::int32_t> row_context;
  std::vector<float> gain, bias, z, dh;
  ModulationData(std::size_t rows_, std::size_t units_)
      : rows(rows_),
        units(units_),
        row_context(random_indices(rows_, kContexts, 3)),
        gain(random_values(kContexts * units_, 4, 0.3, 1.0)),
        bias(random_values(kContexts * units_, 5, 0.2)),
        z(random_values(rows_ * units_, 6)),
        dh(random_values(rows_ * units_, 7)) {}
  ModulationArgs host_args(const ModulationCase& c) const {
    ModulationArgs args;
    args.rows = rows;
    args.units = units;
    args.row_context = row_context.data();
    args.gain = c.gain ? gain.data() : nullptr;
    args.bias = c.bias ? bias.data() : nullptr;
    args.center = c.center;
    args.activation = c.activation;
    args.site = c.site;
    return args;
  }
};

// The device side of ModulationData, with the forward pass run (saved and h).
struct DeviceModulation {
  Ints row_context;
  Floats gain, bias, z, dh, saved, h;
  cuda::ModulationLaunch args;
  DeviceModulation(const ModulationData& m, const ModulationCase& c)
      : row_context(m.row_context),
        gain(m.gain),
        bias(m.bias),
        z(m.z),
        dh(m.dh),
        saved(poisoned(m.rows * m.units)),
        h(poisoned(m.rows * m.units)) {
    args.rows = m.rows;
    args.units = m.units;
    args.row_context = row_context.d();
    args.gain = c.gain ? gain.d() : nullptr;
    args.bias = c.bias ? bias.d() : nullptr;
    args.center = c.center;
    args.activation = c.activation;
    args.site = c.site;
    cuda::modulate_forward(kStream, args, z.d(), saved.d(), h.d());
  }
};

// The reference backward of a modulated layer: dz and the per-context gain and bias gradients.
struct ReferenceBackward {
  std::vector<float> saved, h, dz, dgain, dbias;
  ReferenceBackward(const ModulationData& m, const ModulationCase& c)
      : saved(m.rows * m.units),
        h(m.rows * m.units),
        dz(m.rows * m.units),
        dgain(kContexts * m.units, 0.0f),
        dbias(kContexts * m.units, 0.0f) {
    const ModulationArgs args = m.host_args(c);
    reference_kernels().modulate_forward(args, m.z.data(), saved.data(), h.data());
    reference_kernels().modulate_backward(args, saved.data(), h.data(), m.dh.data(), dz.data(),
                                          c.gain ? dgain.data() : nullptr,
                                          c.bias ? dbias.data() : nullptr);
  }
};

// Per-context sums of per-row terms (rows, width), in double.
std::vector<float> sum_per_context(const std::vector<float>& terms,
                                   const std::vector<std::int32_t>& row_context,
                                   std::size_t width) {
  std::vector<double> sums(kContexts * width, 0.0);
  for (std::size_t r = 0; r < row_context.size(); ++r) {
    for (std::size_t u = 0; u < width; ++u) {
      sums[std::size_t(row_context[r]) * width + u] += terms[r * width + u];
    }
  }
  return {sums.begin(), sums.end()};
}

}  // namespace

TEST_CASE("CUDA kernel sparse_forward matches the reference", "[cuda][kernel]") {
  if (!have_device()) return;
  const SparseCase s;
  const std::vector<float> x = random_values(s.rows * s.in, 10);
  std::vector<float> expected(s.rows * s.out);
  reference_kernels().sparse_forward(x.data(), s.rows, s.in, s.index.data(), s.value.data(), s.out,
                                     s.k, s.scale, expected.data());
  Floats dx(x), value(s.value), z = poisoned(s.rows * s.out);
  Ints index(s.index);
  cuda::sparse_forward(kStream, dx.d(), s.rows, s.in, index.d(), value.d(), s.out, s.k, s.scale,
                       z.d());
  require_close(z.result(), expected);
}

TEST_CASE("CUDA kernel sparse_backward_input matches the reference, written and accumulated",
          "[cuda][kernel]") {
  if (!have_device()) return;
  const SparseCase s;
  const std::vector<float> dz = random_values(s.rows * s.out, 11);
  std::vector<std::int32_t> input_begin, entries;
  sparse_transpose(s.index, s.in, input_begin, entries);
  Floats ddz(dz), value(s.value);
  Ints begin(input_begin), entry(entries);
  for (const bool accumulate : {false, true}) {
    INFO("accumulate " << accumulate);
    const std::vector<float> start = random_values(s.rows * s.in, 12);
    std::vector<float> expected(start);
    reference_kernels().sparse_backward_input(dz.data(), s.rows, s.out, s.index.data(),
                                              s.value.data(), s.k, s.in, s.scale, expected.data(),
                                              accumulate);
    Floats dx = accumulate ? Floats(start) : poisoned(s.rows * s.in);
    cuda::sparse_backward_input(kStream, ddz.d(), s.rows, s.out, begin.d(), entry.d(), value.d(),
                                s.k, s.in, s.scale, dx.d(), accumulate);
    require_close(dx.result(), expected);
  }
}

TEST_CASE("CUDA kernel sparse_backward_weight matches the reference", "[cuda][kernel]") {
  if (!have_device()) return;
  const SparseCase s;
  const std::vector<float> dz = random_values(s.rows * s.out, 13);
  const std::vector<float> x = random_values(s.rows * s.in, 14);
  const std::vector<float> start = random_values(s.out * s.k, 15);  // += onto earlier gradients
  std::vector<float> expected(start);
  reference_kernels().sparse_backward_weight(dz.data(), s.rows, s.out, s.index.data(), s.k,
                                             x.data(), s.in, s.scale, expected.data());
  Floats ddz(dz), dx(x), dvalue(start);
  Ints index(s.index);
  cuda::sparse_backward_weight(kStream, ddz.d(), s.rows, s.out, index.d(), s.k, dx.d(), s.in,
                               s.scale, dvalue.d());
  require_close(dvalue.result(), expected);
}

TEST_CASE("CUDA kernel modulate_forward matches the reference at every site and activation",
          "[cuda][kernel]") {
  if (!have_device()) return;
  const ModulationData m(75, 300);  // wider than one 256-thread block
  for (const ModulationCase& c : kModulations) {
    INFO(c.name);
    const ReferenceBackward reference(m, c);
    DeviceModulation device(m, c);
    require_close(device.h.result(), reference.h);
    require_close(device.saved.result(), reference.saved);
  }
}

TEST_CASE("CUDA kernel modulate_backward matches the reference (dz and per-row terms)",
          "[cuda][kernel]") {
  if (!have_device()) return;
  const ModulationData m(75, 300);
  for (const ModulationCase& c : kModulations) {
    INFO(c.name);
    const ReferenceBackward reference(m, c);
    DeviceModulation device(m, c);
    Floats dz = poisoned(m.rows * m.units);
    Floats gain_terms = poisoned(m.rows * m.units), bias_terms = poisoned(m.rows * m.units);
    cuda::modulate_backward(kStream, device.args, device.saved.d(), device.h.d(), device.dh.d(),
                            dz.d(), c.gain ? gain_terms.d() : nullptr,
                            c.bias ? bias_terms.d() : nullptr);
    require_close(dz.result(), reference.dz);
    if (c.gain) {
      require_close(sum_per_context(gain_terms.result(), m.row_context, m.units), reference.dgain);
    }
    if (c.bias) {
      require_close(sum_per_context(bias_terms.result(), m.row_context, m.units), reference.dbias);
    }
  }
}

TEST_CASE("CUDA kernel modulate_backward_fused, finished by reduce_partials, matches the reference",
          "[cuda][kernel]") {
  if (!have_device()) return;
  const ModulationData m(150, 300);  // contexts of more than one 64-row chunk
  const DeviceGroups groups(m.row_context);
  const std::size_t partial_size = std::size_t(groups.by_context.chunk_count) * m.units;
  for (const ModulationCase& c : kModulations) {
    for (const bool dz_needed : {true, false}) {
      INFO(c.name << (dz_needed ? "" : ", no dz"));
      const ReferenceBackward reference(m, c);
      DeviceModulation device(m, c);
      REQUIRE(cuda::fused_modulate_backward_fits(m.units, c.center && dz_needed));
      Floats dz = poisoned(m.rows * m.units);
      Floats gain_partial = poisoned(partial_size), bias_partial = poisoned(partial_size);
      Floats dgain(std::vector<float>(kContexts * m.units, 0.0f)), dbias(dgain.host);
      cuda::modulate_backward_fused(kStream, device.args, groups.by_context, device.saved.d(),
                                    device.h.d(), device.dh.d(), dz_needed ? dz.d() : nullptr,
                                    c.gain ? gain_partial.d() : nullptr,
                                    c.bias ? bias_partial.d() : nullptr);
      if (c.gain)
        cuda::reduce_partials(kStream, groups.by_context, gain_partial.d(), m.units, dgain.d());
      if (c.bias)
        cuda::reduce_partials(kStream, groups.by_context, bias_partial.d(), m.units, dbias.d());
      if (dz_needed) require_close(dz.result(), reference.dz);
      if (c.gain) require_close(dgain.result(), reference.dgain);
      if (c.bias) require_close(dbias.result(), reference.dbias);
    }
  }
}

TEST_CASE("CUDA kernel reduce_rows sums each group's rows into its target", "[cuda][kernel]") {
  if (!have_device()) return;
  const std::size_t rows = 200, width = 37;
  const std::vector<std::int32_t> row_context = random_indices(rows, kContexts, 16);
  const DeviceGroups groups(row_context);
  const std::vector<float> terms = random_values(rows * width, 17);
  const std::vector<float> start = random_values(kContexts * width, 18);
  Floats dterms(terms);
  // Per context (+= onto the earlier gradient), and all rows into target 0.
  std::vector<float> expected = sum_per_context(terms, row_context, width);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] += start[i];
  Floats grad(start), partial = poisoned(std::size_t(groups.by_context.chunk_count) * width);
  cuda::reduce_rows(kStream, groups.by_context, dterms.d(), width, partial.d(), grad.d());
  require_close(grad.result(), expected);

  std::vector<float> all(start.begin(), start.begin() + std::ptrdiff_t(width));
  const std::vector<float> one_context =
      sum_per_context(terms, std::vector<std::int32_t>(rows, 0), width);
  for (std::size_t u = 0; u < width; ++u) all[u] += one_context[u];
  Floats all_grad(std::vector<float>(start.begin(), start.begin() + std::ptrdiff_t(width)));
  Floats all_partial = poisoned(std::size_t(groups.all_rows.chunk_count) * width);
  cuda::reduce_rows(kStream, groups.all_rows, dterms.d(), width, all_partial.d(), all_grad.d());
  require_close(all_grad.result(), all);
}

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

// --- the recurrent layers' per-step kernels --------------------------------------------------

namespace {

struct CellCase {
  const char* name;
  Recurrence recurrence;
  Activation activation = Activation::kTanh;
  float alpha = 1.0f;
  bool noise = false;
};

const CellCase kCells[] = {
    {"elman tanh", Recurrence::kElman},
    {"elman relu leaky noisy", Recurrence::kElman, Activation::kRelu, 0.3f, true},
    {"gru", Recurrence::kGru},
    {"lstm", Recurrence::kLstm},
};

constexpr std::size_t kBatch = 5, kUnits = 70;  // 350 elements: more than one block

// One step's inputs for a cell kind, on both sides, with the forward step run on the host.
struct StepData {
  const CellCase& cell;
  std::size_t width;
  Floats input_sum, recurrent_sum, previous, previous_cell, noise, gain, bias;
  Ints row_context, next_starts;
  std::vector<float> gates, cell_state, hidden, next_previous, next_previous_cell;

  explicit StepData(const CellCase& c)
      : cell(c),
        width(cuda::gates_of(c.recurrence) * kUnits),
        input_sum(random_values(kBatch * width, 50)),
        recurrent_sum(random_values(kBatch * width, 51)),
        previous(random_values(kBatch * kUnits, 52, 0.5)),
        previous_cell(random_values(kBatch * kUnits, 53, 0.5)),
        noise(random_values(kBatch * kUnits, 54, 0.2)),
        gain(random_values(kContexts * width, 55, 0.3, 1.0)),
        bias(random_values(kContexts * width, 56, 0.2)),
        row_context(random_indices(kBatch, kContexts, 57)),
        next_starts(std::vector<std::int32_t>{0, 1, 0, 0, 1}),
        gates(kBatch * width),
        cell_state(kBatch * kUnits),
        hidden(kBatch * kUnits),
        next_previous(kBatch * kUnits),
        next_previous_cell(kBatch * kUnits) {
    cuda::CellForwardStep host = forward_step(false);
    host.gates = gates.data();
    host.cell = lstm() ? cell_state.data() : nullptr;
    host.hidden = hidden.data();
    host.next_previous = next_previous.data();
    host.next_previous_cell = lstm() ? next_previous_cell.data() : nullptr;
    for (std::size_t b = 0; b < kBatch; ++b)
      for (std::size_t j = 0; j < kUnits; ++j) cuda::cell_forward(host, b, j);
  }
  bool lstm() const { return cell.recurrence == Recurrence::kLstm; }
  // The step's read-only inputs, as host or device pointers; the outputs are the caller's.
  cuda::CellForwardStep forward_step(bool device) {
    cuda::CellForwardStep s;
    s.recurrence = cell.recurrence;
    s.activation = cell.activation;
    s.alpha = cell.alpha;
    s.batch = kBatch;
    s.units = kUnits;
    s.input_sum = device ? input_sum.d() : input_sum.host.data();
    s.recurrent_sum = device ? recurrent_sum.d() : recurrent_sum.host.data();
    s.previous = device ? previous.d() : previous.host.data();
    s.previous_cell = !lstm() ? nullptr : device ? previous_cell.d() : previous_cell.host.data();
    s.noise = !cell.noise ? nullptr : device ? noise.d() : noise.host.data();
    s.gain = device ? gain.d() : gain.host.data();
    s.bias = device ? bias.d() : bias.host.data();
    s.row_context = device ? row_context.d() : row_context.host.data();
    s.next_starts = device ? next_starts.d() : next_starts.host.data();
    return s;
  }
};

}  // namespace

TEST_CASE("CUDA kernel launch_state_entry matches the host step", "[cuda][kernel][recurrent]") {
  if (!have_device()) return;
  const std::vector<float> hidden = random_values(kBatch * kUnits, 58);
  const std::vector<float> cell = random_values(kBatch * kUnits, 59);
  const std::vector<std::int32_t> starts = {1, 0, 0, 1, 0};
  Floats dhidden(hidden), dcell(cell);
  Ints dstarts(starts);
  for (const bool lstm : {false, true}) {
    for (const bool initial : {false, true}) {
      INFO("lstm " << lstm << ", initial state " << initial);
      std::vector<float> previous(kBatch * kUnits), previous_cell(kBatch * kUnits);
      cuda::StateEntry host{.batch = kBatch,
                            .units = kUnits,
                            .starts = starts.data(),
                            .initial_hidden = initial ? hidden.data() : nullptr,
                            .initial_cell = initial && lstm ? cell.data() : nullptr,
                            .previous = previous.data(),
                            .previous_cell = lstm ? previous_cell.data() : nullptr};
      for (std::size_t b = 0; b < kBatch; ++b)
        for (std::size_t j = 0; j < kUnits; ++j) cuda::enter_state(host, b, j);
      Floats dprevious = poisoned(kBatch * kUnits), dprevious_cell = poisoned(kBatch * kUnits);
      cuda::StateEntry device = host;
      device.starts = dstarts.d();
      device.initial_hidden = initial ? dhidden.d() : nullptr;
      device.initial_cell = initial && lstm ? dcell.d() : nullptr;
      device.previous = dprevious.d();
      device.previous_cell = lstm ? dprevious_cell.d() : nullptr;
      cuda::launch_state_entry(kStream, device);
      // Zeros are the expected value of every started or uninitialized row: compare exactly.
      CHECK(dprevious.result() == previous);
      if (lstm) CHECK(dprevious_cell.result() == previous_cell);
    }
  }
}

TEST_CASE("CUDA kernel launch_cell_forward matches the host step for every cell kind",
          "[cuda][kernel][recurrent]") {
  if (!have_device()) return;
  for (const CellCase& c : kCells) {
    INFO(c.name);
    StepData data(c);
    Floats gates = poisoned(kBatch * data.width), cell = poisoned(kBatch * kUnits);
    Floats hidden = poisoned(kBatch * kUnits), next_previous = poisoned(kBatch * kUnits);
    Floats next_previous_cell = poisoned(kBatch * kUnits);
    cuda::CellForwardStep step = data.forward_step(true);
    step.gates = gates.d();
    step.cell = data.lstm() ? cell.d() : nullptr;
    step.hidden = hidden.d();
    step.next_previous = next_previous.d();
    step.next_previous_cell = data.lstm() ? next_previous_cell.d() : nullptr;
    cuda::launch_cell_forward(kStream, step);
    require_close(gates.result(), data.gates);
    require_close(hidden.result(), data.hidden);
    require_close(next_previous.result(), data.next_previous);
    if (data.lstm()) {
      require_close(cell.result(), data.cell_state);
      require_close(next_previous_cell.result(), data.next_previous_cell);
    }
  }
}

TEST_CASE("CUDA kernel launch_cell_backward matches the host step for every cell kind",
          "[cuda][kernel][recurrent]") {
  if (!have_device()) return;
  for (const CellCase& c : kCells) {
    INFO(c.name);
    StepData data(c);
    const std::size_t n = kBatch * kUnits, w = kBatch * data.width;
    Floats d_hidden(random_values(n, 60)), carry(random_values(n, 61));
    Floats carry_cell(random_values(n, 62)), gates(data.gates), cell(data.cell_state);
    // The host step: the same inputs, the forward's outputs, carry and carry_cell updated in place.
    std::vector<float> host_carry(carry.host), host_carry_cell(carry_cell.host);
    std::vector<float> d_input_sum(w), d_recurrent_sum(w), gate_grad(w), gain_terms(w);
    const auto step_of = [&](bool device) {
      const cuda::CellForwardStep f = data.forward_step(device);
      cuda::CellBackwardStep s;
      s.recurrence = c.recurrence;
      s.activation = c.activation;
      s.alpha = c.alpha;
      s.batch = kBatch;
      s.units = kUnits;
      s.d_hidden = device ? d_hidden.d() : d_hidden.host.data();
      s.input_sum = f.input_sum;
      s.recurrent_sum = f.recurrent_sum;
      s.gates = device ? gates.d() : data.gates.data();
      s.previous = f.previous;
      s.previous_cell = f.previous_cell;
      s.cell = !data.lstm() ? nullptr : device ? cell.d() : data.cell_state.data();
      s.gain = f.gain;
      s.row_context = f.row_context;
      s.carry_valid = true;
      s.next_starts = f.next_starts;
      s.carry = device ? carry.d() : host_carry.data();
      s.carry_cell = !data.lstm() ? nullptr : device ? carry_cell.d() : host_carry_cell.data();
      return s;
    };
    cuda::CellBackwardStep host = step_of(false);
    host.d_input_sum = d_input_sum.data();
    host.d_recurrent_sum = d_recurrent_sum.data();
    host.gate_grad = gate_grad.data();
    host.gain_terms = gain_terms.data();
    for (std::size_t b = 0; b < kBatch; ++b)
      for (std::size_t j = 0; j < kUnits; ++j) cuda::cell_backward(host, b, j);
    Floats dxz = poisoned(w), dhz = poisoned(w), dgate = poisoned(w), dgain = poisoned(w);
    cuda::CellBackwardStep device = step_of(true);
    device.d_input_sum = dxz.d();
    device.d_recurrent_sum = dhz.d();
    device.gate_grad = dgate.d();
    device.gain_terms = dgain.d();
    cuda::launch_cell_backward(kStream, device);
    require_close(dxz.result(), d_input_sum);
    require_close(dhz.result(), d_recurrent_sum);
    require_close(dgate.result(), gate_grad);
    require_close(dgain.result(), gain_terms);
    if (data.lstm()) {
      CHECK(carry.result() == host_carry);  // an LSTM's carry leaves as zeros (the cell carries)
      require_close(carry_cell.result(), host_carry_cell);
    } else {
      require_close(carry.result(), host_carry);
    }
  }
}

#endif  // LOCUS_HAVE_CUDA
