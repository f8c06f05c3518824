// VectorEnv::save_state and VectorEnv::restore_state: every sub-env's state and the batch's own
// (what each env returned last, the autoreset flags, the time limit's counters).
//
// The state: {"class": "VectorEnv", "num_envs", "autoreset_mode", "has_reset", "envs": [per env:
//   {"env": Env::save_state(), "observation": bytes, "reward", "terminated", "truncated",
//    "needs_reset", "elapsed", "info", "has_final", "final_observation": bytes or null,
//    "final_info": Info or null}]}

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "envs/state_json.hpp"
#include "envs/vector_env.hpp"

namespace locus::envs {

namespace {

constexpr const char* kOwner = "VectorEnv";

void require_state_support(const std::vector<std::unique_ptr<Env>>& envs, const char* what) {
  for (std::size_t i = 0; i < envs.size(); ++i) {
    if (!envs[i]->supports_state()) {
      throw UnsupportedStateError(std::string("VectorEnv.") + what + ": env " + std::to_string(i) +
                                  " (" + envs[i]->to_string() +
                                  ") cannot save and restore its state (supports_state() is "
                                  "false); keep the VectorEnv running, or reset it where a run "
                                  "resumes");
    }
  }
}

}  // namespace

bool VectorEnv::supports_state() const {
  return std::all_of(envs_.begin(), envs_.end(),
                     [](const std::unique_ptr<Env>& env) { return env->supports_state(); });
}

nlohmann::json VectorEnv::save_state() const {
  require_state_support(envs_, "save_state");
  nlohmann::json envs = nlohmann::json::array();
  for (std::size_t i = 0; i < envs_.size(); ++i) {
    const bool has_final = !has_final_.empty() && has_final_[i] != 0;
    envs.push_back(
        {{"env", envs_[i]->save_state()},
         {"observation", state_json::from_bytes(observation_bytes(i))},
         {"reward", state_json::from_double(rewards_[i])},
         {"terminated", terminations_[i] != 0},
         {"truncated", truncations_[i] != 0},
         {"needs_reset", needs_reset_[i] != 0},
         {"elapsed", elapsed_[i]},
         {"info", state_json::from_info(infos_[i])},
         {"has_final", has_final},
         {"final_observation",
          has_final
              ? state_json::from_bytes(std::span(final_observations_)
                                           .subspan(i * observation_stride_, observation_bytes_))
              : nlohmann::json()},
         {"final_info", has_final ? state_json::from_info(final_infos_[i]) : nlohmann::json()}});
  }
  return {{"class", kOwner},
          {"num_envs", envs_.size()},
          {"autoreset_mode", envs::to_string(options_.autoreset_mode)},
          {"has_reset", has_reset_},
          {"envs", envs}};
}

void VectorEnv::restore_state(const nlohmann::json& state) {
  require_state_support(envs_, "restore_state");
  const StateReader reader(state, kOwner);
  if (reader.get_string("class") != kOwner) {
    reader.fail("class", "is " + reader.at("class").dump() + ", not a VectorEnv's state");
  }
  const auto n = static_cast<std::int64_t>(envs_.size());
  const std::int64_t saved_n = reader.get_int("num_envs", 0);
  if (saved_n != n) {
    reader.fail("num_envs", "is " + std::to_string(saved_n) + " but this VectorEnv has " +
                                std::to_string(n) + " envs; restore into one made the same way");
  }
  const std::string mode = reader.get_string("autoreset_mode");
  if (mode != envs::to_string(options_.autoreset_mode)) {
    reader.fail("autoreset_mode", "is \"" + mode + "\" but this VectorEnv autoresets " +
                                      std::string(envs::to_string(options_.autoreset_mode)));
  }
  const nlohmann::json& envs = reader.at("envs");
  if (!envs.is_array() || static_cast<std::int64_t>(envs.size()) != n) {
    reader.fail("envs", "must be an array of " + std::to_string(n) + " env states");
  }
  state_json::apply_or_roll_back(state, save_state(),
                                 [this](const nlohmann::json& s) { apply_state(s); });
}

void VectorEnv::apply_state(const nlohmann::json& state) {
  const StateReader reader(state, kOwner);
  const bool has_reset = reader.get_bool("has_reset");
  const nlohmann::json& envs = reader.at("envs");
  const bool same_step = options_.autoreset_mode == AutoresetMode::kSameStep;
  for (std::size_t i = 0; i < envs_.size(); ++i) {
    const StateReader entry(envs[i], kOwner, "envs[" + std::to_string(i) + "]");
    std::vector<std::byte> observation = entry.get_bytes("observation", observation_bytes_);
    const double reward = entry.get_double("reward");
    const bool terminated = entry.get_bool("terminated");
    const bool truncated = entry.get_bool("truncated");
    const bool needs_reset = entry.get_bool("needs_reset");
    const std::int64_t elapsed =
        entry.get_int("elapsed", 0, time_limit_ > 0 ? time_limit_ : INT64_MAX);
    Info info = entry.get_info("info");
    const bool has_final = entry.get_bool("has_final");
    if (has_final && !same_step) entry.fail("has_final", "is true outside SameStep autoreset");
    std::vector<std::byte> final_observation;
    Info final_info;
    if (has_final) {
      final_observation = entry.get_bytes("final_observation", observation_bytes_);
      final_info = entry.get_info("final_info");
    }
    envs_[i]->restore_state(entry.at("env"));

    std::memcpy(observation_slice(observations_, i).data(), observation.data(), observation_bytes_);
    rewards_[i] = reward;
    terminations_[i] = terminated ? 1 : 0;
    truncations_[i] = truncated ? 1 : 0;
    needs_reset_[i] = needs_reset ? 1 : 0;
    elapsed_[i] = elapsed;
    infos_[i] = std::move(info);
    has_final_[i] = has_final ? 1 : 0;
    if (has_final) {
      std::memcpy(observation_slice(final_observations_, i).data(), final_observation.data(),
                  observation_bytes_);
      final_infos_[i] = std::move(final_info);
    }
  }
  has_reset_ = has_reset;
  has_staged_actions_ = false;
}

}  // namespace locus::envs
