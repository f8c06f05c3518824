#include "envs/cognitive/cognitive_env.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "envs/errors.hpp"
#include "envs/state_json.hpp"

namespace locus::envs {

void CognitiveEnv::read_common_settings(KwargsReader& kwargs, double default_sigma,
                                        CommonSettings& settings) {
  const std::string& context = kwargs.context();
  settings.sigma = kwargs.get<double>("sigma", default_sigma);
  if (!std::isfinite(settings.sigma) || settings.sigma < 0) {
    throw InvalidArgumentError(context + ": 'sigma' must be a finite non-negative number, got " +
                               nlohmann::json(settings.sigma).dump());
  }
  settings.render_mode = kwargs.get<std::string>("render_mode", "");
  if (!settings.render_mode.empty() && settings.render_mode != "ansi") {
    throw UnsupportedRenderModeError(context + ": 'render_mode' must be \"ansi\" or null, got \"" +
                                     settings.render_mode + "\"");
  }
  settings.trials_per_episode = kwargs.get<std::int64_t>("trials_per_episode", 0);
  if (settings.trials_per_episode < 0) {
    throw InvalidArgumentError(context + ": 'trials_per_episode' must be 0 (endless trials) or " +
                               "positive, got " + std::to_string(settings.trials_per_episode));
  }
}

void CognitiveEnv::set_task_spaces(const CommonSettings& settings, double dt,
                                   std::size_t observation_size, double low, double high,
                                   std::int64_t num_actions) {
  noise_std_ = settings.sigma / std::sqrt(dt);
  // Gaussian noise is unbounded; without it every channel stays within [low, high].
  const bool noisy = noise_std_ > 0;
  const double inf = std::numeric_limits<double>::infinity();
  set_observation_space(std::make_shared<Box>(noisy ? -inf : low, noisy ? inf : high,
                                              Shape{static_cast<std::int64_t>(observation_size)},
                                              DType::kFloat32));
  set_action_space(std::make_shared<Discrete>(num_actions));
  metadata_.render_modes = {"ansi"};
  metadata_.render_fps = 1000.0 / dt;  // one frame per step of dt milliseconds
  if (!settings.render_mode.empty()) {
    set_render_mode(settings.render_mode);
    rendering_ = true;
  }
}

std::string CognitiveEnv::render_without_mode() {
  warn(name() +
       ": render() was called without a render mode; make the env with render_mode \"ansi\" "
       "(kwargs {\"render_mode\": \"ansi\"}) to get a text line per step");
  return "";
}

void CognitiveEnv::append_observation(std::string& line, std::span<const float> observation) {
  char buffer[64];
  line += " -> obs [";
  for (std::size_t i = 0; i < observation.size(); ++i) {
    std::snprintf(buffer, sizeof(buffer), i == 0 ? "%.2f" : " %.2f",
                  static_cast<double>(observation[i]));
    line += buffer;
  }
  line += "]";
}

StateReader CognitiveEnv::render_fields(const StateReader& fields) {
  if (fields.at("render").is_null()) {
    fields.fail("render", "is null: the state was saved without render_mode \"ansi\"");
  }
  return fields.object("render");
}

}  // namespace locus::envs
