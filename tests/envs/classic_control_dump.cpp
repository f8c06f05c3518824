// classic_control_dump: runs one locus environment on a given action sequence and prints its
// trajectory, one JSON object per line, so that tests/envs/gymnasium_oracle_classic_control.py can
// replay the same sequence in Gymnasium and compare.
//
//   classic_control_dump ENV_ID SEED [--kwargs JSON] [--options JSON] [--attrs JSON] < actions
//
// The env is made with make(ENV_ID, kwargs) (so TimeLimit applies) and reset with reset(SEED,
// options). --attrs sets what Gymnasium users set as attributes of an unwrapped Acrobot:
// {"dt": 0.1, "torque_noise_max": 0.2, "book_or_nips": "nips"}. stdin holds the actions as
// whitespace-separated numbers, one per element of the packed action (an integer for Discrete, a
// float per element for a float32 Box). When an episode ends the env is reset without a seed, as a
// Gymnasium loop would.
//
// Lines:
//   {"reset": [obs...]}
//   {"obs": [obs...], "reward": r, "terminated": b, "truncated": b}
// Observations are printed as the float32 values converted to double, rewards in full precision.
#include <cstdint>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "envs/classic_control/acrobot.hpp"
#include "envs/registry.hpp"
#include "tests/envs/dump_command.hpp"

namespace {

using locus::envs::Box;
using locus::envs::DType;
using locus::envs::Info;
using locus::envs::Kwargs;
using locus::envs::SpaceKind;
using locus::envs::testing::float32_values_json;
using nlohmann::json;

void set_acrobot_attributes(locus::envs::Env& env, const Kwargs& attrs) {
  auto& acrobot = dynamic_cast<locus::envs::AcrobotEnv&>(env);
  locus::envs::KwargsReader reader(attrs, "--attrs");
  acrobot.set_dt(reader.get<double>("dt", acrobot.dt()));
  acrobot.set_torque_noise_max(reader.get<double>("torque_noise_max", acrobot.torque_noise_max()));
  const std::string dynamics = reader.get<std::string>("book_or_nips", "book");
  reader.finish();
  acrobot.set_dynamics(dynamics == "nips" ? locus::envs::AcrobotDynamics::kNips
                                          : locus::envs::AcrobotDynamics::kBook);
}

int usage() {
  std::cerr
      << "usage: classic_control_dump ENV_ID SEED [--kwargs JSON] [--options JSON] [--attrs JSON] "
         "< actions\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const auto command =
      locus::envs::testing::parse_dump_command(argc, argv, {"--kwargs", "--options", "--attrs"});
  if (!command) return usage();
  const std::string& id = command->env_id;
  const std::uint64_t seed = command->seed;
  const Kwargs kwargs = command->flag_or("--kwargs", Kwargs::object());
  const Kwargs options = command->flag_or("--options", Kwargs::object());
  const Kwargs attrs = command->flag_or("--attrs", Kwargs::object());
  try {
    auto env = locus::envs::make(id, kwargs);
    if (!attrs.empty()) set_acrobot_attributes(env->unwrapped(), attrs);
    const auto& obs_box = dynamic_cast<const Box&>(env->observation_space());
    if (obs_box.dtype() != DType::kFloat32) {
      std::cerr << "classic_control_dump: expected a float32 observation space\n";
      return 2;
    }
    std::vector<std::byte> observation(env->observation_space().packed_bytes());
    std::vector<std::byte> action(env->action_space().packed_bytes());
    const bool discrete = env->action_space().kind() == SpaceKind::kDiscrete;
    Info info;

    env->reset(observation, info, seed, options);
    std::cout << json{{"reset", float32_values_json(observation)}}.dump() << '\n';
    for (;;) {
      if (discrete) {
        std::int64_t a = 0;
        if (!(std::cin >> a)) break;
        std::memcpy(action.data(), &a, sizeof a);
      } else {
        bool complete = true;
        for (std::size_t i = 0; i < action.size(); i += sizeof(float)) {
          double a = 0;
          if (!(std::cin >> a)) {
            complete = false;
            break;
          }
          const auto f = static_cast<float>(a);
          std::memcpy(action.data() + i, &f, sizeof f);
        }
        if (!complete) break;
      }
      const auto outcome = env->step(action, observation, info);
      std::cout << json{{"obs", float32_values_json(observation)},
                        {"reward", outcome.reward},
                        {"terminated", outcome.terminated},
                        {"truncated", outcome.truncated}}
                       .dump()
                << '\n';
      if (outcome.terminated || outcome.truncated) {
        env->reset(observation, info);
        std::cout << json{{"reset", float32_values_json(observation)}}.dump() << '\n';
      }
    }
  } catch (const std::exception& error) {
    std::cerr << "classic_control_dump: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
