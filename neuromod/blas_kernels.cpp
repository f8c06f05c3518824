#include "neuromod/blas_kernels.hpp"

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

}  // namespace locus::neuromod
