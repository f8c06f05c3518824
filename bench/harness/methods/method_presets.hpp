#pragma once
// The `method` setting of a supervised run: a continual-learning method by name, whose settings
// take its paper's or Avalanche's values unless the run sets them. `method: ewc` is
// `ewc_lambda: 10000`; `{method: ewc, ewc_lambda: 500}` keeps the 500.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace locus::bench {

struct MethodPreset {
  std::string name;
  nlohmann::json settings;  // the settings it fills in
  std::string source;       // where its values come from
};

const std::vector<MethodPreset>& method_presets();
// `settings` with the settings of its `method` (if any) filled in where absent. Throws
// InvalidArgumentError naming an unknown method and the known ones.
nlohmann::json with_method_defaults(const nlohmann::json& settings);
// The methods and what each sets, as help text.
std::string method_presets_help();

}  // namespace locus::bench
