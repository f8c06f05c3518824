#include "envs/space.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <type_traits>

#include "util/memory.hpp"

namespace locus::envs {

using nlohmann::json;

namespace {

constexpr std::size_t align8(std::size_t n) {
  return (n + 7) / 8 * 8;
}

// Gymnasium's Tuple and Dict draw child seeds with np_random.integers(np.iinfo(np.int32).max).
constexpr std::int64_t kSubseedHigh = std::numeric_limits<std::int32_t>::max();

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// The double nearest to the shortest decimal of a float32 value: 0.1f is written as 0.1 rather
// than 0.10000000149011612, and still reads back as the same float32.
double float32_decimal(double v) {
  char buf[64];
  const auto end = std::to_chars(buf, buf + sizeof buf, static_cast<float>(v)).ptr;
  double out = v;
  std::from_chars(buf, end, out);
  return out;
}

std::uint64_t entropy_seed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) | device();
}

// A double bound as int64, saturating: int64's maximum is not a double, so a bound stored as
// 2^63 stands for it.
std::int64_t saturate_int64(double v) {
  if (v >= 9223372036854775808.0) return std::numeric_limits<std::int64_t>::max();
  if (v <= -9223372036854775808.0) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(v);
}

void check_packed_size(std::size_t got, std::size_t expected, const Space& space,
                       const char* method) {
  if (got != expected) {
    throw BufferError(space.to_string() + "." + method + ": buffer of " + std::to_string(got) +
                      " bytes, the packed layout needs " + std::to_string(expected));
  }
}

const Array& expect_array(const Value& value, const Space& space) {
  if (!value.is_array()) {
    throw BufferError(space.to_string() + ".pack: expected an array, got a " +
                      (value.is_tuple() ? "tuple" : "dict"));
  }
  return value.array();
}

void expect_shape(const Array& a, const Shape& shape, const Space& space) {
  if (a.shape() != shape) {
    throw BufferError(space.to_string() + ".pack: expected shape " + shape_to_string(shape) +
                      ", got " + shape_to_string(a.shape()));
  }
}

void expect_safe_cast(const Array& a, DType to, const Space& space) {
  if (!can_cast_safely(a.dtype(), to)) {
    throw BufferError(space.to_string() + ".pack: dtype " + std::string(dtype_name(a.dtype())) +
                      " cannot be cast safely to " + std::string(dtype_name(to)));
  }
}

// x in [start, start + n) without overflowing int64.
bool in_discrete_range(std::int64_t x, std::int64_t start, std::int64_t n) {
  return x >= start && static_cast<std::uint64_t>(x) - static_cast<std::uint64_t>(start) <
                           static_cast<std::uint64_t>(n);
}

}  // namespace

// --- Space -------------------------------------------------------------------------------------

Space::Space(const Space& other)
    : rng_(other.rng_ ? std::make_unique<Rng>(*other.rng_) : nullptr) {}

Space& Space::operator=(const Space& other) {
  if (this != &other) rng_ = other.rng_ ? std::make_unique<Rng>(*other.rng_) : nullptr;
  return *this;
}

std::vector<std::uint64_t> Space::seed(std::optional<std::uint64_t> seed) {
  const std::uint64_t s = seed ? *seed : entropy_seed();
  rng_ = std::make_unique<Rng>(s);
  return {s};
}

Rng& Space::np_random() {
  // Not through seed(): a composite's seed() reseeds its children instead of itself.
  if (!rng_) rng_ = std::make_unique<Rng>(entropy_seed());
  return *rng_;
}

void Space::sample_packed(std::span<std::byte> out) {
  check_packed_size(out.size(), packed_bytes(), *this, "sample_packed");
  pack(sample(), out);
}

// --- Discrete ----------------------------------------------------------------------------------

Discrete::Discrete(std::int64_t n, std::int64_t start) : n_(n), start_(start) {
  if (n <= 0) {
    throw InvalidArgumentError("Discrete(n=" + std::to_string(n) + "): n must be positive");
  }
  if (start > std::numeric_limits<std::int64_t>::max() - (n - 1)) {
    throw InvalidArgumentError("Discrete(n=" + std::to_string(n) + ", start=" +
                               std::to_string(start) + "): start + n - 1 overflows int64");
  }
}

Value Discrete::sample() {
  return Array::scalar<std::int64_t>(start_ + np_random().integers(n_));
}

Value Discrete::sample_masked(std::span<const std::int8_t> mask) {
  if (static_cast<std::int64_t>(mask.size()) != n_) {
    throw InvalidArgumentError(to_string() + ".sample_masked: mask has " +
                               std::to_string(mask.size()) + " entries, expected " +
                               std::to_string(n_));
  }
  std::vector<std::int64_t> valid;
  for (std::size_t i = 0; i < mask.size(); ++i) {
    if (mask[i] == 1) {
      valid.push_back(static_cast<std::int64_t>(i));
    } else if (mask[i] != 0) {
      throw InvalidArgumentError(to_string() + ".sample_masked: mask[" + std::to_string(i) +
                                 "] = " + std::to_string(mask[i]) + "; mask values must be 0 or 1");
    }
  }
  if (valid.empty()) return Array::scalar<std::int64_t>(start_);
  // Gymnasium: np_random.choice(np.where(mask == 1)[0]).
  const auto pick = np_random().choice(static_cast<std::int64_t>(valid.size()));
  return Array::scalar<std::int64_t>(start_ + valid[static_cast<std::size_t>(pick)]);
}

bool Discrete::contains(const Value& value) const {
  if (!value.is_array()) return false;
  const Array& a = value.array();
  // Gymnasium: an integer dtype (bool is not one) and shape (); a float is never contained.
  if (!is_integer(a.dtype()) || a.ndim() != 0) return false;
  return in_discrete_range(a.get_int(0), start_, n_);
}

void Discrete::pack(const Value& value, std::span<std::byte> out) const {
  const Array& a = expect_array(value, *this);
  expect_safe_cast(a, DType::kInt64, *this);
  expect_shape(a, Shape{}, *this);
  check_packed_size(out.size(), packed_bytes(), *this, "pack");
  store_element<std::int64_t>(out.data(), a.get_int(0));
}

Value Discrete::unpack(std::span<const std::byte> packed) const {
  check_packed_size(packed.size(), packed_bytes(), *this, "unpack");
  return Array::scalar<std::int64_t>(load_element<std::int64_t>(packed.data()));
}

bool Discrete::contains_packed(std::span<const std::byte> packed) const {
  check_packed_size(packed.size(), packed_bytes(), *this, "contains_packed");
  return in_discrete_range(load_element<std::int64_t>(packed.data()), start_, n_);
}

void Discrete::sample_packed(std::span<std::byte> out) {
  check_packed_size(out.size(), packed_bytes(), *this, "sample_packed");
  store_element<std::int64_t>(out.data(), start_ + np_random().integers(n_));
}

std::string Discrete::to_string() const {
  std::string s = "Discrete(" + std::to_string(n_);
  if (start_ != 0) s += ", start=" + std::to_string(start_);
  return s + ")";
}

json Discrete::to_json() const {
  return {{"type", "Discrete"}, {"n", n_}, {"start", start_}};
}

SpacePtr Discrete::clone() const {
  return std::make_shared<Discrete>(*this);
}

bool Discrete::equals(const Space& other) const {
  const auto* o = dynamic_cast<const Discrete*>(&other);
  return o != nullptr && o->n_ == n_ && o->start_ == start_;
}

// --- Box ---------------------------------------------------------------------------------------

Box::Box(double low, double high, Shape shape, DType dtype)
    : shape_(std::move(shape)), dtype_(dtype) {
  const auto n = static_cast<std::size_t>(shape_size(shape_));
  init(std::vector<double>(n, low), std::vector<double>(n, high), true);
}

Box::Box(std::vector<double> low, std::vector<double> high, Shape shape, DType dtype)
    : shape_(std::move(shape)), dtype_(dtype) {
  if (low.size() != high.size()) {
    throw InvalidArgumentError("Box: low has " + std::to_string(low.size()) +
                               " elements and high " + std::to_string(high.size()) +
                               "; they must match");
  }
  if (shape_.empty()) {
    shape_ = Shape{static_cast<std::int64_t>(low.size())};
  } else if (shape_size(shape_) != static_cast<std::int64_t>(low.size())) {
    throw InvalidArgumentError("Box: shape " + shape_to_string(shape_) + " needs " +
                               std::to_string(shape_size(shape_)) + " bounds, got " +
                               std::to_string(low.size()));
  }
  init(std::move(low), std::move(high), false);
}

void Box::init(std::vector<double> low, std::vector<double> high, bool scalar_bounds) {
  const std::string dtype_text(dtype_name(dtype_));  // also rejects an invalid enum value
  double dtype_min = 0;
  double dtype_max = 1;
  visit_dtype(dtype_, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, bool>) {
      dtype_min = static_cast<double>(std::numeric_limits<T>::lowest());
      dtype_max = static_cast<double>(std::numeric_limits<T>::max());
    }
  });
  const bool floating = is_floating(dtype_);
  const bool can_be_unbounded = floating || (is_integer(dtype_) && is_signed(dtype_));

  // Gymnasium's _cast_low/_cast_high: NaN is refused; the side's own infinity marks it unbounded
  // (kept for floats, replaced by the dtype's limit for signed ints, refused otherwise); finite
  // bounds must lie in the dtype's range and are then cast to the dtype.
  auto cast_bound = [&](double v, bool is_low, std::size_t i) -> std::pair<double, bool> {
    const std::string where =
        std::string(is_low ? "low" : "high") + (scalar_bounds ? "" : "[" + std::to_string(i) + "]");
    if (std::isnan(v)) {
      throw InvalidArgumentError("Box: " + where + " is NaN; bounds must be numbers or +-inf");
    }
    if (std::isinf(v)) {
      const bool own_side = is_low ? v < 0 : v > 0;
      if (floating) return {v, !own_side};
      if (!own_side) {
        throw InvalidArgumentError("Box(dtype=" + dtype_text + "): " + where + " = " + num(v) +
                                   " is not a valid bound for an integer dtype");
      }
      if (!can_be_unbounded) {
        throw InvalidArgumentError("Box(dtype=" + dtype_text + "): " + where + " = " + num(v) +
                                   " is not allowed; only float and signed integer dtypes can "
                                   "be unbounded");
      }
      return {is_low ? dtype_min : dtype_max, false};
    }
    // long double: int64's limits are compared exactly.
    const auto lv = static_cast<long double>(v);
    const long double lo = dtype_ == DType::kInt64 ? -9223372036854775808.0L : dtype_min;
    const long double hi = dtype_ == DType::kInt64 ? 9223372036854775807.0L : dtype_max;
    if (lv < lo || lv > hi) {
      throw InvalidArgumentError("Box(dtype=" + dtype_text + "): " + where + " = " + num(v) +
                                 " is outside the dtype's range [" + num(dtype_min) + ", " +
                                 num(dtype_max) + "]");
    }
    double cast = v;
    visit_dtype(dtype_, [&](auto tag) {
      using T = typename decltype(tag)::type;
      cast = static_cast<double>(cast_double<T>(v));
    });
    return {cast, true};
  };

  const std::size_t n = low.size();
  low_.resize(n);
  high_.resize(n);
  interval_.resize(n);
  sample_high_.resize(n);
  interval_count_ = {};
  for (std::size_t i = 0; i < n; ++i) {
    const auto [lo, below] = cast_bound(low[i], true, i);
    const auto [hi, above] = cast_bound(high[i], false, i);
    if (lo > hi) {
      const std::string index = scalar_bounds ? "" : "[" + std::to_string(i) + "]";
      throw InvalidArgumentError("Box: low" + index + " = " + num(lo) + " > high" + index + " = " +
                                 num(hi) + "; low must be <= high");
    }
    low_[i] = lo;
    high_[i] = hi;
    const Interval kind = below && above ? kBounded
                          : below        ? kLowBounded
                          : above        ? kHighBounded
                                         : kUnbounded;
    interval_[i] = kind;
    ++interval_count_[kind];
    // Gymnasium samples integer dtypes from [low, high + 1) and floors.
    sample_high_[i] = hi;
    if (!floating && above) sample_high_[i] = static_cast<double>(saturate_int64(hi) + 1);
    if (kind == kBounded && !std::isfinite(sample_high_[i] - lo)) uniform_overflows_ = true;
  }
}

bool Box::is_bounded() const {
  return interval_count_[kBounded] == static_cast<std::int64_t>(interval_.size());
}

template <class T>
void Box::sample_into(std::span<std::byte> out) {
  if (uniform_overflows_) {
    throw InvalidArgumentError(to_string() +
                               ".sample: high - low overflows float64, so numpy's uniform (and "
                               "Gymnasium) cannot sample it");
  }
  Rng& rng = np_random();
  const std::size_t n = low_.size();
  // Gymnasium's post-processing, element by element: floor for integer dtypes, clip to the dtype
  // (int64 keeps a margin of 2 because its limits are not doubles), astype, and for int64 a
  // final clip to the bounds.
  auto finish = [&](std::size_t i, double v) {
    T result;
    if constexpr (std::is_floating_point_v<T>) {
      result = cast_double<T>(v);
    } else if constexpr (std::is_same_v<T, bool>) {
      result = std::floor(v) != 0;
    } else {
      v = std::floor(v);
      constexpr bool kIsInt64 = std::is_same_v<T, std::int64_t>;
      constexpr double kMin =
          static_cast<double>(std::numeric_limits<T>::min() + (kIsInt64 ? 2 : 0));
      constexpr double kMax =
          static_cast<double>(std::numeric_limits<T>::max() - (kIsInt64 ? 2 : 0));
      v = std::min(std::max(v, kMin), kMax);
      result = cast_double<T>(v);
      if constexpr (kIsInt64) {
        result = std::clamp(result, saturate_int64(low_[i]), saturate_int64(high_[i]));
      }
    }
    store_element<T>(out.data() + i * sizeof(T), result);
  };
  if (interval_count_[kBounded] == static_cast<std::int64_t>(n)) {
    for (std::size_t i = 0; i < n; ++i) finish(i, rng.uniform(low_[i], sample_high_[i]));
    return;
  }
  // Gymnasium draws normals for the unbounded elements, then exponentials for the low-bounded,
  // then for the high-bounded, then uniforms, each as one size=k call in C order.
  for (const Interval kind : {kUnbounded, kLowBounded, kHighBounded, kBounded}) {
    if (interval_count_[kind] == 0) continue;
    for (std::size_t i = 0; i < n; ++i) {
      if (interval_[i] != kind) continue;
      switch (kind) {
        case kUnbounded:
          finish(i, rng.normal(0.0, 1.0));
          break;
        case kLowBounded:
          finish(i, rng.exponential(1.0) + low_[i]);
          break;
        case kHighBounded:
          finish(i, -rng.exponential(1.0) + sample_high_[i]);
          break;
        case kBounded:
          finish(i, rng.uniform(low_[i], sample_high_[i]));
          break;
      }
    }
  }
}

template <class T>
bool Box::elements_in_bounds(std::span<const std::byte> packed) const {
  const std::size_t n = low_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const T x = load_element<T>(packed.data() + i * sizeof(T));
    if constexpr (std::is_same_v<T, std::int64_t>) {
      const auto lx = static_cast<long double>(x);
      if (!(lx >= low_[i] && lx <= high_[i])) return false;
    } else {
      const auto dx = static_cast<double>(x);
      if (!(dx >= low_[i] && dx <= high_[i])) return false;  // NaN is never contained
    }
  }
  return true;
}

Value Box::sample() {
  Array a(dtype_, shape_);
  visit_dtype(dtype_, [&](auto tag) { sample_into<typename decltype(tag)::type>(a.bytes()); });
  return a;
}

void Box::sample_packed(std::span<std::byte> out) {
  check_packed_size(out.size(), packed_bytes(), *this, "sample_packed");
  visit_dtype(dtype_, [&](auto tag) { sample_into<typename decltype(tag)::type>(out); });
}

bool Box::contains(const Value& value) const {
  if (!value.is_array()) return false;
  const Array& a = value.array();
  if (!can_cast_safely(a.dtype(), dtype_) || a.shape() != shape_) return false;
  // numpy compares in the Box's dtype, which holds x exactly after a safe cast; for int64 the
  // comparison must be exact, so it goes through long double.
  const std::int64_t n = a.size();
  for (std::int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    if (dtype_ == DType::kInt64) {
      const auto lx = static_cast<long double>(a.get_int(i));
      if (!(lx >= low_[k] && lx <= high_[k])) return false;
    } else {
      const double x = a.get_double(i);
      if (!(x >= low_[k] && x <= high_[k])) return false;
    }
  }
  return true;
}

std::size_t Box::packed_bytes() const {
  return low_.size() * dtype_size(dtype_);
}

void Box::pack(const Value& value, std::span<std::byte> out) const {
  const Array& a = expect_array(value, *this);
  expect_safe_cast(a, dtype_, *this);
  expect_shape(a, shape_, *this);
  check_packed_size(out.size(), packed_bytes(), *this, "pack");
  cast_elements(a.dtype(), a.bytes(), dtype_, out);
}

Value Box::unpack(std::span<const std::byte> packed) const {
  check_packed_size(packed.size(), packed_bytes(), *this, "unpack");
  return Array::from_bytes(dtype_, shape_, packed);
}

bool Box::contains_packed(std::span<const std::byte> packed) const {
  check_packed_size(packed.size(), packed_bytes(), *this, "contains_packed");
  return visit_dtype(
      dtype_, [&](auto tag) { return elements_in_bounds<typename decltype(tag)::type>(packed); });
}

namespace {

// The bounds as an array of the Box's dtype, as Gymnasium stores them (int64 saturating).
Array bounds_array(const std::vector<double>& values, DType dtype, const Shape& shape) {
  Array a(dtype, shape);
  visit_dtype(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto* out = a.bytes().data();
    for (std::size_t i = 0; i < values.size(); ++i) {
      if constexpr (std::is_same_v<T, std::int64_t>) {
        store_element<T>(out + i * sizeof(T), saturate_int64(values[i]));
      } else {
        store_element<T>(out + i * sizeof(T), cast_double<T>(values[i]));
      }
    }
  });
  return a;
}

// Gymnasium's array_short_repr: the scalar when every element is equal, else numpy's str().
std::string short_repr(const Array& a) {
  if (a.size() > 0) {
    bool uniform = true;
    const auto bytes = a.bytes();
    const std::size_t item = dtype_size(a.dtype());
    for (std::int64_t i = 1; i < a.size() && uniform; ++i) {
      uniform = a.get_double(i) == a.get_double(0) && a.get_int(i) == a.get_int(0);
    }
    if (uniform) return Array::from_bytes(a.dtype(), Shape{}, bytes.first(item)).to_str();
  }
  return a.to_str();
}

}  // namespace

std::string Box::to_string() const {
  return "Box(" + short_repr(bounds_array(low_, dtype_, shape_)) + ", " +
         short_repr(bounds_array(high_, dtype_, shape_)) + ", " + shape_to_string(shape_) + ", " +
         std::string(dtype_name(dtype_)) + ")";
}

json Box::to_json() const {
  auto bound = [&](const std::vector<double>& values, bool is_low) {
    auto element = [&](std::size_t i) -> json {
      const double v = values[i];
      const bool bounded = is_low ? (interval_[i] == kLowBounded || interval_[i] == kBounded)
                                  : (interval_[i] == kHighBounded || interval_[i] == kBounded);
      // An infinite bound keeps its sign (a low of +inf is a valid, if empty-looking, Box).
      if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
      if (!bounded && !is_floating(dtype_)) return is_low ? "-inf" : "inf";
      if (dtype_ == DType::kFloat32) return float32_decimal(v);
      if (is_floating(dtype_)) return v;
      return saturate_int64(v);
    };
    json list = json::array();
    for (std::size_t i = 0; i < values.size(); ++i) list.push_back(element(i));
    const bool uniform = !list.empty() && std::all_of(list.begin(), list.end(), [&](const json& e) {
      return e == list.front();
    });
    return uniform ? list.front() : list;
  };
  return {{"type", "Box"},
          {"low", bound(low_, true)},
          {"high", bound(high_, false)},
          {"shape", shape_},
          {"dtype", std::string(dtype_name(dtype_))}};
}

SpacePtr Box::clone() const {
  return std::make_shared<Box>(*this);
}

bool Box::equals(const Space& other) const {
  // Gymnasium compares bounds with np.allclose (rtol 1e-5, atol 1e-8; equal infinities match).
  const auto* o = dynamic_cast<const Box*>(&other);
  if (o == nullptr || o->shape_ != shape_ || o->dtype_ != dtype_) return false;
  auto close = [](double a, double b) {
    if (a == b) return true;
    if (std::isinf(a) || std::isinf(b)) return false;
    return std::fabs(a - b) <= 1e-8 + 1e-5 * std::fabs(b);
  };
  for (std::size_t i = 0; i < low_.size(); ++i) {
    if (!close(low_[i], o->low_[i]) || !close(high_[i], o->high_[i])) return false;
  }
  return true;
}

// --- MultiDiscrete -----------------------------------------------------------------------------

MultiDiscrete::MultiDiscrete(std::vector<std::int64_t> nvec, std::vector<std::int64_t> start)
    : nvec_(std::move(nvec)), start_(std::move(start)) {
  if (start_.empty()) start_.assign(nvec_.size(), 0);
  if (start_.size() != nvec_.size()) {
    throw InvalidArgumentError("MultiDiscrete: start has " + std::to_string(start_.size()) +
                               " elements and nvec " + std::to_string(nvec_.size()) +
                               "; they must match");
  }
  for (std::size_t i = 0; i < nvec_.size(); ++i) {
    if (nvec_[i] <= 0) {
      throw InvalidArgumentError("MultiDiscrete: nvec[" + std::to_string(i) + "] = " +
                                 std::to_string(nvec_[i]) + "; every count must be positive");
    }
    if (start_[i] > std::numeric_limits<std::int64_t>::max() - (nvec_[i] - 1)) {
      throw InvalidArgumentError("MultiDiscrete: start[" + std::to_string(i) + "] + nvec[" +
                                 std::to_string(i) + "] - 1 overflows int64");
    }
  }
}

Value MultiDiscrete::sample() {
  Array a(DType::kInt64, Shape{static_cast<std::int64_t>(nvec_.size())});
  sample_packed(a.bytes());
  return a;
}

void MultiDiscrete::sample_packed(std::span<std::byte> out) {
  check_packed_size(out.size(), packed_bytes(), *this, "sample_packed");
  // Gymnasium: (np_random.random(shape) * nvec).astype(int64) + start.
  Rng& rng = np_random();
  for (std::size_t i = 0; i < nvec_.size(); ++i) {
    const double u = rng.random() * static_cast<double>(nvec_[i]);
    store_element<std::int64_t>(out.data() + i * sizeof(std::int64_t),
                                cast_double<std::int64_t>(u) + start_[i]);
  }
}

bool MultiDiscrete::contains(const Value& value) const {
  if (!value.is_array()) return false;
  const Array& a = value.array();
  if (a.shape() != Shape{static_cast<std::int64_t>(nvec_.size())}) return false;
  if (!can_cast_safely(a.dtype(), DType::kInt64)) return false;
  for (std::size_t i = 0; i < nvec_.size(); ++i) {
    if (!in_discrete_range(a.get_int(static_cast<std::int64_t>(i)), start_[i], nvec_[i])) {
      return false;
    }
  }
  return true;
}

void MultiDiscrete::pack(const Value& value, std::span<std::byte> out) const {
  const Array& a = expect_array(value, *this);
  expect_safe_cast(a, DType::kInt64, *this);
  expect_shape(a, Shape{static_cast<std::int64_t>(nvec_.size())}, *this);
  check_packed_size(out.size(), packed_bytes(), *this, "pack");
  cast_elements(a.dtype(), a.bytes(), DType::kInt64, out);
}

Value MultiDiscrete::unpack(std::span<const std::byte> packed) const {
  check_packed_size(packed.size(), packed_bytes(), *this, "unpack");
  return Array::from_bytes(DType::kInt64, Shape{static_cast<std::int64_t>(nvec_.size())}, packed);
}

bool MultiDiscrete::contains_packed(std::span<const std::byte> packed) const {
  check_packed_size(packed.size(), packed_bytes(), *this, "contains_packed");
  for (std::size_t i = 0; i < nvec_.size(); ++i) {
    const auto x = load_element<std::int64_t>(packed.data() + i * sizeof(std::int64_t));
    if (!in_discrete_range(x, start_[i], nvec_[i])) return false;
  }
  return true;
}

std::string MultiDiscrete::to_string() const {
  std::string s = "MultiDiscrete(" + Array::from_vector(nvec_).to_str();
  if (std::any_of(start_.begin(), start_.end(), [](std::int64_t v) { return v != 0; })) {
    s += ", start=" + Array::from_vector(start_).to_str();
  }
  return s + ")";
}

json MultiDiscrete::to_json() const {
  return {{"type", "MultiDiscrete"}, {"nvec", nvec_}, {"start", start_}};
}

SpacePtr MultiDiscrete::clone() const {
  return std::make_shared<MultiDiscrete>(*this);
}

bool MultiDiscrete::equals(const Space& other) const {
  const auto* o = dynamic_cast<const MultiDiscrete*>(&other);
  return o != nullptr && o->nvec_ == nvec_ && o->start_ == start_;
}

// --- MultiBinary -------------------------------------------------------------------------------

MultiBinary::MultiBinary(Shape shape) : shape_(std::move(shape)) {
  for (auto d : shape_) {
    if (d <= 0) {
      throw InvalidArgumentError("MultiBinary(" + shape_to_string(shape_) +
                                 "): every dimension must be positive");
    }
  }
}

std::size_t MultiBinary::packed_bytes() const {
  return static_cast<std::size_t>(shape_size(shape_));
}

Value MultiBinary::sample() {
  Array a(DType::kInt8, shape_);
  sample_packed(a.bytes());
  return a;
}

void MultiBinary::sample_packed(std::span<std::byte> out) {
  check_packed_size(out.size(), packed_bytes(), *this, "sample_packed");
  // Gymnasium: np_random.integers(0, 2, size=n, dtype=np.int8), numpy's buffered 8-bit path.
  np_random().integers_fill<std::int8_t>(as_span<std::int8_t>(out), 0, 2);
}

bool MultiBinary::contains(const Value& value) const {
  if (!value.is_array()) return false;
  const Array& a = value.array();
  if (a.shape() != shape_) return false;
  // Gymnasium accepts any dtype whose values are 0 or 1 (1.0 and True included).
  for (std::int64_t i = 0; i < a.size(); ++i) {
    const double x = a.get_double(i);
    if (x != 0 && x != 1) return false;
  }
  return true;
}

void MultiBinary::pack(const Value& value, std::span<std::byte> out) const {
  const Array& a = expect_array(value, *this);
  expect_shape(a, shape_, *this);
  // Values that contains() accepts pack whatever their dtype (Gymnasium users pass int64 0/1
  // arrays); anything else needs a dtype that casts safely to int8.
  if (!can_cast_safely(a.dtype(), DType::kInt8) && !contains(value)) {
    expect_safe_cast(a, DType::kInt8, *this);
  }
  check_packed_size(out.size(), packed_bytes(), *this, "pack");
  cast_elements(a.dtype(), a.bytes(), DType::kInt8, out);
}

Value MultiBinary::unpack(std::span<const std::byte> packed) const {
  check_packed_size(packed.size(), packed_bytes(), *this, "unpack");
  return Array::from_bytes(DType::kInt8, shape_, packed);
}

bool MultiBinary::contains_packed(std::span<const std::byte> packed) const {
  check_packed_size(packed.size(), packed_bytes(), *this, "contains_packed");
  return std::all_of(packed.begin(), packed.end(),
                     [](std::byte b) { return b == std::byte{0} || b == std::byte{1}; });
}

std::string MultiBinary::to_string() const {
  // Gymnasium prints n as given; an int n is indistinguishable here from a one-element shape.
  if (shape_.size() == 1) return "MultiBinary(" + std::to_string(shape_[0]) + ")";
  return "MultiBinary(" + shape_to_string(shape_) + ")";
}

json MultiBinary::to_json() const {
  return {{"type", "MultiBinary"}, {"shape", shape_}};
}

SpacePtr MultiBinary::clone() const {
  return std::make_shared<MultiBinary>(*this);
}

bool MultiBinary::equals(const Space& other) const {
  const auto* o = dynamic_cast<const MultiBinary*>(&other);
  return o != nullptr && o->shape_ == shape_;
}

// --- CompositeSpace ----------------------------------------------------------------------------

void CompositeSpace::set_children(std::vector<SpacePtr> spaces) {
  spaces_ = std::move(spaces);
  offsets_.clear();
  std::size_t end = 0;
  for (const auto& s : spaces_) {
    offsets_.push_back(end);
    end = align8(end + s->packed_bytes());
  }
  packed_bytes_ = end;
}

std::vector<std::uint64_t> CompositeSpace::seed(std::optional<std::uint64_t> seed) {
  std::vector<std::uint64_t> seeds;
  if (!seed) {
    for (auto& s : spaces_) {
      const auto child = s->seed(std::nullopt);
      seeds.insert(seeds.end(), child.begin(), child.end());
    }
    return seeds;
  }
  rng_ = std::make_unique<Rng>(*seed);
  // numpy's integers(high, size=k) with the default int64 dtype is k scalar draws, in order.
  std::vector<std::uint64_t> subseeds;
  for (std::size_t i = 0; i < spaces_.size(); ++i) {
    subseeds.push_back(static_cast<std::uint64_t>(rng_->integers(kSubseedHigh)));
  }
  for (std::size_t i = 0; i < spaces_.size(); ++i) {
    const auto child = spaces_[i]->seed(subseeds[i]);
    seeds.insert(seeds.end(), child.begin(), child.end());
  }
  return seeds;
}

bool CompositeSpace::contains_packed(std::span<const std::byte> packed) const {
  check_packed_size(packed.size(), packed_bytes_, *this, "contains_packed");
  for (std::size_t i = 0; i < spaces_.size(); ++i) {
    if (!spaces_[i]->contains_packed(child_bytes(packed, i))) return false;
  }
  return true;
}

void CompositeSpace::sample_packed(std::span<std::byte> out) {
  check_packed_size(out.size(), packed_bytes_, *this, "sample_packed");
  for (std::size_t i = 0; i < spaces_.size(); ++i) spaces_[i]->sample_packed(child_bytes(out, i));
  zero_padding(out);
}

void CompositeSpace::zero_padding(std::span<std::byte> out) const {
  for (std::size_t i = 0; i < spaces_.size(); ++i) {
    const std::size_t begin = offsets_[i] + spaces_[i]->packed_bytes();
    const std::size_t end = i + 1 < spaces_.size() ? offsets_[i + 1] : packed_bytes_;
    if (end > begin) std::memset(out.data() + begin, 0, end - begin);
  }
}

std::vector<Value> CompositeSpace::unpack_children(std::span<const std::byte> packed) const {
  check_packed_size(packed.size(), packed_bytes_, *this, "unpack");
  std::vector<Value> values;
  values.reserve(spaces_.size());
  for (std::size_t i = 0; i < spaces_.size(); ++i) {
    values.push_back(spaces_[i]->unpack(child_bytes(packed, i)));
  }
  return values;
}

bool CompositeSpace::children_equal(const CompositeSpace& other) const {
  if (other.spaces_.size() != spaces_.size()) return false;
  for (std::size_t i = 0; i < spaces_.size(); ++i) {
    if (!spaces_[i]->equals(*other.spaces_[i])) return false;
  }
  return true;
}

// --- Tuple -------------------------------------------------------------------------------------

Tuple::Tuple(std::vector<SpacePtr> spaces) {
  for (std::size_t i = 0; i < spaces.size(); ++i) {
    if (!spaces[i]) {
      throw InvalidArgumentError("Tuple: spaces[" + std::to_string(i) + "] is null");
    }
  }
  set_children(std::move(spaces));
}

Value Tuple::sample() {
  ValueTuple values;
  values.reserve(spaces_.size());
  for (auto& s : spaces_) values.push_back(s->sample());
  return values;
}

bool Tuple::contains(const Value& value) const {
  if (!value.is_tuple()) return false;
  const auto& t = value.tuple();
  if (t.size() != spaces_.size()) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!spaces_[i]->contains(t[i])) return false;
  }
  return true;
}

void Tuple::pack(const Value& value, std::span<std::byte> out) const {
  if (!value.is_tuple()) {
    throw BufferError(to_string() + ".pack: expected a tuple of " + std::to_string(spaces_.size()) +
                      " values, got " + (value.is_array() ? "an array" : "a dict"));
  }
  const auto& t = value.tuple();
  if (t.size() != spaces_.size()) {
    throw BufferError(to_string() + ".pack: expected a tuple of " + std::to_string(spaces_.size()) +
                      " values, got " + std::to_string(t.size()));
  }
  check_packed_size(out.size(), packed_bytes_, *this, "pack");
  for (std::size_t i = 0; i < t.size(); ++i) spaces_[i]->pack(t[i], child_bytes(out, i));
  zero_padding(out);
}

Value Tuple::unpack(std::span<const std::byte> packed) const {
  return ValueTuple(unpack_children(packed));
}

std::string Tuple::to_string() const {
  std::string s = "Tuple(";
  for (std::size_t i = 0; i < spaces_.size(); ++i) {
    s += (i > 0 ? ", " : "") + spaces_[i]->to_string();
  }
  return s + ")";
}

json Tuple::to_json() const {
  json children = json::array();
  for (const auto& s : spaces_) children.push_back(s->to_json());
  return {{"type", "Tuple"}, {"spaces", children}};
}

SpacePtr Tuple::clone() const {
  std::vector<SpacePtr> children;
  for (const auto& s : spaces_) children.push_back(s->clone());
  auto copy = std::make_shared<Tuple>(std::move(children));
  if (rng_) copy->rng_ = std::make_unique<Rng>(*rng_);
  return copy;
}

bool Tuple::equals(const Space& other) const {
  const auto* o = dynamic_cast<const Tuple*>(&other);
  return o != nullptr && children_equal(*o);
}

// --- Dict --------------------------------------------------------------------------------------

Dict::Dict(std::vector<std::pair<std::string, SpacePtr>> spaces) {
  std::sort(spaces.begin(), spaces.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<SpacePtr> children;
  for (std::size_t i = 0; i < spaces.size(); ++i) {
    if (!keys_.empty() && spaces[i].first == keys_.back()) {
      throw InvalidArgumentError("Dict: key " + py_repr(spaces[i].first) + " appears twice");
    }
    if (!spaces[i].second) {
      throw InvalidArgumentError("Dict: the space for key " + py_repr(spaces[i].first) +
                                 " is null");
    }
    keys_.push_back(std::move(spaces[i].first));
    children.push_back(std::move(spaces[i].second));
  }
  set_children(std::move(children));
}

const SpacePtr& Dict::at(std::string_view key) const {
  const auto it = std::lower_bound(keys_.begin(), keys_.end(), key,
                                   [](const std::string& a, std::string_view b) { return a < b; });
  if (it == keys_.end() || *it != key) {
    std::string keys;
    for (const auto& k : keys_) keys += (keys.empty() ? "" : ", ") + py_repr(k);
    throw InvalidArgumentError("Dict: no key " + py_repr(key) + "; the keys are " +
                               (keys.empty() ? "none" : keys));
  }
  return spaces_[static_cast<std::size_t>(it - keys_.begin())];
}

Value Dict::sample() {
  ValueDict d;
  d.keys = keys_;
  d.values.reserve(spaces_.size());
  for (auto& s : spaces_) d.values.push_back(s->sample());
  return d;
}

bool Dict::contains(const Value& value) const {
  if (!value.is_dict()) return false;
  const auto& d = value.dict();
  if (d.keys.size() != keys_.size()) return false;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const Value* v = d.find(keys_[i]);
    if (v == nullptr || !spaces_[i]->contains(*v)) return false;
  }
  return true;
}

void Dict::pack(const Value& value, std::span<std::byte> out) const {
  if (!value.is_dict()) {
    throw BufferError(to_string() + ".pack: expected a dict, got " +
                      (value.is_array() ? "an array" : "a tuple"));
  }
  const auto& d = value.dict();
  check_packed_size(out.size(), packed_bytes_, *this, "pack");
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const Value* v = d.find(keys_[i]);
    if (v == nullptr) {
      throw BufferError(to_string() + ".pack: the value has no key " + py_repr(keys_[i]));
    }
    spaces_[i]->pack(*v, child_bytes(out, i));
  }
  if (d.keys.size() != keys_.size()) {
    for (const auto& k : d.keys) {
      if (!std::binary_search(keys_.begin(), keys_.end(), k)) {
        throw BufferError(to_string() + ".pack: the value has an unknown key " + py_repr(k));
      }
    }
  }
  zero_padding(out);
}

Value Dict::unpack(std::span<const std::byte> packed) const {
  ValueDict d;
  d.values = unpack_children(packed);
  d.keys = keys_;
  return d;
}

std::string Dict::to_string() const {
  std::string s = "Dict(";
  for (std::size_t i = 0; i < spaces_.size(); ++i) {
    s += (i > 0 ? ", " : "") + py_repr(keys_[i]) + ": " + spaces_[i]->to_string();
  }
  return s + ")";
}

json Dict::to_json() const {
  json children = json::object();
  for (std::size_t i = 0; i < spaces_.size(); ++i) children[keys_[i]] = spaces_[i]->to_json();
  return {{"type", "Dict"}, {"spaces", children}};
}

SpacePtr Dict::clone() const {
  std::vector<std::pair<std::string, SpacePtr>> children;
  for (std::size_t i = 0; i < spaces_.size(); ++i) {
    children.emplace_back(keys_[i], spaces_[i]->clone());
  }
  auto copy = std::make_shared<Dict>(std::move(children));
  if (rng_) copy->rng_ = std::make_unique<Rng>(*rng_);
  return copy;
}

bool Dict::equals(const Space& other) const {
  const auto* o = dynamic_cast<const Dict*>(&other);
  return o != nullptr && o->keys_ == keys_ && children_equal(*o);
}

// --- JSON --------------------------------------------------------------------------------------

namespace {

[[noreturn]] void json_error(const std::string& path, const std::string& message) {
  throw InvalidArgumentError("space_from_json: " + path + ": " + message);
}

std::string brief(const json& j) {
  std::string s = j.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

const json& field(const json& j, const char* key, const std::string& path) {
  const auto it = j.find(key);
  if (it == j.end()) json_error(path, std::string("missing \"") + key + "\" in " + brief(j));
  return *it;
}

std::int64_t int_field(const json& j, const char* key, const std::string& path) {
  const json& v = field(j, key, path);
  if (!v.is_number_integer()) {
    json_error(path, std::string("\"") + key + "\" must be an integer, got " + brief(v));
  }
  return v.get<std::int64_t>();
}

std::vector<std::int64_t> int_list(const json& v, const char* key, const std::string& path) {
  if (!v.is_array()) {
    json_error(path, std::string("\"") + key + "\" must be a list of integers, got " + brief(v));
  }
  std::vector<std::int64_t> out;
  for (const auto& e : v) {
    if (!e.is_number_integer()) {
      json_error(path, std::string("\"") + key + "\" must be a list of integers, got " + brief(v));
    }
    out.push_back(e.get<std::int64_t>());
  }
  return out;
}

double bound_value(const json& e, const char* key, const std::string& path) {
  if (e.is_number()) return e.get<double>();
  if (e.is_boolean()) return e.get<bool>() ? 1.0 : 0.0;
  if (e.is_string()) {
    const auto s = e.get<std::string>();
    if (s == "inf" || s == "+inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
  }
  json_error(path, std::string("\"") + key +
                       "\" elements must be numbers, \"inf\" or \"-inf\", got " + brief(e));
}

SpacePtr from_json(const json& j, const std::string& path) {
  if (!j.is_object()) {
    json_error(path, "a space must be an object with a \"type\", got " + brief(j));
  }
  const json& type_json = field(j, "type", path);
  if (!type_json.is_string())
    json_error(path, "\"type\" must be a string, got " + brief(type_json));
  const auto type = type_json.get<std::string>();
  try {
    if (type == "Discrete") {
      const std::int64_t start = j.contains("start") ? int_field(j, "start", path) : 0;
      return std::make_shared<Discrete>(int_field(j, "n", path), start);
    }
    if (type == "Box") {
      DType dtype = DType::kFloat32;
      if (j.contains("dtype")) {
        if (!j["dtype"].is_string()) {
          json_error(path, "\"dtype\" must be a string, got " + brief(j["dtype"]));
        }
        dtype = dtype_from_name(j["dtype"].get<std::string>());
      }
      const json& low = field(j, "low", path);
      const json& high = field(j, "high", path);
      Shape shape;
      if (j.contains("shape")) {
        shape = int_list(j["shape"], "shape", path);
      } else if (low.is_array() || high.is_array()) {
        shape = Shape{static_cast<std::int64_t>((low.is_array() ? low : high).size())};
      } else {
        json_error(path, "a Box with scalar bounds needs a \"shape\"");
      }
      const auto n = static_cast<std::size_t>(shape_size(shape));
      // Its bounds are two doubles per element, allocated right here.
      util::require_memory<InvalidArgumentError>(util::saturating_mul(n, 2 * sizeof(double)),
                                                 "a Box of shape " + shape_to_string(shape),
                                                 "give the space a realistic shape");
      auto expand = [&](const json& b, const char* key) {
        std::vector<double> values;
        if (b.is_array()) {
          if (b.size() != n) {
            json_error(path, std::string("\"") + key + "\" has " + std::to_string(b.size()) +
                                 " elements, shape " + shape_to_string(shape) + " needs " +
                                 std::to_string(n));
          }
          for (const auto& e : b) values.push_back(bound_value(e, key, path));
        } else {
          values.assign(n, bound_value(b, key, path));
        }
        return values;
      };
      auto lows = expand(low, "low");
      auto highs = expand(high, "high");
      if (shape.empty()) return std::make_shared<Box>(lows.at(0), highs.at(0), shape, dtype);
      return std::make_shared<Box>(std::move(lows), std::move(highs), shape, dtype);
    }
    if (type == "MultiDiscrete") {
      auto nvec = int_list(field(j, "nvec", path), "nvec", path);
      std::vector<std::int64_t> start;
      if (j.contains("start")) start = int_list(j["start"], "start", path);
      return std::make_shared<MultiDiscrete>(std::move(nvec), std::move(start));
    }
    if (type == "MultiBinary") {
      if (j.contains("shape")) {
        return std::make_shared<MultiBinary>(int_list(j["shape"], "shape", path));
      }
      return std::make_shared<MultiBinary>(int_field(j, "n", path));
    }
    if (type == "Tuple") {
      const json& children = field(j, "spaces", path);
      if (!children.is_array()) {
        json_error(path, "Tuple \"spaces\" must be a list, got " + brief(children));
      }
      std::vector<SpacePtr> spaces;
      for (std::size_t i = 0; i < children.size(); ++i) {
        spaces.push_back(from_json(children[i], path + ".spaces[" + std::to_string(i) + "]"));
      }
      return std::make_shared<Tuple>(std::move(spaces));
    }
    if (type == "Dict") {
      const json& children = field(j, "spaces", path);
      if (!children.is_object()) {
        json_error(path, "Dict \"spaces\" must be an object, got " + brief(children));
      }
      std::vector<std::pair<std::string, SpacePtr>> spaces;
      for (auto it = children.begin(); it != children.end(); ++it) {
        spaces.emplace_back(it.key(),
                            from_json(it.value(), path + ".spaces[" + py_repr(it.key()) + "]"));
      }
      return std::make_shared<Dict>(std::move(spaces));
    }
  } catch (const InvalidArgumentError& e) {
    const std::string what = e.what();
    if (what.rfind("space_from_json:", 0) == 0) throw;
    json_error(path, what);
  }
  json_error(path, "unknown space type " + brief(type_json) +
                       "; expected Discrete, Box, MultiDiscrete, MultiBinary, Tuple or Dict");
}

}  // namespace

SpacePtr space_from_json(const json& json) {
  try {
    return from_json(json, "space");
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgumentError(std::string("space_from_json: ") + e.what());
  }
}

}  // namespace locus::envs
