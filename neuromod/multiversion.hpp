#pragma once
// LOCUS_MULTIVERSION compiles a function for AVX-512, AVX2 and the baseline, and the best version
// the CPU supports is picked when the program starts (GCC's function multiversioning): the build
// stays portable. This library uses no fused multiply-add (-ffp-contract=off) and no
// reassociation, so every version of a loop gives the same bits.
// (Not under ThreadSanitizer: the versions are chosen by ifunc resolvers that run before TSan's
// runtime is set up, and crash there.)

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define LOCUS_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LOCUS_MULTIVERSION
#endif
