#include "config/reader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "config/enum_names.hpp"

namespace locus::config {

namespace {

// [-2^63, 2^63) holds exactly the doubles that convert to int64 (casting others is undefined).
constexpr double kTwo63 = 9223372036854775808.0;
constexpr double kTwo64 = 18446744073709551616.0;

bool is_integral_double(const nlohmann::json& value) {
  if (!value.is_number_float()) return false;
  const double d = value.get<double>();
  return std::isfinite(d) && std::trunc(d) == d;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: a swap of two neighbouring letters ("gur" for "gru") counts one.
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string closest_name(std::string_view unknown, const std::vector<std::string>& accepted) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(1, unknown.size() / 3) + 1;
  for (const auto& name : accepted) {
    const std::size_t distance = edit_distance(unknown, name);
    if (distance < best_distance) {
      best = name;
      best_distance = distance;
    }
  }
  return best;
}

Reader::Reader(const nlohmann::json& object, std::string context, ReaderOptions options)
    : object_(object), context_(std::move(context)), options_(options) {
  if (!object_.is_null() && !object_.is_object()) {
    fail(fmt::format("must be a JSON object (a mapping of {}s to values), got {}",
                     options_.key_noun, object_.dump()));
  }
}

void Reader::fail(const std::string& problem) const {
  const std::string message = context_.empty() ? problem : context_ + ": " + problem;
  if (options_.raise != nullptr) options_.raise(message);
  throw ConfigError(message);  // also when the caller's raise did not throw
}

const nlohmann::json* Reader::lookup(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  if (!object_.is_object()) return nullptr;
  const auto it = object_.find(key);
  return it == object_.end() || it->is_null() ? nullptr : &*it;
}

void Reader::refuse_type(std::string_view key, std::string_view expected,
                         const nlohmann::json& value) const {
  fail(fmt::format("{} must be {}, got {}", quoted(key), expected, value.dump()));
}

std::int64_t Reader::to_int64(const nlohmann::json& value, std::string_view key) const {
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(INT64_MAX)) {
      refuse_range(key, value.dump(), std::int64_t{INT64_MIN}, std::int64_t{INT64_MAX});
    }
    return static_cast<std::int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (!is_integral_double(value)) refuse_type(key, "an integer", value);
  const double d = value.get<double>();
  if (d < -kTwo63 || d >= kTwo63) {
    refuse_range(key, value.dump(), std::int64_t{INT64_MIN}, std::int64_t{INT64_MAX});
  }
  return static_cast<std::int64_t>(d);
}

std::uint64_t Reader::to_uint64(const nlohmann::json& value, std::string_view key) const {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer()) {  // signed: parsed text is unsigned when >= 0, C++ ints not
    const auto i = value.get<std::int64_t>();
    if (i < 0) refuse_range(key, value.dump(), std::uint64_t{0}, std::uint64_t{UINT64_MAX});
    return static_cast<std::uint64_t>(i);
  }
  if (!is_integral_double(value)) refuse_type(key, "a whole number", value);
  const double d = value.get<double>();
  if (d < 0.0 || d >= kTwo64) {
    refuse_range(key, value.dump(), std::uint64_t{0}, std::uint64_t{UINT64_MAX});
  }
  return static_cast<std::uint64_t>(d);
}

double Reader::to_double(const nlohmann::json& value, std::string_view key) const {
  // NaN and infinity reach here from Python floats (JSON text cannot hold them): no setting
  // means anything by them, and they would poison every step silently.
  if (!value.is_number() || !std::isfinite(value.get<double>())) {
    refuse_type(key, "a finite number", value);
  }
  return value.get<double>();
}

std::string Reader::get_choice(std::string_view key, std::string fallback,
                               const std::vector<std::string>& choices) {
  std::string value = get<std::string>(key, std::move(fallback));
  if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
    fail(unknown_name_message(quoted(key) + " value", value, choices));
  }
  return value;
}

std::vector<double> Reader::get_numbers(std::string_view key, const std::vector<double>& fallback) {
  const nlohmann::json* value = lookup(key);
  if (value == nullptr) return fallback;
  const bool numbers = value->is_array() && !value->empty() &&
                       std::all_of(value->begin(), value->end(), [](const nlohmann::json& e) {
                         return e.is_number() && std::isfinite(e.get<double>());
                       });
  if (!numbers) refuse_type(key, "a non-empty list of finite numbers", *value);
  std::vector<double> out;
  out.reserve(value->size());
  for (const auto& e : *value) out.push_back(e.get<double>());
  return out;
}

const nlohmann::json* Reader::get_object(std::string_view key) {
  const nlohmann::json* value = lookup(key);
  if (value != nullptr && !value->is_object()) refuse_type(key, "a JSON object", *value);
  return value;
}

const nlohmann::json* Reader::get_raw(std::string_view key) {
  return lookup(key);
}

void Reader::finish() const {
  if (!object_.is_object()) return;
  for (const auto& item : object_.items()) {
    if (std::find(known_.begin(), known_.end(), item.key()) != known_.end()) continue;
    const std::string guess = closest_name(item.key(), known_);
    fail(fmt::format("unknown {} '{}'{}; accepted: {}", options_.key_noun, item.key(),
                     guess.empty() ? "" : " (did you mean '" + guess + "'?)",
                     known_.empty() ? "none" : fmt::format("{}", fmt::join(known_, ", "))));
  }
}

std::string unknown_name_message(std::string_view what, std::string_view text,
                                 const std::vector<std::string>& names) {
  const std::string guess = closest_name(text, names);
  return fmt::format("unknown {} '{}'{}; choose one of: {}", what, text,
                     guess.empty() ? "" : " (did you mean '" + guess + "'?)",
                     fmt::join(names, ", "));
}

}  // namespace locus::config
