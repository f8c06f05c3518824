// Each CUDA kernel alone (the launchers of device_kernels.hpp and recurrent_kernels.hpp) against
// the reference backend, on small random inputs: one test case per launcher, in three files: this
// one (the layers' sparse products, modulation and reductions), test_cuda_kernels_heads.cpp (heads,
// loss, row permutations, finiteness flag, optimizer) and test_cuda_kernels_recurrent.cpp (the
// recurrent steps); cuda_kernel_support.hpp has their helpers. Where the reference
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

#include <vector>

#include "cuda_kernel_support.hpp"
#include "neuromod/kernels.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;

namespace {

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

#endif  // LOCUS_HAVE_CUDA
