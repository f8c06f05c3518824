#include "config/json.hpp"

#include <fmt/format.h>

#include <set>
#include <string>
#include <vector>

namespace locus::config {

nlohmann::json parse_json(std::string_view text, std::string_view source) {
  struct OpenObject {
    std::string path;  // where it sits in the document, for the message
    std::set<std::string> keys;
  };
  std::vector<OpenObject> open;
  std::string last_key;
  const auto check_keys = [&](int /*depth*/, nlohmann::json::parse_event_t event,
                              nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) {
      open.push_back({open.empty() ? std::string("the top level")
                                   : fmt::format("the object under '{}'", last_key),
                      {}});
    } else if (event == Event::object_end) {
      open.pop_back();
    } else if (event == Event::key) {
      last_key = parsed.get<std::string>();
      if (!open.back().keys.insert(last_key).second) {
        throw ParseError(fmt::format("{}: key '{}' is given twice in {}; keep one of them", source,
                                     last_key, open.back().path));
      }
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), check_keys);
  } catch (const nlohmann::json::exception& e) {
    throw ParseError(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
}

}  // namespace locus::config
