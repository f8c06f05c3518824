#pragma once
// Helpers of the CUDA kernel parity tests (test_cuda_kernels*.cpp): host arrays mirrored on the
// device, poisoned outputs, the comparison with a tolerance, and a batch's row groups planned as
// the network plans them. Included only where LOCUS_HAVE_CUDA is defined.

#include <cuda_runtime_api.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "cuda_device.hpp"
#include "neuromod/cuda/batch_plan.hpp"
#include "neuromod/cuda/cuda_network.hpp"
#include "neuromod/cuda/device_kernels.hpp"
#include "support.hpp"

namespace locus::neuromod::testing {

inline constexpr cudaStream_t kStream =
    nullptr;  // the legacy default stream: ordered with cudaMemcpy
inline constexpr double kTolerance = 1e-5;
inline constexpr std::size_t kContexts = 3;

inline std::vector<float> random_values(std::size_t n, std::uint64_t seed, double scale = 1.0,
                                        double offset = 0.0) {
  std::vector<float> v(n);
  RandomStream stream(seed, 5);
  for (float& x : v) x = static_cast<float>(offset + scale * stream.normal());
  return v;
}

inline std::vector<std::int32_t> random_indices(std::size_t n, std::size_t bound,
                                                std::uint64_t seed) {
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
inline Floats poisoned(std::size_t n) {
  return Floats(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()));
}

inline void require_close(const std::vector<float>& device, const std::vector<float>& expected,
                          double tolerance = kTolerance) {
  REQUIRE(device.size() == expected.size());
  for (const float v : device) REQUIRE(std::isfinite(v));
  // A comparison of zeros would pass whatever the kernel does.
  CHECK(std::any_of(expected.begin(), expected.end(), [](float v) { return v != 0.0f; }));
  CHECK(relative_error(device, expected) < tolerance);
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

}  // namespace locus::neuromod::testing
