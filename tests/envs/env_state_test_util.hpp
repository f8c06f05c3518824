#pragma once
// Helpers of the [env_state] tests: an env's steps recorded byte for byte, so that a restored env
// can be compared with the one it was saved from.

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "envs/env.hpp"
#include "envs/state_json.hpp"
#include "envs/vector_env.hpp"

namespace locus::envs::state_test {

// An Info as its state JSON, without RecordEpisodeStatistics' wall-clock "t".
inline std::string info_text(const Info& info) {
  nlohmann::json json = state_json::from_info(info);
  for (auto& entry : json) {
    if (entry[0] == "episode" && entry[1] == "dict") {
      auto& stats = entry[2];
      for (std::size_t i = 0; i < stats.size(); ++i) {
        if (stats[i][0] == "t") stats.erase(i);
      }
    }
  }
  return json.dump();
}

inline void append_bytes(std::string& tape, std::span<const std::byte> bytes) {
  tape.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

inline void append_step(std::string& tape, std::span<const std::byte> obs,
                        const StepOutcome& outcome, const Info& info) {
  append_bytes(tape, obs);
  append_bytes(tape, std::as_bytes(std::span(&outcome.reward, 1)));
  tape += outcome.terminated ? 'T' : '-';
  tape += outcome.truncated ? 'U' : '-';
  tape += info_text(info);
  tape += '\n';
}

// `steps` steps with actions sampled from the action space seeded with `action_seed`, resetting
// (unseeded) when an episode ends; every observation, reward, flag, info and (with a render mode)
// rendering, as bytes.
inline std::string play(Env& env, std::uint64_t action_seed, int steps) {
  env.action_space().seed(action_seed);
  std::vector<std::byte> action(env.action_space().packed_bytes());
  std::vector<std::byte> obs(env.observation_space().packed_bytes());
  Info info;
  std::string tape;
  for (int t = 0; t < steps; ++t) {
    if (env.episode_over()) {
      env.reset(obs, info);
      append_step(tape, obs, {}, info);
    }
    env.action_space().sample_packed(action);
    const StepOutcome outcome = env.step(action, obs, info);
    append_step(tape, obs, outcome, info);
    if (env.render_mode()) tape += env.render();
  }
  return tape;
}

// Steps `steps` times (as play), or fewer when `stop_at_episode_end` and an episode ends first
// (the env is then left right after that end, not reset). Returns the steps taken.
inline int advance(Env& env, std::uint64_t action_seed, int steps, bool stop_at_episode_end) {
  env.action_space().seed(action_seed);
  std::vector<std::byte> action(env.action_space().packed_bytes());
  std::vector<std::byte> obs(env.observation_space().packed_bytes());
  Info info;
  for (int t = 0; t < steps; ++t) {
    if (env.episode_over()) env.reset(obs, info);
    env.action_space().sample_packed(action);
    const StepOutcome outcome = env.step(action, obs, info);
    if (stop_at_episode_end && (outcome.terminated || outcome.truncated)) return t + 1;
  }
  return steps;
}

// What a VectorEnv shows now: every observation, reward, flag, info and final observation.
inline std::string vector_view(const VectorEnv& vec) {
  std::string tape;
  for (std::size_t i = 0; i < vec.num_envs(); ++i) {
    append_bytes(tape, vec.observation_bytes(i));
    append_bytes(tape, std::as_bytes(vec.rewards().subspan(i, 1)));
    tape += vec.terminations()[i] != 0 ? 'T' : '-';
    tape += vec.truncations()[i] != 0 ? 'U' : '-';
    tape += info_text(vec.info(i));
    if (vec.has_final(i)) {
      append_bytes(
          tape, vec.final_observation_bytes().subspan(
                    i * vec.observation_stride(), vec.single_observation_space().packed_bytes()));
      tape += info_text(vec.final_info(i));
    }
    tape += '\n';
  }
  return tape;
}

inline std::string play_vector(VectorEnv& vec, std::uint64_t action_seed, int steps) {
  vec.action_space().seed(action_seed);
  std::vector<std::byte> actions(vec.num_envs() * vec.action_stride());
  const std::size_t action_bytes = vec.single_action_space().packed_bytes();
  std::vector<std::byte> batch(vec.action_space().packed_bytes());
  std::string tape;
  for (int t = 0; t < steps; ++t) {
    vec.action_space().sample_packed(batch);
    for (std::size_t i = 0; i < vec.num_envs(); ++i) {
      std::memcpy(actions.data() + i * vec.action_stride(), batch.data() + i * action_bytes,
                  action_bytes);
    }
    vec.step(std::span<const std::byte>(actions));
    tape += vector_view(vec);
  }
  return tape;
}

}  // namespace locus::envs::state_test
