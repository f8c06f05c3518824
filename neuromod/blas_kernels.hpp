#pragma once
// Which OpenBLAS kernels this process runs. OpenBLAS picks its kernels when it is loaded, from the
// CPU model it knows; a CPU newer than the library (Debian 12's OpenBLAS 0.3.21 on Sapphire or
// Emerald Rapids) gets its generic SSE3 kernels ("Prescott"), 2-3x slower on the small products
// of recurrent layers. OPENBLAS_CORETYPE, read at load time, selects the right ones; a program
// can only set it for a process it starts (the `locus` command re-executes itself once, the
// Python package sets it before loading its module).

#include <string>

namespace locus::neuromod {

// The OpenBLAS kernel family in use ("Prescott", "SkylakeX", ...); empty without OpenBLAS.
std::string openblas_kernels();

// When OpenBLAS fell back to its generic kernels on a CPU with AVX-512 ("SkylakeX") or AVX2
// ("Haswell"), that OPENBLAS_CORETYPE value; empty when the kernels fit the CPU, when
// OPENBLAS_CORETYPE is already set, or without OpenBLAS.
std::string better_openblas_coretype();

}  // namespace locus::neuromod
