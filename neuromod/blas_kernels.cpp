#include "neuromod/blas_kernels.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#ifdef LOCUS_HAVE_OPENBLAS
extern "C" char* openblas_get_corename(void);
#endif

namespace locus::neuromod {

std::string openblas_kernels() {
#ifdef LOCUS_HAVE_OPENBLAS
  const char* name = openblas_get_corename();
  return name != nullptr ? name : "";
#else
  return "";
#endif
}

std::string better_openblas_coretype() {
#if defined(LOCUS_HAVE_OPENBLAS) && (defined(__x86_64__) || defined(__i386__))
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return "";
  std::string kernels = openblas_kernels();
  std::transform(kernels.begin(), kernels.end(), kernels.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // The generic x86-64 fallbacks of OpenBLAS's dynamic architecture detection.
  if (kernels != "prescott" && kernels != "core2" && kernels != "nehalem") return "";
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl")) {
    return "SkylakeX";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return "";
}

}  // namespace locus::neuromod
