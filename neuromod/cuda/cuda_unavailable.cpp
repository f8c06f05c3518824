// The CUDA entry points of a build without nvcc (LOCUS_CUDA=OFF, or AUTO without a CUDA toolkit):
// every caller compiles and links the same way, cuda_available() is false, and asking for the CUDA
// backend explains how to get it.

#include <fmt/format.h>

#include "neuromod/cuda/cuda_network.hpp"
#include "neuromod/errors.hpp"

namespace locus::neuromod {

namespace {
[[noreturn]] void built_without_cuda(const char* what) {
  throw InvalidArgumentError(fmt::format(
      "{}: locus was built without CUDA (CMake found no nvcc); install the CUDA toolkit and "
      "configure with -DLOCUS_CUDA=ON, or use the cpu backend",
      what));
}
}  // namespace

template <typename T>
DeviceArray<T>::DeviceArray(std::size_t count) {
  if (count > 0) built_without_cuda("DeviceArray");
}
template <typename T>
DeviceArray<T>::~DeviceArray() = default;
template <typename T>
DeviceArray<T>::DeviceArray(DeviceArray&& other) noexcept
    : data_(other.data_), size_(other.size_) {}
template <typename T>
DeviceArray<T>& DeviceArray<T>::operator=(DeviceArray&&) noexcept {
  return *this;
}
template <typename T>
void DeviceArray<T>::upload(std::span<const T> host) {
  if (!host.empty()) built_without_cuda("DeviceArray::upload");
}
template <typename T>
std::vector<T> DeviceArray<T>::download() const {
  return {};
}

template class DeviceArray<float>;
template class DeviceArray<double>;
template class DeviceArray<std::int32_t>;
template class DeviceArray<std::int64_t>;

bool cuda_available() {
  return false;
}

int cuda_device_count() {
  return 0;
}

void use_cuda_device(int /*device*/) {
  built_without_cuda("use_cuda_device");
}

std::string cuda_status() {
  return "locus was built without CUDA (no nvcc when CMake configured the build)";
}

std::unique_ptr<CudaNetwork> make_cuda_network(const NetworkSpec&) {
  built_without_cuda("make_network(..., cuda)");
}

CudaNetwork& as_cuda(Network& network) {
  throw InvalidArgumentError(
      fmt::format("network '{}' runs on the {} backend, not on cuda (this "
                  "build has no CUDA backend)",
                  network.spec().name, to_string(network.backend())));
}

}  // namespace locus::neuromod
