#pragma once
// The one reader of configuration values: env kwargs, agent configs, network specs, sweep settings
// and cognitive-task arguments all read their JSON objects (parsed from YAML or JSON by
// config/yaml.hpp and config/json.hpp, or built by the Python bindings) through it, so that they
// accept the same values and refuse the same mistakes with the same words.
//
// Rules: an absent or null key takes the caller's fallback. Integers are JSON integers or doubles
// with an integral value (YAML's 1e6), within the target type and the caller's [min, max]; numbers
// are finite and within the target type (a float setting refuses 1e300 instead of becoming
// infinity); booleans are true/false only; strings are strings. finish() refuses keys never asked
// for, naming the closest accepted key. Every refusal names the context, the key, the value and
// what is allowed.

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "util/error.hpp"

namespace locus::config {

// A value a config may not hold: of the wrong type, out of range, or an unknown key.
class ConfigError : public locus::Error {
 public:
  explicit ConfigError(const std::string& message) : locus::Error(message, ErrorKind::kUsage) {}
};

// Throws the caller's error type for `message` (a subsystem whose users catch its own class, such
// as envs::InvalidArgumentError for env kwargs, passes its own).
using Raise = void (*)(const std::string& message);

// The Raise that throws E: `{.raise = &config::raise_as<envs::InvalidArgumentError>}`.
template <class E>
void raise_as(const std::string& message) {
  throw E(message);
}

struct ReaderOptions {
  // How messages call a key: "argument" for env kwargs, "key" for config files.
  std::string_view key_noun = "key";
  Raise raise = nullptr;  // nullptr: throw ConfigError
};

// Edit distance (optimal string alignment): the fewest single-character insertions, deletions,
// substitutions and swaps of neighbouring characters.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The accepted name closest to `unknown` by edit distance, if one is close enough to be a typo
// (at most a third of its length away); empty otherwise.
std::string closest_name(std::string_view unknown, const std::vector<std::string>& accepted);

class Reader {
 public:
  // `object` must be a JSON object or null (no keys); it must outlive the reader. `context` starts
  // every message ("CartPole", "agent config", "network spec layer 2").
  Reader(const nlohmann::json& object, std::string context, ReaderOptions options = {});

  // The value of `key` as T (bool, an integer type, float, double or std::string), or `fallback`.
  template <class T>
  T get(std::string_view key, T fallback) {
    return get_optional<T>(key).value_or(std::move(fallback));
  }
  // The same within [min, max].
  template <class T>
  T get_in(std::string_view key, T fallback, T min, T max) {
    return in_range(key, get<T>(key, std::move(fallback)), min, max);
  }
  // `value` of `key` if it lies in [min, max]; refused with the range otherwise.
  template <class T>
  T in_range(std::string_view key, T value, T min, T max) const {
    if (value < min || value > max) refuse_range(key, nlohmann::json(value).dump(), min, max);
    return value;
  }
  template <class T>
  std::optional<T> get_optional(std::string_view key) {
    const nlohmann::json* value = lookup(key);
    if (value == nullptr) return std::nullopt;
    return convert<T>(*value, key);
  }
  // A key that has no default.
  template <class T>
  T require(std::string_view key) {
    const nlohmann::json* value = lookup(key);
    if (value == nullptr) fail(quoted(key) + " is required");
    return convert<T>(*value, key);
  }
  // One of `choices`, as written.
  std::string get_choice(std::string_view key, std::string fallback,
                         const std::vector<std::string>& choices);
  // A non-empty list of finite numbers.
  std::vector<double> get_numbers(std::string_view key, const std::vector<double>& fallback);
  // A JSON object (nullptr when absent or null), for a nested reader.
  const nlohmann::json* get_object(std::string_view key);
  // Any JSON value (nullptr when absent or null), for a caller that reads it by its own rules.
  const nlohmann::json* get_raw(std::string_view key);
  // Refuses keys that were never asked for. Call it after every get.
  void finish() const;

  const std::string& context() const { return context_; }
  // Raises the caller's error with the context in front: for the caller's own checks.
  [[noreturn]] void fail(const std::string& problem) const;

  // `value` as T, refused in the reader's words naming `key` (a list's elements use this).
  template <class T>
  T convert(const nlohmann::json& value, std::string_view key) const;

 private:
  const nlohmann::json* lookup(std::string_view key);
  // "argument 'gravity'", "config key 'seed'": how messages name a key.
  std::string quoted(std::string_view key) const {
    return std::string(options_.key_noun) + " '" + std::string(key) + "'";
  }
  [[noreturn]] void refuse_type(std::string_view key, std::string_view expected,
                                const nlohmann::json& value) const;
  template <class T>
  [[noreturn]] void refuse_range(std::string_view key, const std::string& value, T min,
                                 T max) const {
    fail(quoted(key) + " is " + value + "; allowed: " + nlohmann::json(min).dump() + " to " +
         nlohmann::json(max).dump());
  }
  std::int64_t to_int64(const nlohmann::json& value, std::string_view key) const;
  std::uint64_t to_uint64(const nlohmann::json& value, std::string_view key) const;
  double to_double(const nlohmann::json& value, std::string_view key) const;

  const nlohmann::json& object_;
  std::string context_;
  ReaderOptions options_;
  std::vector<std::string> known_;
};

template <class T>
T Reader::convert(const nlohmann::json& value, std::string_view key) const {
  if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) refuse_type(key, "true or false", value);
    return value.get<bool>();
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    const std::int64_t wide = to_int64(value, key);
    constexpr auto lo = static_cast<std::int64_t>(std::numeric_limits<T>::min());
    constexpr auto hi = static_cast<std::int64_t>(std::numeric_limits<T>::max());
    if (wide < lo || wide > hi) refuse_range(key, value.dump(), lo, hi);
    return static_cast<T>(wide);
  } else if constexpr (std::is_integral_v<T>) {
    const std::uint64_t wide = to_uint64(value, key);
    constexpr auto hi = static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    if (wide > hi) refuse_range(key, value.dump(), std::uint64_t{0}, hi);
    return static_cast<T>(wide);
  } else if constexpr (std::is_floating_point_v<T>) {
    const double wide = to_double(value, key);
    constexpr auto hi = static_cast<double>(std::numeric_limits<T>::max());
    if (wide < -hi || wide > hi) refuse_range(key, value.dump(), -hi, hi);
    return static_cast<T>(wide);
  } else {
    static_assert(std::is_same_v<T, std::string>, "a config value is a bool, number or string");
    if (!value.is_string()) refuse_type(key, "a string", value);
    return value.get<std::string>();
  }
}

}  // namespace locus::config
