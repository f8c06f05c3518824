#pragma once
// The JSON of a saved env state (Env::save_state, VectorEnv::save_state): how its values are
// written so that they read back exactly, and StateReader, which reads them back with checks.
//
// Written forms:
//  - a double: a JSON number (nlohmann writes digits that read back to the same double, -0.0
//    included), or "nan", "inf", "-inf", which JSON numbers cannot hold;
//  - bytes (a packed observation, an array's data): base64 text;
//  - np_random: numpy's bit_generator.state layout, {"bit_generator": "PCG64", "state": {"state",
//    "inc"}, "has_uint32", "uinteger"}, the 128-bit words as "0x..." hex text;
//  - an Info: [[key, type, value], ...] in entry order, type one of "bool", "int", "float", "str",
//    "array" ({"dtype", "shape", "data"}) or "dict" (a nested Info), so that every value keeps its
//    type (Info::to_json, made for display, turns arrays into lists and loses dtypes).
//
// StateReader throws InvalidArgumentError naming the owner and the field ("CartPoleEnv state:
// 'fields.state' must be ..."), so a damaged or foreign state is refused with a message saying
// which value is wrong and what it must be.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "envs/info.hpp"
#include "envs/rng.hpp"

namespace locus::envs::state_json {

nlohmann::json from_double(double value);
nlohmann::json from_doubles(std::span<const double> values);
nlohmann::json from_floats(std::span<const float> values);
nlohmann::json from_bytes(std::span<const std::byte> bytes);
nlohmann::json from_rng(const Pcg64::State& state);
nlohmann::json from_info(const Info& info);

// Restores `state` with apply(state). A state's fields are checked as they are read, and a check
// can fail after some were set: then apply(before), the state saved just before, puts everything
// back and the error propagates, so that a refused state changes nothing.
template <typename Apply>
void apply_or_roll_back(const nlohmann::json& state, const nlohmann::json& before,
                        const Apply& apply) {
  try {
    apply(state);
  } catch (...) {
    apply(before);
    throw;
  }
}

}  // namespace locus::envs::state_json

namespace locus::envs {

class StateReader {
 public:
  // `owner` names whose state it is ("CartPoleEnv"); `path` is the object's place in the state
  // ("fields"), empty at the top. Throws InvalidArgumentError when `json` is not an object.
  StateReader(const nlohmann::json& json, std::string owner, std::string path = "");

  bool has(std::string_view key) const;
  // The field, which must be present (any type).
  const nlohmann::json& at(std::string_view key) const;
  // A nested object.
  StateReader object(std::string_view key) const;

  bool get_bool(std::string_view key) const;
  // An integer in [min, max].
  std::int64_t get_int(std::string_view key, std::int64_t min = INT64_MIN,
                       std::int64_t max = INT64_MAX) const;
  std::uint64_t get_uint64(std::string_view key) const;
  // Any double, as from_double writes it.
  double get_double(std::string_view key) const;
  // A double in [min, max] (so neither NaN nor, unless a bound is infinite, infinite).
  double get_double(std::string_view key, double min, double max) const;
  std::string get_string(std::string_view key) const;
  // One of `choices`; returns its index.
  std::size_t get_choice(std::string_view key, std::span<const std::string_view> choices) const;
  // Exactly `size` values (any size when size is kAnySize).
  static constexpr std::size_t kAnySize = static_cast<std::size_t>(-1);
  std::vector<double> get_doubles(std::string_view key, std::size_t size) const;
  std::vector<float> get_floats(std::string_view key, std::size_t size) const;
  std::vector<std::int64_t> get_ints(std::string_view key, std::size_t size, std::int64_t min,
                                     std::int64_t max) const;
  std::vector<std::byte> get_bytes(std::string_view key, std::size_t size) const;
  Pcg64::State get_rng(std::string_view key) const;
  Info get_info(std::string_view key) const;

  // The field's full name, for messages: "fields.state".
  std::string field(std::string_view key) const;
  // Throws InvalidArgumentError "<owner> state: '<field>' <what>".
  [[noreturn]] void fail(std::string_view key, const std::string& what) const;
  const std::string& owner() const { return owner_; }

 private:
  double double_value(std::string_view key, const nlohmann::json& value) const;
  std::int64_t int_value(std::string_view key, const nlohmann::json& value, std::int64_t min,
                         std::int64_t max) const;
  const nlohmann::json& json_;
  std::string owner_;
  std::string path_;
};

}  // namespace locus::envs
