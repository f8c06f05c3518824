#pragma once
// YAML configuration text as JSON: the one reader behind every YAML config of locus (run configs,
// sweep configs), so that they agree on what a scalar means and refuse the same mistakes.
//
// Scalars follow YAML 1.2's core schema, restricted to what a config needs: quoted text is always
// a string; true/false (True, TRUE, ...) are booleans; ~, null and an empty value are null;
// decimal, 0x and 0o integers that fit int64 are integers; other numbers are doubles; anything
// else is a string. Refused, with the line: a key given twice in one mapping (YAML says keys are
// unique; yaml-cpp would keep both and lookups would see only one), a key that is not a scalar, and
// .nan / .inf (no setting takes them, and JSON cannot hold them).

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "config/errors.hpp"

namespace locus::config {

// Parses `text` and checks the whole document (the rules above). `source` names it in messages:
// a file name, or a phrase such as "sweep config".
YAML::Node load_yaml(std::string_view text, std::string_view source);

// A node of a document that load_yaml() accepted, as JSON (mappings become objects, so their
// order is lost: iterate the node itself where order matters).
nlohmann::json yaml_to_json(const YAML::Node& node, std::string_view source);

// load_yaml() then yaml_to_json().
nlohmann::json parse_yaml(std::string_view text, std::string_view source);

}  // namespace locus::config
