#pragma once
// numpy's float32 sin and cos, bit for bit.
//
// np.sin / np.cos on float32 values do not call the C library where the CPU has fused
// multiply-add (numpy's x86-64 builds dispatch to it on every AVX2 machine): they reduce the
// argument by Cody-Waite's method and evaluate short minimax polynomials
// (numpy/_core/src/umath/loops_trigonometric.dispatch.cpp, simd_sincos_f32). The results are
// within 1.5 ulp but differ from glibc's correctly rounded sinf/cosf in the last bit for about
// 0.03 % of arguments, which made Acrobot's first observation differ from Gymnasium's for ~1 % of
// seeds. Arguments beyond Cody-Waite's range (and infinities) go to the C library, as in numpy.
// tests/envs/test_gymnasium_compat.cpp and python/tests/test_gymnasium_compat.py check these
// against numpy.

namespace locus::envs {

float numpy_sin_float32(float x);
float numpy_cos_float32(float x);

}  // namespace locus::envs
