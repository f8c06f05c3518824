// cognitive_dump: runs one locus cognitive task (GoNoGo-v0, PerceptualDecisionMaking-v0, ...) with
// forced trial conditions on a given action sequence and prints its trajectory, one JSON object per
// line, so that tests/envs/neurogym_oracle_gonogo.py can replay the same trials and actions in
// NeuroGym and compare.
//
//   cognitive_dump ENV_ID SEED [--kwargs JSON] [--trials JSON] < actions
//
// The env is made with make(ENV_ID, kwargs) and no effective time limit. --trials is a JSON list of
// trial conditions (e.g. [{"ground_truth": 1}, {"ground_truth": 0}]); they are queued before
// reset(SEED), so the first one is the reset's trial and each later one the next trial's. stdin
// holds the actions as whitespace-separated integers. When an episode ends (trials_per_episode)
// the env is reset without a seed.
//
// Lines:
//   {"reset": [obs...], "info": {...}}
//   {"obs": [obs...], "reward": r, "terminated": b, "truncated": b, "info": {...}}
// Observations are the float32 values converted to double, rewards in full precision; info holds
// target and trial_ended, plus trial and ground_truth on reset and at a trial's end, and outcome
// and correct at a trial's end.
#include <cstdint>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "envs/cognitive/trial_env.hpp"
#include "envs/registry.hpp"
#include "tests/envs/dump_command.hpp"

namespace {

using locus::envs::Info;
using locus::envs::Kwargs;
using locus::envs::testing::float32_values_json;
using nlohmann::json;

// The keys a step or reset set (trial, ground_truth, outcome and correct only when a trial begins
// or ends).
json info_json(const Info& info) {
  json out = {{"target", info.get_int("target")}, {"trial_ended", info.get_bool("trial_ended")}};
  for (const char* key : {"trial", "ground_truth"}) {
    if (info.contains(key)) out[key] = info.get_int(key);
  }
  if (info.contains("outcome")) out["outcome"] = info.get_string("outcome");
  if (info.contains("correct")) out["correct"] = info.get_bool("correct");
  return out;
}

int usage() {
  std::cerr << "usage: cognitive_dump ENV_ID SEED [--kwargs JSON] [--trials JSON] < actions\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const auto command =
      locus::envs::testing::parse_dump_command(argc, argv, {"--kwargs", "--trials"});
  if (!command) return usage();
  const std::string& id = command->env_id;
  const std::uint64_t seed = command->seed;
  const Kwargs kwargs = command->flag_or("--kwargs", Kwargs::object());
  const json trials = command->flag_or("--trials", json::array());
  try {
    // No time limit in effect: the oracle's runs are far shorter than this.
    auto env = locus::envs::make(id, kwargs, {.max_episode_steps = std::int64_t{1} << 40});
    auto* task = dynamic_cast<locus::envs::TrialEnv*>(&env->unwrapped());
    if (!trials.empty()) {
      if (task == nullptr) {
        std::cerr << "cognitive_dump: " << id << " takes no trial conditions\n";
        return 2;
      }
      for (const auto& conditions : trials) task->queue_trial(conditions);
    }
    std::vector<std::byte> observation(env->observation_space().packed_bytes());
    std::vector<std::byte> action(env->action_space().packed_bytes());
    Info info;

    env->reset(observation, info, seed);
    std::cout << json{{"reset", float32_values_json(observation)}, {"info", info_json(info)}}.dump()
              << '\n';
    std::int64_t a = 0;
    while (std::cin >> a) {
      std::memcpy(action.data(), &a, sizeof a);
      const auto outcome = env->step(action, observation, info);
      std::cout << json{{"obs", float32_values_json(observation)},
                        {"reward", outcome.reward},
                        {"terminated", outcome.terminated},
                        {"truncated", outcome.truncated},
                        {"info", info_json(info)}}
                       .dump()
                << '\n';
      if (outcome.terminated || outcome.truncated) {
        env->reset(observation, info);
        std::cout
            << json{{"reset", float32_values_json(observation)}, {"info", info_json(info)}}.dump()
            << '\n';
      }
    }
  } catch (const std::exception& error) {
    std::cerr << "cognitive_dump: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
