#pragma once
// Growing scratch buffers of the CUDA backend (cuda_network.cpp, cuda_recurrent.cpp).

#include <algorithm>
#include <cstddef>

#include "neuromod/cuda/cuda_network.hpp"

namespace locus::neuromod::cuda {

// A device buffer that only grows; its contents are not kept when it grows.
template <typename T>
T* ensure(DeviceArray<T>& array, std::size_t count) {
  if (array.size() < count)
    array = DeviceArray<T>(std::max(count, array.size() + array.size() / 2));
  return array.data();
}

}  // namespace locus::neuromod::cuda
