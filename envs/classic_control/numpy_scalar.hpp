#pragma once
// A float that remembers whether it is a numpy float32, a numpy float64 or a Python float, and
// does arithmetic and comparisons with numpy 2's promotion rules (NEP 50): a Python float is
// "weak" and takes the dtype of the numpy scalar it meets (cast to it first); two numpy scalars
// promote to the wider dtype; two Python floats stay Python (float64) floats.
//
// Gymnasium's classic-control code mixes all three (the state's dtype, the action's, and its own
// Python constants), and the result's rounding depends on which meets which; following the kinds
// is what keeps a locus env bit-identical for every action dtype Gymnasium accepts.

#include <cstdint>

namespace locus::envs {

struct NumpyScalar {
  enum class Kind : std::uint8_t { kPython, kFloat32, kFloat64 };

  double value = 0.0;
  Kind kind = Kind::kPython;

  static NumpyScalar python(double v) { return {v, Kind::kPython}; }
  static NumpyScalar float32(double v) { return {rounded(v, Kind::kFloat32), Kind::kFloat32}; }
  static NumpyScalar float64(double v) { return {v, Kind::kFloat64}; }

  static Kind promote(Kind a, Kind b) {
    if (a == Kind::kPython) return b;
    if (b == Kind::kPython) return a;
    return a == Kind::kFloat64 || b == Kind::kFloat64 ? Kind::kFloat64 : Kind::kFloat32;
  }
  static double rounded(double v, Kind kind) {
    return kind == Kind::kFloat32 ? static_cast<double>(static_cast<float>(v)) : v;
  }

  template <class Op>
  static NumpyScalar combine(NumpyScalar a, NumpyScalar b, Op op) {
    const Kind kind = promote(a.kind, b.kind);
    if (kind == Kind::kFloat32) {
      // float32 arithmetic: both operands cast to float32, the result rounded once.
      return {static_cast<double>(op(static_cast<float>(a.value), static_cast<float>(b.value))),
              kind};
    }
    return {op(a.value, b.value), kind};
  }
  // Comparisons see both operands as numpy does: cast to the promoted dtype.
  template <class Relation>
  static bool compare(NumpyScalar a, NumpyScalar b, Relation holds) {
    const Kind kind = promote(a.kind, b.kind);
    return holds(rounded(a.value, kind), rounded(b.value, kind));
  }

  friend NumpyScalar operator+(NumpyScalar a, NumpyScalar b) {
    return combine(a, b, [](auto x, auto y) { return x + y; });
  }
  friend NumpyScalar operator-(NumpyScalar a, NumpyScalar b) {
    return combine(a, b, [](auto x, auto y) { return x - y; });
  }
  friend NumpyScalar operator*(NumpyScalar a, NumpyScalar b) {
    return combine(a, b, [](auto x, auto y) { return x * y; });
  }
  friend bool operator<(NumpyScalar a, NumpyScalar b) {
    return compare(a, b, [](double x, double y) { return x < y; });
  }
  friend bool operator>(NumpyScalar a, NumpyScalar b) {
    return compare(a, b, [](double x, double y) { return x > y; });
  }
  friend bool operator>=(NumpyScalar a, NumpyScalar b) {
    return compare(a, b, [](double x, double y) { return x >= y; });
  }
  friend bool operator==(NumpyScalar a, NumpyScalar b) {
    return compare(a, b, [](double x, double y) { return x == y; });
  }
};

// Python's max(a, b) and min(a, b): the first argument unless the second is strictly beyond it,
// so the result keeps the kind of whichever argument is returned.
inline NumpyScalar python_max(NumpyScalar a, NumpyScalar b) {
  return b > a ? b : a;
}
inline NumpyScalar python_min(NumpyScalar a, NumpyScalar b) {
  return b < a ? b : a;
}

}  // namespace locus::envs
