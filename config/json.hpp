#pragma once
// JSON configuration text, read as JSON's RFC asks of a config: a key given twice in one object is
// refused (nlohmann::json would keep the last one silently).

#include <nlohmann/json.hpp>
#include <string_view>

#include "config/errors.hpp"

namespace locus::config {

// Parses `text`; throws ParseError naming `source` (a file name, or a phrase such as "run
// config") for invalid JSON or a duplicate key (with the path of the object that holds it).
nlohmann::json parse_json(std::string_view text, std::string_view source);

}  // namespace locus::config
