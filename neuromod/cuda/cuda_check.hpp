#pragma once
// Error checks for CUDA runtime and cuBLAS calls: every call and every launch of the CUDA backend
// goes through these, so a failure surfaces as locus::neuromod::DeviceError naming the call, the
// file and line, and CUDA's own message (plus the sizes where the caller adds them).

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string>

#include "neuromod/errors.hpp"

namespace locus::neuromod::cuda {

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* call, const char* file,
                                          int line) {
  throw DeviceError(std::string("CUDA call ") + call + " failed at " + file + ":" +
                    std::to_string(line) + ": " + cudaGetErrorName(status) + " (" +
                    cudaGetErrorString(status) + ")");
}

[[noreturn]] inline void throw_cublas_error(cublasStatus_t status, const char* call,
                                            const char* file, int line) {
  throw DeviceError(std::string("cuBLAS call ") + call + " failed at " + file + ":" +
                    std::to_string(line) + ": " + cublasGetStatusName(status) + " (" +
                    cublasGetStatusString(status) + ")");
}

}  // namespace locus::neuromod::cuda

#define LOCUS_CUDA_CHECK(call)                                                             \
  do {                                                                                     \
    const cudaError_t locus_status_ = (call);                                              \
    if (locus_status_ != cudaSuccess) {                                                    \
      ::locus::neuromod::cuda::throw_cuda_error(locus_status_, #call, __FILE__, __LINE__); \
    }                                                                                      \
  } while (false)

// After a kernel launch: a bad configuration shows up in cudaGetLastError.
#define LOCUS_CUDA_CHECK_LAUNCH(kernel_name)                                              \
  do {                                                                                    \
    const cudaError_t locus_status_ = cudaGetLastError();                                 \
    if (locus_status_ != cudaSuccess) {                                                   \
      ::locus::neuromod::cuda::throw_cuda_error(locus_status_, "launch of " #kernel_name, \
                                                __FILE__, __LINE__);                      \
    }                                                                                     \
  } while (false)

#define LOCUS_CUBLAS_CHECK(call)                                                             \
  do {                                                                                       \
    const cublasStatus_t locus_status_ = (call);                                             \
    if (locus_status_ != CUBLAS_STATUS_SUCCESS) {                                            \
      ::locus::neuromod::cuda::throw_cublas_error(locus_status_, #call, __FILE__, __LINE__); \
    }                                                                                        \
  } while (false)
