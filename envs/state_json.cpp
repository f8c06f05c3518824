#include "envs/state_json.hpp"

#include <cmath>
#include <limits>

#include "envs/errors.hpp"

namespace locus::envs {

namespace {

using nlohmann::json;

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      group = (group << 8) | (k < n ? std::to_integer<std::uint32_t>(bytes[i + k]) : 0U);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      out.push_back(k <= n ? kBase64Alphabet[(group >> (18 - 6 * k)) & 63U] : '=');
    }
  }
  return out;
}

// Empty when `text` is not canonical base64 (as base64_encode writes it).
std::optional<std::vector<std::byte>> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<std::byte> out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t group = 0;
    std::size_t padding = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        ++padding;
        group <<= 6;
        continue;
      }
      const auto at = kBase64Alphabet.find(c);
      if (at == std::string_view::npos || padding > 0) return std::nullopt;
      group = (group << 6) | static_cast<std::uint32_t>(at);
    }
    for (std::size_t k = 0; k < 3 - padding; ++k) {
      out.push_back(static_cast<std::byte>((group >> (16 - 8 * k)) & 0xFFU));
    }
  }
  return out;
}

std::string hex128(Uint128 value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (int shift = 124; shift >= 0; shift -= 4) {
    out.push_back(kDigits[static_cast<unsigned>(value >> shift) & 15U]);
  }
  return out;
}

std::optional<Uint128> parse_hex128(const json& value) {
  if (!value.is_string()) return std::nullopt;
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() < 3 || text.size() > 34 || text.compare(0, 2, "0x") != 0) return std::nullopt;
  Uint128 out = 0;
  for (std::size_t i = 2; i < text.size(); ++i) {
    const char c = text[i];
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    out = (out << 4) | static_cast<Uint128>(digit);
  }
  return out;
}

json array_json(const Array& array) {
  return {{"dtype", dtype_name(array.dtype())},
          {"shape", array.shape()},
          {"data", base64_encode(array.bytes())}};
}

}  // namespace

namespace state_json {

json from_double(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

json from_doubles(std::span<const double> values) {
  json out = json::array();
  for (const double v : values) out.push_back(from_double(v));
  return out;
}

json from_floats(std::span<const float> values) {
  json out = json::array();
  for (const float v : values) out.push_back(from_double(static_cast<double>(v)));
  return out;
}

json from_bytes(std::span<const std::byte> bytes) {
  return base64_encode(bytes);
}

json from_rng(const Pcg64::State& state) {
  return {{"bit_generator", "PCG64"},
          {"state", {{"state", hex128(state.state)}, {"inc", hex128(state.inc)}}},
          {"has_uint32", state.has_uint32},
          {"uinteger", state.uinteger}};
}

json from_info(const Info& info) {
  json out = json::array();
  for (const auto& entry : info.entries()) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) {
            out.push_back({entry.key, "bool", v});
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            out.push_back({entry.key, "int", v});
          } else if constexpr (std::is_same_v<T, double>) {
            out.push_back({entry.key, "float", from_double(v)});
          } else if constexpr (std::is_same_v<T, std::string>) {
            out.push_back({entry.key, "str", v});
          } else if constexpr (std::is_same_v<T, Array>) {
            out.push_back({entry.key, "array", array_json(v)});
          } else {
            out.push_back({entry.key, "dict", from_info(v.get())});
          }
        },
        entry.value);
  }
  return out;
}

}  // namespace state_json

StateReader::StateReader(const json& json, std::string owner, std::string path)
    : json_(json), owner_(std::move(owner)), path_(std::move(path)) {
  if (!json_.is_object()) {
    throw InvalidArgumentError(
        owner_ + " state: " + (path_.empty() ? std::string("the state") : "'" + path_ + "'") +
        " must be a JSON object (as save_state() writes it), got " +
        std::string(json_.type_name()));
  }
}

std::string StateReader::field(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void StateReader::fail(std::string_view key, const std::string& what) const {
  throw InvalidArgumentError(owner_ + " state: '" + field(key) + "' " + what);
}

bool StateReader::has(std::string_view key) const {
  return json_.contains(key);
}

const json& StateReader::at(std::string_view key) const {
  const auto it = json_.find(key);
  if (it == json_.end()) {
    fail(key, "is missing (the state must come from save_state() of an env made the same way)");
  }
  return *it;
}

StateReader StateReader::object(std::string_view key) const {
  const json& value = at(key);
  if (!value.is_object()) fail(key, "must be a JSON object, got " + value.dump());
  return StateReader(value, owner_, field(key));
}

bool StateReader::get_bool(std::string_view key) const {
  const json& value = at(key);
  if (!value.is_boolean()) fail(key, "must be true or false, got " + value.dump());
  return value.get<bool>();
}

std::int64_t StateReader::get_int(std::string_view key, std::int64_t min, std::int64_t max) const {
  return int_value(key, at(key), min, max);
}

std::int64_t StateReader::int_value(std::string_view key, const json& value, std::int64_t min,
                                    std::int64_t max) const {
  const bool fits = value.is_number_integer() &&
                    (!value.is_number_unsigned() || value.get<std::uint64_t>() <= INT64_MAX);
  if (!fits) fail(key, "must be an integer, got " + value.dump());
  const auto v = value.get<std::int64_t>();
  if (v < min || v > max) {
    fail(key, "is " + std::to_string(v) + ", outside [" + std::to_string(min) + ", " +
                  std::to_string(max) + "]");
  }
  return v;
}

std::uint64_t StateReader::get_uint64(std::string_view key) const {
  const json& value = at(key);
  if (!value.is_number_unsigned()) fail(key, "must be a non-negative integer, got " + value.dump());
  return value.get<std::uint64_t>();
}

double StateReader::double_value(std::string_view key, const json& value) const {
  if (value.is_number()) return value.get<double>();
  if (value == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (value == "inf") return std::numeric_limits<double>::infinity();
  if (value == "-inf") return -std::numeric_limits<double>::infinity();
  fail(key, "must be a number (or \"nan\", \"inf\", \"-inf\"), got " + value.dump());
}

double StateReader::get_double(std::string_view key) const {
  return double_value(key, at(key));
}

double StateReader::get_double(std::string_view key, double min, double max) const {
  const double v = get_double(key);
  if (!(v >= min && v <= max)) {
    fail(key,
         "is " + at(key).dump() + ", outside [" + json(min).dump() + ", " + json(max).dump() + "]");
  }
  return v;
}

std::string StateReader::get_string(std::string_view key) const {
  const json& value = at(key);
  if (!value.is_string()) fail(key, "must be a string, got " + value.dump());
  return value.get<std::string>();
}

std::size_t StateReader::get_choice(std::string_view key,
                                    std::span<const std::string_view> choices) const {
  const std::string value = get_string(key);
  std::string names;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == value) return i;
    names += (names.empty() ? "\"" : ", \"") + std::string(choices[i]) + "\"";
  }
  fail(key, "is \"" + value + "\", not one of " + names);
}

std::vector<double> StateReader::get_doubles(std::string_view key, std::size_t size) const {
  const json& value = at(key);
  if (!value.is_array() || (size != kAnySize && value.size() != size)) {
    fail(key, "must be an array of " +
                  (size == kAnySize ? std::string() : std::to_string(size) + " ") +
                  "numbers, got " + value.dump());
  }
  std::vector<double> out;
  out.reserve(value.size());
  for (const json& element : value) out.push_back(double_value(key, element));
  return out;
}

std::vector<float> StateReader::get_floats(std::string_view key, std::size_t size) const {
  const std::vector<double> values = get_doubles(key, size);
  std::vector<float> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    out[i] = static_cast<float>(values[i]);
    if (static_cast<double>(out[i]) != values[i] && !std::isnan(values[i])) {
      fail(key, "must hold float32 values; element " + std::to_string(i) + " is " +
                    json(values[i]).dump());
    }
  }
  return out;
}

std::vector<std::int64_t> StateReader::get_ints(std::string_view key, std::size_t size,
                                                std::int64_t min, std::int64_t max) const {
  const json& value = at(key);
  if (!value.is_array() || (size != kAnySize && value.size() != size)) {
    fail(key, "must be an array of " +
                  (size == kAnySize ? std::string() : std::to_string(size) + " ") +
                  "integers, got " + value.dump());
  }
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    out.push_back(int_value(std::string(key) + "[" + std::to_string(i) + "]", value[i], min, max));
  }
  return out;
}

std::vector<std::byte> StateReader::get_bytes(std::string_view key, std::size_t size) const {
  const json& value = at(key);
  std::optional<std::vector<std::byte>> bytes;
  if (value.is_string()) bytes = base64_decode(value.get_ref<const std::string&>());
  if (!bytes) fail(key, "must be base64 text, got " + value.dump());
  if (size != kAnySize && bytes->size() != size) {
    fail(key, "holds " + std::to_string(bytes->size()) + " bytes, the env's layout needs " +
                  std::to_string(size));
  }
  return std::move(*bytes);
}

Pcg64::State StateReader::get_rng(std::string_view key) const {
  const StateReader rng = object(key);
  if (rng.get_string("bit_generator") != "PCG64") {
    rng.fail("bit_generator", "must be \"PCG64\", got " + rng.at("bit_generator").dump());
  }
  const StateReader words = rng.object("state");
  Pcg64::State out;
  const auto word = [&](std::string_view name) {
    const auto parsed = parse_hex128(words.at(name));
    if (!parsed)
      words.fail(name, "must be a 128-bit hex number \"0x...\", got " + words.at(name).dump());
    return *parsed;
  };
  out.state = word("state");
  out.inc = word("inc");
  // PCG64's increment is always odd (numpy sets inc = 2 * initseq + 1).
  if ((out.inc & 1U) == 0) words.fail("inc", "must be odd, as PCG64's increment always is");
  out.has_uint32 = rng.get_bool("has_uint32");
  out.uinteger = static_cast<std::uint32_t>(rng.get_int("uinteger", 0, UINT32_MAX));
  return out;
}

namespace {

Info read_info(const json& entries, const StateReader& reader, std::string_view key);

// `entry` is one [key, type, value] of an Info, read as {"value": value, "type": type}.
InfoValue read_info_value(const std::string& type, const StateReader& entry) {
  if (type == "bool") return entry.get_bool("value");
  if (type == "int") return entry.get_int("value");
  if (type == "float") return entry.get_double("value");
  if (type == "str") return entry.get_string("value");
  if (type == "dict") return InfoBox(read_info(entry.at("value"), entry, "value"));
  if (type == "array") {
    const StateReader array = entry.object("value");
    const std::string dtype_text = array.get_string("dtype");
    DType dtype = DType::kFloat64;
    try {
      dtype = dtype_from_name(dtype_text);
    } catch (const InvalidArgumentError& e) {
      array.fail("dtype", e.what());
    }
    const auto shape = array.get_ints("shape", StateReader::kAnySize, 0, INT32_MAX);
    std::size_t elements = 1;
    for (const auto d : shape) {
      elements *= static_cast<std::size_t>(d);
      if (elements > (std::size_t{1} << 40)) array.fail("shape", "is too large");
    }
    const auto bytes = array.get_bytes("data", elements * dtype_size(dtype));
    return Array::from_bytes(dtype, shape, bytes);
  }
  entry.fail("type", "is \"" + type + "\", not one of bool, int, float, str, array, dict");
}

Info read_info(const json& entries, const StateReader& reader, std::string_view key) {
  if (!entries.is_array()) {
    reader.fail(key, "must be an array of [key, type, value] entries, got " + entries.dump());
  }
  Info info;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const json& entry = entries[i];
    if (!entry.is_array() || entry.size() != 3 || !entry[0].is_string() || !entry[1].is_string()) {
      reader.fail(key, "must hold [key, type, value] entries, got " + entry.dump());
    }
    const auto& name = entry[0].get_ref<const std::string&>();
    if (info.contains(name)) reader.fail(key, "has the key \"" + name + "\" twice");
    const json value = {{"value", entry[2]}, {"type", entry[1]}};
    const StateReader entry_reader(value, reader.owner(),
                                   reader.field(key) + "[" + std::to_string(i) + "]");
    InfoValue read = read_info_value(entry[1].get<std::string>(), entry_reader);
    std::visit(
        [&](auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, InfoBox>) {
            info.set(name, v.get());
          } else if constexpr (std::is_same_v<T, std::string>) {
            info.set(name, std::string_view(v));
          } else {
            info.set(name, std::move(v));
          }
        },
        read);
  }
  return info;
}

}  // namespace

Info StateReader::get_info(std::string_view key) const {
  return read_info(at(key), *this, key);
}

}  // namespace locus::envs
