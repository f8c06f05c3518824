#pragma once
// The names an enum's values have in configs, in one table per enum read both ways: parse() for
// the config reader, name() for writing a config back. Shared by the agent config, the network
// spec and every other config that takes a choice, so that an unknown name is refused the same way
// everywhere: with the closest name and the full list.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/reader.hpp"

namespace locus::config {

// "unknown <what> '<text>' (did you mean '<closest>'?); choose one of: a, b, c".
std::string unknown_name_message(std::string_view what, std::string_view text,
                                 const std::vector<std::string>& names);

template <class Enum, std::size_t N>
class EnumNames {
 public:
  constexpr explicit EnumNames(std::array<std::pair<Enum, std::string_view>, N> names)
      : names_(names) {}

  // The value's name ("?" for a value outside the table, which a cast could make).
  constexpr std::string_view name(Enum value) const {
    for (const auto& [v, text] : names_) {
      if (v == value) return text;
    }
    return "?";
  }

  std::optional<Enum> find(std::string_view text) const {
    for (const auto& [v, name] : names_) {
      if (name == text) return v;
    }
    return std::nullopt;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : names_) out.emplace_back(entry.second);
    return out;
  }

  // The value named `text`; otherwise `raise` (or ConfigError) with "unknown <what> '<text>'
  // (did you mean '<closest>'?); choose one of: <names>".
  Enum parse(std::string_view text, std::string_view what, Raise raise = nullptr) const {
    if (const auto value = find(text)) return *value;
    const std::string message = unknown_name_message(what, text, names());
    if (raise != nullptr) raise(message);
    throw ConfigError(message);
  }

 private:
  std::array<std::pair<Enum, std::string_view>, N> names_;
};

}  // namespace locus::config
