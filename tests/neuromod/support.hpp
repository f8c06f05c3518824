#pragma once
// Helpers shared by the neuromod tests: seeded random batches and small specs of every layer kind.

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "neuromod/losses.hpp"
#include "neuromod/network.hpp"
#include "neuromod/random.hpp"

namespace locus::neuromod::testing {

// A directory of this process's own under the system's temporary directory, removed with its
// contents at the end of the scope.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix)
      : path(std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

// ||a - b|| / ||b|| in double precision (||b|| floored at 1e-30): infinite when the sizes differ,
// NaN when a holds a NaN, so that a test's "< tolerance" fails either way.
inline double relative_error(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm += double(b[i]) * b[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

inline double relative_error(const Matrix& a, const Matrix& b) {
  if (a.shape() != b.shape()) return std::numeric_limits<double>::infinity();
  return relative_error(std::span<const float>(a.data(), a.size()),
                        std::span<const float>(b.data(), b.size()));
}

inline Matrix random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed,
                            double scale = 1.0) {
  Matrix m({rows, cols});
  RandomStream stream(seed, 99);
  for (auto& v : m) v = static_cast<float>(scale * stream.normal());
  return m;
}

inline std::vector<ContextId> random_contexts(std::size_t rows, std::size_t contexts,
                                              std::uint64_t seed) {
  std::vector<ContextId> ids(rows);
  RandomStream stream(seed, 98);
  for (auto& id : ids) id = static_cast<ContextId>(stream.uniform_index(contexts));
  return ids;
}

inline std::vector<std::int32_t> random_labels(std::size_t rows, std::size_t classes,
                                               std::uint64_t seed) {
  std::vector<std::int32_t> labels(rows);
  RandomStream stream(seed, 97);
  for (auto& l : labels) l = static_cast<std::int32_t>(stream.uniform_index(classes));
  return labels;
}

// The backends the behaviour tests run on: the CPU always, and CUDA where a device is present, so
// both backends answer to one suite (tests/neuromod/test_cuda.cpp adds the CUDA-only checks).
// One supervised step with softmax cross-entropy on the first head (the others get no gradient):
// forward, backward, optimizer step. Returns the loss.
inline double cross_entropy_step(Network& net, const Matrix& inputs,
                                 const std::vector<ContextId>& ids,
                                 const std::vector<std::int32_t>& labels) {
  const auto& out = net.forward(inputs, ids);
  Matrix grad;
  const double loss = softmax_cross_entropy(out[0], labels, &grad);
  net.zero_grad();
  net.backward(grad);
  net.step();
  return loss;
}

// Gradients for every head: cross-entropy on head 0, squared error towards 0.25 on the others.
inline std::vector<Matrix> head_gradients(const std::vector<Matrix>& outputs,
                                          const std::vector<std::int32_t>& labels) {
  std::vector<Matrix> grads(outputs.size());
  softmax_cross_entropy(outputs[0], labels, &grads[0]);
  for (std::size_t h = 1; h < outputs.size(); ++h) {
    Matrix target(outputs[h].shape());
    target.fill(0.25f);
    mean_squared_error(outputs[h], target, &grads[h]);
  }
  return grads;
}

inline std::vector<Backend> semantic_backends() {
  std::vector<Backend> backends = {Backend::kCpu};
  if (cuda_available()) backends.push_back(Backend::kCuda);
  return backends;
}

inline LayerSpec layer(std::size_t units, LayerKind kind = LayerKind::kDenseGaussian,
                       std::size_t k = 0) {
  LayerSpec spec;
  spec.units = units;
  spec.kind = kind;
  spec.sparse_k = k;
  return spec;
}

inline HeadSpec head(std::string name, std::size_t units, ReadoutWeights weights,
                     BiasKind bias = BiasKind::kNone, bool output_gain = true) {
  HeadSpec spec;
  spec.name = std::move(name);
  spec.units = units;
  spec.weights = weights;
  spec.bias = bias;
  spec.output_gain = output_gain;
  return spec;
}

// Adds contexts until the network has `count`, giving each non-trivial parameters (so that a gain
// of exactly 1 or a bias of exactly 0 cannot hide a missing term). Context k runs on weight set
// k % spec().weight_sets.
inline void add_perturbed_contexts(Network& net, std::size_t count, std::uint64_t seed) {
  while (net.context_count() < count) net.add_context(net.context_count() % net.spec().weight_sets);
  RandomStream stream(seed, 96);
  for (const ParameterInfo& info : net.parameters()) {
    if (info.context == kSharedContext || !info.trainable) continue;
    std::vector<float> values = net.read_parameter(info.name, info.context);
    for (auto& v : values) v += static_cast<float>(0.3 * stream.normal());
    net.write_parameter(info.name, info.context, values);
  }
}

}  // namespace locus::neuromod::testing
