#include "bench/harness/methods/method_presets.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "bench/harness/errors.hpp"
#include "config/reader.hpp"

namespace locus::bench {

using nlohmann::json;

const std::vector<MethodPreset>& method_presets() {
  static const std::vector<MethodPreset> presets = {
      {"naive", json::object(), "fine-tuning on each task in turn: the lower bound"},
      {"cumulative",
       {{"joint", true}},
       "every earlier task's data replayed (Avalanche's Cumulative)"},
      {"joint",
       {{"joint_offline", true}},
       "every task's data from the start (Avalanche's JointTraining): the upper bound"},
      {"ewc",
       {{"ewc_lambda", 10000.0}},
       "Kirkpatrick 2017; lambda as tuned on task-incremental Split Fashion-MNIST "
       "(bench/configs/ewc_baselines.yaml; Avalanche has no default)"},
      {"online-ewc",
       {{"ewc_lambda", 10000.0}, {"ewc_online", true}, {"ewc_gamma", 0.9}},
       "Schwarz 2018; lambda as for ewc, gamma 0.9"},
      {"si",
       {{"si_lambda", 5.0}, {"si_xi", 0.001}},
       "Zenke 2017; c and xi as tuned on task-incremental Split Fashion-MNIST with SGD lr 0.01 "
       "(bench/configs/regularization_baselines.yaml; Avalanche has no default for c)"},
      {"mas",
       {{"mas_lambda", 1.0}, {"mas_alpha", 0.5}},
       "Aljundi 2018; lambda 1 and alpha 0.5, Avalanche's defaults"},
      {"lwf",
       {{"lwf_alpha", 1.0}, {"lwf_temperature", 2.0}},
       "Li and Hoiem 2016; alpha 1 and temperature 2, Avalanche's defaults"},
      {"replay", {{"replay_memory", 500}}, "Chaudhry 2019: a reservoir of 500 examples"},
      {"der", {{"replay_memory", 500}, {"der_alpha", 0.3}}, "Buzzega 2020: alpha 0.3"},
      {"der++",
       {{"replay_memory", 500}, {"der_alpha", 0.1}, {"der_beta", 0.5}},
       "Buzzega 2020: alpha 0.1, beta 0.5"},
      {"agem",
       {{"replay_memory", 500}, {"agem", true}, {"replay_batch", 256}},
       "Chaudhry 2019: a reference batch of 256 from a memory of 500"},
      {"packnet",
       {{"packnet_prune", 0.5}, {"packnet_retrain", 20}},
       "Mallya 2018: half of the free weights pruned per task (the paper's and Avalanche's 0.5), "
       "the last 20 iterations retraining (Avalanche has no default)"},
      {"xdg",
       {{"xdg_keep", 0.2}},
       "Masse 2018: each task keeps 20 % of the hidden units (80 % gated off, the paper's)"},
  };
  return presets;
}

json with_method_defaults(const json& settings) {
  const auto it = settings.find("method");
  if (it == settings.end()) return settings;
  if (!it->is_string()) {
    throw InvalidArgumentError(
        fmt::format("setting 'method' must be a method's name, got {}", it->dump()));
  }
  const std::string name = it->get<std::string>();
  std::vector<std::string> names;
  for (const MethodPreset& preset : method_presets()) {
    if (preset.name != name) {
      names.push_back(preset.name);
      continue;
    }
    json out = settings;
    for (const auto& [key, value] : preset.settings.items()) {
      if (!out.contains(key)) out[key] = value;
    }
    return out;
  }
  const std::string guess = config::closest_name(name, names);
  throw InvalidArgumentError(fmt::format("unknown method '{}'{}; methods: {}", name,
                                         guess.empty() ? "" : " (did you mean '" + guess + "'?)",
                                         fmt::join(names, ", ")));
}

std::string method_presets_help() {
  std::string out;
  for (const MethodPreset& preset : method_presets()) {
    out += fmt::format("  {:<12} {:<58} {}\n", preset.name, preset.settings.dump(), preset.source);
  }
  return out;
}

}  // namespace locus::bench
