#include "envs/array.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <type_traits>

namespace locus::envs {

namespace {

constexpr std::array<std::string_view, 8> kDTypeNames = {"bool",  "int8",  "uint8",   "int16",
                                                         "int32", "int64", "float32", "float64"};

// numpy on x86-64 converts floating values to integers with cvttsd2si: NaN and out-of-range values
// become the "integer indefinite" (the minimum), and the 8- and 16-bit types go through int32 and
// keep its low bits. Emulating that (instead of a C++ cast, undefined out of range) makes astype
// agree with numpy for every input.
std::int32_t truncate_to_int32(double v) {
  if (!(v > -2147483649.0 && v < 2147483648.0)) return std::numeric_limits<std::int32_t>::min();
  return static_cast<std::int32_t>(v);
}
std::int64_t truncate_to_int64(double v) {
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) {
    return std::numeric_limits<std::int64_t>::min();
  }
  return static_cast<std::int64_t>(v);
}

template <class To, class From>
To convert_value(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_same_v<To, float> && std::is_same_v<From, double>) {
    // Past FLT_MAX plus half an ulp IEEE rounding gives infinity; a C++ cast there is undefined.
    constexpr double kOverflow = 0x1.ffffffp127;
    if (v >= kOverflow) return std::numeric_limits<float>::infinity();
    if (v <= -kOverflow) return -std::numeric_limits<float>::infinity();
    return static_cast<float>(v);
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(v);
  } else if constexpr (std::is_floating_point_v<From>) {
    if constexpr (sizeof(To) == 8) {
      return static_cast<To>(truncate_to_int64(static_cast<double>(v)));
    } else {
      return static_cast<To>(truncate_to_int32(static_cast<double>(v)));
    }
  } else {
    return static_cast<To>(v);  // modular, as numpy's integer casts
  }
}

}  // namespace

template <class T>
T cast_double(double value) {
  return convert_value<T>(value);
}
template bool cast_double<bool>(double);
template std::int8_t cast_double<std::int8_t>(double);
template std::uint8_t cast_double<std::uint8_t>(double);
template std::int16_t cast_double<std::int16_t>(double);
template std::int32_t cast_double<std::int32_t>(double);
template std::int64_t cast_double<std::int64_t>(double);
template float cast_double<float>(double);
template double cast_double<double>(double);

namespace {

std::string rstrip(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string pad_left_to(std::string s, std::size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

// ---------------------------------------------------------------------------------------------
// Float formatting, following numpy's arrayprint (Dragon4 in "unique" mode, precision 8).

std::string shortest(double v, bool f32, std::chars_format format) {
  char buf[64];
  const auto result = f32 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v), format)
                          : std::to_chars(buf, buf + sizeof buf, v, format);
  return std::string(buf, result.ptr);
}

void strip_trailing_zeros(std::string& digits) {
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
}

// The shortest digits that identify `v` in its type, cut (and rounded) at `max_frac` fractional
// digits; numpy's dragon4_positional(unique=True, precision=max_frac, trim='.').
// Returns {integer part with sign, fractional digits}.
std::pair<std::string, std::string> positional_parts(double v, bool f32, int max_frac) {
  std::string s = shortest(v, f32, std::chars_format::fixed);
  auto dot = s.find('.');
  if (dot != std::string::npos && static_cast<int>(s.size() - dot - 1) > max_frac) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", max_frac, v);
    s = buf;
    dot = s.find('.');
  }
  if (dot == std::string::npos) return {s, ""};
  std::string frac = s.substr(dot + 1);
  strip_trailing_zeros(frac);
  return {s.substr(0, dot), frac};
}

struct SciParts {
  std::string int_part;  // "1" or "-1"
  std::string frac;      // fractional digits of the mantissa
  int exponent = 0;
};

// numpy's dragon4_scientific(unique=True, precision=max_frac, trim='.').
SciParts scientific_parts(double v, bool f32, int max_frac) {
  std::string s = shortest(v, f32, std::chars_format::scientific);
  auto e = s.find('e');
  std::string mantissa = s.substr(0, e);
  auto dot = mantissa.find('.');
  if (dot != std::string::npos && static_cast<int>(mantissa.size() - dot - 1) > max_frac) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*e", max_frac, v);
    s = buf;
    e = s.find('e');
    mantissa = s.substr(0, e);
    dot = mantissa.find('.');
  }
  SciParts parts;
  parts.exponent = std::stoi(s.substr(e + 1));
  if (dot == std::string::npos) {
    parts.int_part = mantissa;
  } else {
    parts.int_part = mantissa.substr(0, dot);
    parts.frac = mantissa.substr(dot + 1);
    strip_trailing_zeros(parts.frac);
  }
  return parts;
}

std::string exponent_text(int exponent, std::size_t digits) {
  std::string d = std::to_string(exponent < 0 ? -exponent : exponent);
  if (d.size() < digits) d.insert(0, digits - d.size(), '0');
  return std::string(exponent < 0 ? "e-" : "e+") + d;
}

// A numpy float scalar's str(): positional between 1e-4 and a per-type limit, else scientific.
std::string float_scalar_str(double v, bool f32) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  const double a = std::fabs(v);
  const double upper = f32 ? 1e6 : 1e16;
  if (a == 0 || (a >= 1e-4 && a < upper)) {
    std::string s = shortest(v, f32, std::chars_format::fixed);
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  }
  return shortest(v, f32, std::chars_format::scientific);
}

// numpy's FloatingFormat for an array (floatmode "maxprec", precision 8, sign '-').
class FloatFormat {
 public:
  FloatFormat(const std::vector<double>& data, bool f32) : f32_(f32) {
    std::vector<double> finite;
    for (double v : data) {
      if (std::isfinite(v)) finite.push_back(v);
    }
    double max_val = 0;
    double min_val = std::numeric_limits<double>::infinity();
    bool any_nonzero = false;
    for (double v : finite) {
      if (v == 0) continue;
      any_nonzero = true;
      max_val = std::max(max_val, std::fabs(v));
      min_val = std::min(min_val, std::fabs(v));
    }
    if (any_nonzero) {
      // 10 ** min(8, finfo(dtype).precision): 1e6 for float32, 1e8 for float64.
      const double cutoff = f32 ? 1e6 : 1e8;
      exp_format_ = max_val >= cutoff || min_val < 0.0001 || max_val / min_val > 1000.0;
    }
    if (finite.empty()) {
      pad_left_ = pad_right_ = 0;
    } else if (exp_format_) {
      std::size_t exp_digits = 0;
      for (double v : finite) {
        const SciParts p = scientific_parts(v, f32_, kPrecision);
        exp_digits = std::max(exp_digits, std::to_string(std::abs(p.exponent)).size());
        precision_ = std::max(precision_, static_cast<int>(p.frac.size()));
        pad_left_ = std::max(pad_left_, p.int_part.size());
      }
      exp_size_ = std::max<std::size_t>(exp_digits, 2);
      pad_right_ = exp_size_ + 2 + static_cast<std::size_t>(precision_);
    } else {
      for (double v : finite) {
        const auto [int_part, frac] = positional_parts(v, f32_, kPrecision);
        pad_left_ = std::max(pad_left_, int_part.size());
        pad_right_ = std::max(pad_right_, frac.size());
      }
    }
    if (finite.size() != data.size()) {
      bool neginf = false;
      for (double v : data) neginf = neginf || (std::isinf(v) && v < 0);
      const long offset = static_cast<long>(pad_right_) + 1;
      const long needed = std::max(3 - offset, 3 + (neginf ? 1 : 0) - offset);
      pad_left_ = std::max(pad_left_, static_cast<std::size_t>(std::max(0L, needed)));
    }
  }

  std::string operator()(double v) const {
    if (!std::isfinite(v)) {
      const std::string text = std::isnan(v) ? "nan" : (v < 0 ? "-inf" : "inf");
      return pad_left_to(text, pad_left_ + pad_right_ + 1);
    }
    if (exp_format_) {
      // Every value prints with the same number of digits: Dragon4's min_digits continues with
      // the exact value's digits (not zeros) past the shortest unique ones, as %.*e does.
      SciParts p = scientific_parts(v, f32_, precision_);
      if (static_cast<int>(p.frac.size()) < precision_) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*e", precision_, v);
        const std::string s = buf;
        const auto dot = s.find('.');
        const auto e = s.find('e');
        p.int_part = s.substr(0, dot == std::string::npos ? e : dot);
        p.frac = dot == std::string::npos ? "" : s.substr(dot + 1, e - dot - 1);
        p.exponent = std::stoi(s.substr(e + 1));
      }
      return pad_left_to(p.int_part, pad_left_) + "." + p.frac +
             exponent_text(p.exponent, exp_size_);
    }
    auto [int_part, frac] = positional_parts(v, f32_, kPrecision);
    frac.resize(std::max(frac.size(), pad_right_), ' ');
    return pad_left_to(int_part, pad_left_) + "." + frac;
  }

 private:
  static constexpr int kPrecision = 8;
  bool f32_;
  bool exp_format_ = false;
  std::size_t pad_left_ = 0;
  std::size_t pad_right_ = 0;
  std::size_t exp_size_ = 0;
  int precision_ = 0;
};

// ---------------------------------------------------------------------------------------------
// numpy's _formatArray: nested brackets, line wrapping at 75 columns, and "..." summaries of
// arrays with more than 1000 elements (3 edge items per axis).

constexpr std::int64_t kThreshold = 1000;
constexpr std::int64_t kEdgeItems = 3;
constexpr std::size_t kLineWidth = 75;

class ArrayPrinter {
 public:
  ArrayPrinter(const Array& array, std::string separator)
      : array_(array), separator_(std::move(separator)) {
    const Shape& shape = array.shape();
    strides_.assign(shape.size(), 1);
    for (std::size_t i = shape.size(); i-- > 1;) strides_[i - 1] = strides_[i] * shape[i];
    summarize_ = array.size() > kThreshold;
    std::vector<std::int64_t> shown;
    collect(0, 0, shown);
    build_formatter(shown);
  }

  bool summarized() const { return summarize_; }

  std::string format(std::size_t line_width, const std::string& next_line_prefix) const {
    return recurse(0, 0, next_line_prefix, line_width);
  }

 private:
  bool shows_summary(std::size_t axis) const {
    return summarize_ && 2 * kEdgeItems < array_.shape()[axis];
  }

  void collect(std::size_t axis, std::int64_t offset, std::vector<std::int64_t>& out) const {
    if (axis == array_.shape().size()) {
      out.push_back(offset);
      return;
    }
    const std::int64_t n = array_.shape()[axis];
    for (std::int64_t i = 0; i < n; ++i) {
      if (shows_summary(axis) && i == kEdgeItems) i = n - kEdgeItems;
      collect(axis + 1, offset + i * strides_[axis], out);
    }
  }

  void build_formatter(const std::vector<std::int64_t>& shown) {
    const DType dtype = array_.dtype();
    if (dtype == DType::kBool) {
      element_ = [this](std::int64_t i) {
        return std::string(array_.get_int(i) != 0 ? " True" : "False");
      };
    } else if (is_floating(dtype)) {
      std::vector<double> values;
      values.reserve(shown.size());
      for (auto i : shown) values.push_back(array_.get_double(i));
      auto format = std::make_shared<FloatFormat>(values, dtype == DType::kFloat32);
      element_ = [this, format](std::int64_t i) { return (*format)(array_.get_double(i)); };
    } else {
      std::size_t width = 0;
      for (auto i : shown) width = std::max(width, std::to_string(array_.get_int(i)).size());
      element_ = [this, width](std::int64_t i) {
        return pad_left_to(std::to_string(array_.get_int(i)), width);
      };
    }
  }

  static void extend_line(std::string& s, std::string& line, const std::string& word,
                          std::size_t line_width, const std::string& next_line_prefix) {
    bool needs_wrap = line.size() + word.size() > line_width;
    if (line.size() <= next_line_prefix.size()) needs_wrap = false;  // wrapping would not help
    if (needs_wrap) {
      s += rstrip(line) + "\n";
      line = next_line_prefix;
    }
    line += word;
  }

  std::string recurse(std::size_t axis, std::int64_t offset, const std::string& hanging,
                      std::size_t width) const {
    const std::size_t ndim = array_.shape().size();
    if (axis == ndim) return element_(offset);
    const std::string next_hanging = hanging + " ";
    const std::size_t next_width = width - 1;
    const std::int64_t n = array_.shape()[axis];
    const bool summary = shows_summary(axis);
    const std::int64_t leading = summary ? kEdgeItems : 0;
    const std::int64_t trailing = summary ? kEdgeItems : n;
    const std::int64_t stride = strides_[axis];
    const std::string sep_stripped = rstrip(separator_);
    std::string s;
    if (ndim - axis == 1) {
      const std::size_t elem_width = width - std::max<std::size_t>(sep_stripped.size(), 1);
      std::string line = hanging;
      for (std::int64_t i = 0; i < leading; ++i) {
        extend_line(s, line, recurse(axis + 1, offset + i * stride, next_hanging, next_width),
                    elem_width, hanging);
        line += separator_;
      }
      if (summary) {
        extend_line(s, line, "...", elem_width, hanging);
        line += separator_;
      }
      for (std::int64_t i = trailing; i > 1; --i) {
        extend_line(s, line, recurse(axis + 1, offset + (n - i) * stride, next_hanging, next_width),
                    elem_width, hanging);
        line += separator_;
      }
      extend_line(s, line, recurse(axis + 1, offset + (n - 1) * stride, next_hanging, next_width),
                  elem_width, hanging);
      s += line;
    } else {
      const std::string line_sep = sep_stripped + std::string(ndim - axis - 1, '\n');
      for (std::int64_t i = 0; i < leading; ++i) {
        s += hanging + recurse(axis + 1, offset + i * stride, next_hanging, next_width) + line_sep;
      }
      if (summary) s += hanging + "..." + line_sep;
      for (std::int64_t i = trailing; i > 1; --i) {
        s += hanging + recurse(axis + 1, offset + (n - i) * stride, next_hanging, next_width) +
             line_sep;
      }
      s += hanging + recurse(axis + 1, offset + (n - 1) * stride, next_hanging, next_width);
    }
    return "[" + s.substr(hanging.size()) + "]";
  }

  const Array& array_;
  std::string separator_;
  std::vector<std::int64_t> strides_;
  bool summarize_ = false;
  std::function<std::string(std::int64_t)> element_;
};

std::string scalar_str(const Array& a) {
  switch (a.dtype()) {
    case DType::kBool:
      return a.get_int(0) != 0 ? "True" : "False";
    case DType::kFloat32:
      return float_scalar_str(a.get_double(0), true);
    case DType::kFloat64:
      return float_scalar_str(a.get_double(0), false);
    default:
      return std::to_string(a.get_int(0));
  }
}

}  // namespace

std::size_t dtype_size(DType dtype) {
  return visit_dtype(dtype, [](auto tag) { return sizeof(typename decltype(tag)::type); });
}

std::string_view dtype_name(DType dtype) {
  const auto i = static_cast<std::size_t>(dtype);
  if (i >= kDTypeNames.size()) {
    throw InvalidArgumentError("invalid DType value " + std::to_string(i));
  }
  return kDTypeNames[i];
}

DType dtype_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kDTypeNames.size(); ++i) {
    if (kDTypeNames[i] == name) return static_cast<DType>(i);
  }
  std::string choices;
  for (auto n : kDTypeNames) choices += (choices.empty() ? "" : ", ") + std::string(n);
  throw InvalidArgumentError("unknown dtype '" + std::string(name) + "'; expected one of " +
                             choices);
}

bool is_floating(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat64;
}

bool is_integer(DType dtype) {
  return dtype != DType::kBool && !is_floating(dtype);
}

bool is_signed(DType dtype) {
  return dtype != DType::kBool && dtype != DType::kUInt8;
}

bool can_cast_safely(DType from, DType to) {
  if (from == to || from == DType::kBool) return true;
  switch (from) {
    case DType::kInt8:
      return to == DType::kInt16 || to == DType::kInt32 || to == DType::kInt64 ||
             to == DType::kFloat32 || to == DType::kFloat64;
    case DType::kUInt8:
      return to == DType::kInt16 || to == DType::kInt32 || to == DType::kInt64 ||
             to == DType::kFloat32 || to == DType::kFloat64;
    case DType::kInt16:
      return to == DType::kInt32 || to == DType::kInt64 || to == DType::kFloat32 ||
             to == DType::kFloat64;
    case DType::kInt32:  // float32's 24-bit mantissa cannot hold every int32
      return to == DType::kInt64 || to == DType::kFloat64;
    case DType::kInt64:
      return to == DType::kFloat64;
    case DType::kFloat32:
      return to == DType::kFloat64;
    default:
      return false;
  }
}

std::int64_t shape_size(const Shape& shape) {
  // Past 2^40 elements no space or batch is meant, and the product could overflow int64.
  constexpr std::int64_t kMaxElements = std::int64_t{1} << 40;
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) {
      throw InvalidArgumentError("shape " + shape_to_string(shape) +
                                 " has a negative dimension; dimensions must be >= 0");
    }
    if (d != 0 && n > kMaxElements / d) {
      throw InvalidArgumentError("shape " + shape_to_string(shape) +
                                 " has more than 2^40 elements; no space can be that large");
    }
    n *= d;
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

std::string py_repr(std::string_view text) {
  const bool has_single = text.find('\'') != std::string_view::npos;
  const bool has_double = text.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string s(1, quote);
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      s += '\\';
      s += c;
    } else if (c == '\n') {
      s += "\\n";
    } else if (c == '\r') {
      s += "\\r";
    } else if (c == '\t') {
      s += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      s += buf;
    } else {
      s += c;
    }
  }
  return s + quote;
}

void cast_elements(DType from, std::span<const std::byte> in, DType to, std::span<std::byte> out) {
  const std::size_t n = in.size() / dtype_size(from);
  if (in.size() % dtype_size(from) != 0 || out.size() != n * dtype_size(to)) {
    throw BufferError("cast_elements: " + std::to_string(in.size()) + " bytes of " +
                      std::string(dtype_name(from)) + " do not match " +
                      std::to_string(out.size()) + " bytes of " + std::string(dtype_name(to)));
  }
  if (from == to) {
    if (n > 0) std::memcpy(out.data(), in.data(), in.size());
    return;
  }
  visit_dtype(from, [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    visit_dtype(to, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      for (std::size_t i = 0; i < n; ++i) {
        store_element<To>(out.data() + i * sizeof(To),
                          convert_value<To>(load_element<From>(in.data() + i * sizeof(From))));
      }
    });
  });
}

Array::Array(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  bytes_.resize(static_cast<std::size_t>(shape_size(shape_)) * dtype_size(dtype_));
}

Array Array::from_bytes(DType dtype, Shape shape, std::span<const std::byte> bytes) {
  Array a(dtype, std::move(shape));
  if (bytes.size() != a.bytes_.size()) {
    throw BufferError("Array::from_bytes: " + std::to_string(bytes.size()) + " bytes given, " +
                      std::string(dtype_name(dtype)) + " with shape " + shape_to_string(a.shape_) +
                      " needs " + std::to_string(a.bytes_.size()));
  }
  if (!bytes.empty()) std::memcpy(a.bytes_.data(), bytes.data(), bytes.size());
  return a;
}

void Array::check_type(DType requested) const {
  if (requested != dtype_) {
    throw BufferError("Array holds " + std::string(dtype_name(dtype_)) + ", requested " +
                      std::string(dtype_name(requested)));
  }
}

double Array::get_double(std::int64_t i) const {
  if (i < 0 || i >= size()) {
    throw BufferError("Array: index " + std::to_string(i) + " out of range for size " +
                      std::to_string(size()));
  }
  return visit_dtype(dtype_, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return convert_value<double>(
        load_element<T>(bytes_.data() + static_cast<std::size_t>(i) * sizeof(T)));
  });
}

std::int64_t Array::get_int(std::int64_t i) const {
  if (i < 0 || i >= size()) {
    throw BufferError("Array: index " + std::to_string(i) + " out of range for size " +
                      std::to_string(size()));
  }
  return visit_dtype(dtype_, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return convert_value<std::int64_t>(
        load_element<T>(bytes_.data() + static_cast<std::size_t>(i) * sizeof(T)));
  });
}

Array Array::astype(DType dtype) const {
  Array out(dtype, shape_);
  cast_elements(dtype_, bytes_, dtype, out.bytes_);
  return out;
}

bool Array::operator==(const Array& other) const {
  return dtype_ == other.dtype_ && shape_ == other.shape_ && bytes_ == other.bytes_;
}

std::string Array::to_str() const {
  if (shape_.empty()) return scalar_str(*this);
  if (size() == 0) return "[]";
  ArrayPrinter printer(*this, " ");
  return printer.format(kLineWidth, " ");
}

std::string Array::to_string() const {
  if (shape_.empty()) return scalar_str(*this);
  const std::string prefix = "array(";
  std::string lst;
  bool summarized = false;
  if (size() == 0) {
    lst = "[]";
  } else {
    ArrayPrinter printer(*this, ", ");
    summarized = printer.summarized();
    // The closing ")" is reserved on the last line, as numpy's suffix argument does.
    lst = printer.format(kLineWidth - 1, std::string(prefix.size() + 1, ' '));
  }
  std::vector<std::string> extras;
  if ((size() == 0 && shape_ != Shape{0}) || summarized) {
    extras.push_back("shape=" + shape_to_string(shape_));
  }
  const bool dtype_implied =
      dtype_ == DType::kFloat64 || dtype_ == DType::kInt64 || dtype_ == DType::kBool;
  if (!dtype_implied || size() == 0) {
    extras.push_back("dtype=" + std::string(dtype_name(dtype_)));
  }
  if (extras.empty()) return prefix + lst + ")";
  const std::string arr_str = prefix + lst + ",";
  std::string extra_str;
  for (const auto& e : extras) extra_str += (extra_str.empty() ? "" : ", ") + e;
  extra_str += ")";
  const auto newline = arr_str.rfind('\n');
  const std::size_t last_line_len =
      newline == std::string::npos ? arr_str.size() : arr_str.size() - newline - 1;
  const std::string spacer = last_line_len + extra_str.size() + 1 > kLineWidth
                                 ? "\n" + std::string(prefix.size(), ' ')
                                 : std::string(" ");
  return arr_str + spacer + extra_str;
}

// ---------------------------------------------------------------------------------------------

const Value* ValueDict::find(std::string_view key) const {
  const auto it = std::lower_bound(keys.begin(), keys.end(), key,
                                   [](const std::string& a, std::string_view b) { return a < b; });
  if (it == keys.end() || *it != key) return nullptr;
  return &values[static_cast<std::size_t>(it - keys.begin())];
}

void ValueDict::insert(std::string key, Value value) {
  const auto it = std::lower_bound(keys.begin(), keys.end(), key);
  const auto index = it - keys.begin();
  if (it != keys.end() && *it == key) {
    values[static_cast<std::size_t>(index)] = std::move(value);
    return;
  }
  keys.insert(it, std::move(key));
  values.insert(values.begin() + index, std::move(value));
}

bool ValueDict::operator==(const ValueDict& other) const {
  return keys == other.keys && values == other.values;
}

namespace {
const char* value_kind(const Value& v) {
  return v.is_array() ? "an array" : v.is_tuple() ? "a tuple" : "a dict";
}
}  // namespace

const Array& Value::array() const {
  if (!is_array())
    throw BufferError(std::string("Value holds ") + value_kind(*this) + ", not an array");
  return std::get<Array>(data_);
}

Array& Value::array() {
  if (!is_array())
    throw BufferError(std::string("Value holds ") + value_kind(*this) + ", not an array");
  return std::get<Array>(data_);
}

const ValueTuple& Value::tuple() const {
  if (!is_tuple())
    throw BufferError(std::string("Value holds ") + value_kind(*this) + ", not a tuple");
  return std::get<ValueTuple>(data_);
}

const ValueDict& Value::dict() const {
  if (!is_dict())
    throw BufferError(std::string("Value holds ") + value_kind(*this) + ", not a dict");
  return std::get<ValueDict>(data_);
}

std::string Value::to_string() const {
  if (is_array()) return array().to_string();
  std::string s;
  if (is_tuple()) {
    const auto& t = tuple();
    s = "(";
    for (std::size_t i = 0; i < t.size(); ++i) s += (i > 0 ? ", " : "") + t[i].to_string();
    return s + (t.size() == 1 ? ",)" : ")");
  }
  const auto& d = dict();
  s = "{";
  for (std::size_t i = 0; i < d.keys.size(); ++i) {
    s += (i > 0 ? ", " : "") + py_repr(d.keys[i]) + ": " + d.values[i].to_string();
  }
  return s + "}";
}

}  // namespace locus::envs
