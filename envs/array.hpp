#pragma once
// Arrays and values that cross the environment API: observations, actions and space samples.
//
// `Array` is a small owned n-d array with a runtime dtype (numpy's model, so that dtype rules such
// as "a float64 array is not in a float32 Box" can be expressed). `Value` is an Array, a tuple of
// Values or a dict of Values, mirroring what Gymnasium spaces produce.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "envs/errors.hpp"

namespace locus::envs {

enum class DType : std::uint8_t {
  kBool,
  kInt8,
  kUInt8,
  kInt16,
  kInt32,
  kInt64,
  kFloat32,
  kFloat64
};

std::size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);      // numpy's names: "float32", "int64", "bool", ...
DType dtype_from_name(std::string_view name);  // throws InvalidArgumentError naming the choices
bool is_floating(DType dtype);
bool is_integer(DType dtype);  // bool excluded
bool is_signed(DType dtype);
// numpy.can_cast(from, to, casting="safe").
bool can_cast_safely(DType from, DType to);

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, bool>)
    return DType::kBool;
  else if constexpr (std::is_same_v<T, std::int8_t>)
    return DType::kInt8;
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return DType::kUInt8;
  else if constexpr (std::is_same_v<T, std::int16_t>)
    return DType::kInt16;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return DType::kInt32;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return DType::kInt64;
  else if constexpr (std::is_same_v<T, float>)
    return DType::kFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::kFloat64;
  else
    static_assert(sizeof(T) == 0, "unsupported element type");
}

// Calls f(std::type_identity<T>{}) with T the element type of `dtype`, so that one generic lambda
// handles every dtype.
template <class F>
decltype(auto) visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kBool:
      return f(std::type_identity<bool>{});
    case DType::kInt8:
      return f(std::type_identity<std::int8_t>{});
    case DType::kUInt8:
      return f(std::type_identity<std::uint8_t>{});
    case DType::kInt16:
      return f(std::type_identity<std::int16_t>{});
    case DType::kInt32:
      return f(std::type_identity<std::int32_t>{});
    case DType::kInt64:
      return f(std::type_identity<std::int64_t>{});
    case DType::kFloat32:
      return f(std::type_identity<float>{});
    case DType::kFloat64:
      return f(std::type_identity<double>{});
  }
  throw InvalidArgumentError("invalid DType value " + std::to_string(static_cast<int>(dtype)));
}

using Shape = std::vector<std::int64_t>;
std::int64_t shape_size(const Shape& shape);      // product of dimensions (1 for a scalar)
std::string shape_to_string(const Shape& shape);  // numpy's tuple repr: "()", "(4,)", "(2, 3)"

// Converts `in` (elements of `from`) into `out` (elements of `to`) with astype's C-cast semantics;
// both spans must hold the same number of elements (throws BufferError otherwise). The spans need
// no particular alignment.
void cast_elements(DType from, std::span<const std::byte> in, DType to, std::span<std::byte> out);
// One double converted to T exactly as astype converts it (numpy on x86-64: NaN and out-of-range
// values become the integer minimum; 8- and 16-bit integers keep the low bits of the int32
// conversion; past the float32 range gives infinity). Defined for the eight element types.
template <class T>
T cast_double(double value);
// Python's repr() of a str ('key', or "it's"), as Gymnasium's Dict repr prints keys.
std::string py_repr(std::string_view text);

// Owned, contiguous, row-major array.
class Array {
 public:
  Array() : Array(DType::kFloat64, Shape{}) {}
  Array(DType dtype, Shape shape);  // zero-filled

  template <class T>
  static Array from_vector(const std::vector<T>& values, Shape shape) {
    if (static_cast<std::int64_t>(values.size()) != shape_size(shape)) {
      throw BufferError("Array: " + std::to_string(values.size()) + " values do not fill shape " +
                        shape_to_string(shape));
    }
    Array a(dtype_of<T>(), std::move(shape));
    if constexpr (std::is_same_v<T, bool>) {
      for (std::size_t i = 0; i < values.size(); ++i) a.bytes_[i] = std::byte(values[i] ? 1 : 0);
    } else if (!values.empty()) {
      std::memcpy(a.bytes_.data(), values.data(), values.size() * sizeof(T));
    }
    return a;
  }
  template <class T>
  static Array from_vector(const std::vector<T>& values) {
    return from_vector(values, Shape{static_cast<std::int64_t>(values.size())});
  }
  template <class T>
  static Array scalar(T value) {
    return from_vector(std::vector<T>{value}, Shape{});
  }
  // A copy of raw bytes laid out as `dtype` with `shape`.
  static Array from_bytes(DType dtype, Shape shape, std::span<const std::byte> bytes);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::int64_t ndim() const { return static_cast<std::int64_t>(shape_.size()); }
  std::int64_t size() const {
    return static_cast<std::int64_t>(bytes_.size() / dtype_size(dtype_));
  }
  std::size_t nbytes() const { return bytes_.size(); }
  std::span<std::byte> bytes() { return bytes_; }
  std::span<const std::byte> bytes() const { return bytes_; }

  // Typed views; the element type must be exactly the dtype (throws BufferError otherwise).
  template <class T>
  std::span<T> as() {
    check_type(dtype_of<std::remove_const_t<T>>());
    return {reinterpret_cast<T*>(bytes_.data()), bytes_.size() / sizeof(T)};
  }
  template <class T>
  std::span<const T> as() const {
    check_type(dtype_of<std::remove_const_t<T>>());
    return {reinterpret_cast<const T*>(bytes_.data()), bytes_.size() / sizeof(T)};
  }
  // Element `i` (flat index) converted to double / int64, whatever the dtype.
  double get_double(std::int64_t i) const;
  std::int64_t get_int(std::int64_t i) const;
  // A copy converted to another dtype (C cast semantics, as numpy's astype).
  Array astype(DType dtype) const;

  bool operator==(const Array& other) const;
  std::string to_string() const;  // numpy-like: "array([1., 2.], dtype=float32)" / "3"
  std::string to_str() const;     // numpy's str(): "[1. 2.]" / "3"

 private:
  void check_type(DType requested) const;
  DType dtype_;
  Shape shape_;
  std::vector<std::byte> bytes_;
};

class Value;
using ValueTuple = std::vector<Value>;
// Keys kept sorted, as Gymnasium's Dict space sorts them.
struct ValueDict {
  std::vector<std::string> keys;
  std::vector<Value> values;
  const Value* find(std::string_view key) const;
  void insert(std::string key, Value value);  // keeps keys sorted; replaces an existing key
  bool operator==(const ValueDict& other) const;
};

// An Array, a tuple of Values or a dict of Values.
class Value {
 public:
  Value() = default;
  Value(Array array) : data_(std::move(array)) {}  // NOLINT: implicit by design
  Value(ValueTuple tuple) : data_(std::move(tuple)) {}
  Value(ValueDict dict) : data_(std::move(dict)) {}

  bool is_array() const { return std::holds_alternative<Array>(data_); }
  bool is_tuple() const { return std::holds_alternative<ValueTuple>(data_); }
  bool is_dict() const { return std::holds_alternative<ValueDict>(data_); }
  const Array& array() const;  // throws BufferError naming the actual kind
  Array& array();
  const ValueTuple& tuple() const;
  const ValueDict& dict() const;

  bool operator==(const Value& other) const { return data_ == other.data_; }
  std::string to_string() const;

 private:
  std::variant<Array, ValueTuple, ValueDict> data_;
};

// One element of type T at `p`, which need not be aligned (a bool is one byte, 0 or 1).
template <class T>
T load_element(const std::byte* p) {
  if constexpr (std::is_same_v<T, bool>) {
    return *p != std::byte{0};
  } else {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  }
}
template <class T>
void store_element(std::byte* p, T v) {
  if constexpr (std::is_same_v<T, bool>) {
    *p = std::byte(v ? 1 : 0);
  } else {
    std::memcpy(p, &v, sizeof(T));
  }
}

// Typed view of a caller-provided byte buffer (the allocation-free path). Buffers handed out by
// locus are aligned for their element type.
template <class T>
std::span<T> as_span(std::span<std::byte> bytes) {
  return {reinterpret_cast<T*>(bytes.data()), bytes.size() / sizeof(T)};
}
template <class T>
std::span<const T> as_span(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
}

}  // namespace locus::envs
