#pragma once
// Which OpenBLAS kernels this process runs. OpenBLAS picks its kernels when it is loaded, from the
// CPU model it knows; a CPU newer than the library (Debian 12's OpenBLAS 0.3.21 on Sapphire or
// Emerald Rapids) gets its generic SSE3 kernels ("Prescott"), 2-3x slower on the small products
// of recurrent layers. The environment variable OPENBLAS_CORETYPE (e.g. SkylakeX), read at load
// time, selects others. locus does not set it for the user: kernels change the rounding, and a
// sweep run by the command line must equal the same sweep run through the library or Python.
// `locus --version` names the kernels in use; docs/build.md, "OpenBLAS kernels", says when to
// set it.

#include <string>

namespace locus::neuromod {

// The OpenBLAS kernel family in use ("Prescott", "SkylakeX", ...); empty without OpenBLAS.
std::string openblas_kernels();

}  // namespace locus::neuromod
