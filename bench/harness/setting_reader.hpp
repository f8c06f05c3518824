#pragma once
// How the harness converts a sweep's setting values: the project's one config reader
// (config/reader.hpp), calling keys "setting" and refusing with bench's InvalidArgumentError.

#include <nlohmann/json.hpp>

#include "bench/harness/errors.hpp"
#include "config/reader.hpp"

namespace locus::bench {

// Converts one value (the caller looks it up, with its default) in the reader's words:
// setting_converter().convert<double>(value, "lr").
inline const config::Reader& setting_converter() {
  static const nlohmann::json kNoKeys;
  static const config::Reader reader(
      kNoKeys, "", {.key_noun = "setting", .raise = &config::raise_as<InvalidArgumentError>});
  return reader;
}

}  // namespace locus::bench
