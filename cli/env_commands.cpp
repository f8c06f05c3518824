// `locus envs`, `locus check` and `locus rollout`: inspecting and exercising environments.

#include <fmt/core.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "envs/registry.hpp"
#include "envs/wrappers/check_and_rollout.hpp"

namespace locus::cli {

namespace {

std::string or_dash(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : std::string("-");
}

void print_line(const std::string& line) {
  fmt::print("{}\n", line);
}

}  // namespace

nlohmann::json parse_kwargs(const std::string& text, const std::string& flag) {
  if (text.empty()) return nlohmann::json::object();
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) throw envs::InvalidArgumentError("");
    return j;
  } catch (const std::exception&) {
    throw envs::InvalidArgumentError(flag + " must be a JSON object such as '{\"key\": 1}', got '" +
                                     text + "'");
  }
}

Command add_envs_command(CLI::App& app) {
  auto* sub = app.add_subcommand("envs", "List the registered environments with their spaces");
  auto json = std::make_shared<bool>(false);
  auto filter = std::make_shared<std::string>();
  sub->add_flag("--json", *json, "Print one JSON object per environment");
  sub->add_option("--filter", *filter, "Only ids containing this text");
  return {sub, [json, filter] {
            for (const auto& spec : envs::Registry::global().all()) {
              if (!filter->empty() && spec->id.find(*filter) == std::string::npos) continue;
              std::string observation = "?";
              std::string action = "?";
              nlohmann::json observation_json;
              nlohmann::json action_json;
              try {
                auto env = spec->entry_point(spec->kwargs);
                observation = env->observation_space().to_string();
                action = env->action_space().to_string();
                observation_json = env->observation_space().to_json();
                action_json = env->action_space().to_json();
              } catch (const std::exception& e) {
                observation = std::string("(cannot construct: ") + e.what() + ")";
              }
              if (*json) {
                nlohmann::json j = spec->to_json();
                j["observation_space"] = observation_json;
                j["action_space"] = action_json;
                fmt::print("{}\n", j.dump());
              } else {
                fmt::print("{}\n  observation: {}\n  action:      {}\n  max steps: {}  {}\n",
                           spec->id, observation, action, or_dash(spec->max_episode_steps),
                           spec->description);
              }
            }
          }};
}

Command add_check_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "check", "Run the env checker and a seeded random rollout; exit 1 on a violation");
  struct Args {
    std::string env;
    std::string kwargs;
    std::uint64_t seed = 123;
    int steps = 500;
  };
  auto args = std::make_shared<Args>();
  sub->add_option("env", args->env, "Environment id, e.g. CartPole-v1, or my_module:MyEnv")
      ->required();
  sub->add_option("--kwargs", args->kwargs, "make() keyword arguments as a JSON object");
  sub->add_option("--seed", args->seed, "Seed of the checks")->capture_default_str();
  sub->add_option("--steps", args->steps, "Steps of the random rollout")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  return {sub, [sub, args] {
            if (is_python_env_id(args->env)) exec_python_cli(*sub);
            envs::run_check(args->env, parse_kwargs(args->kwargs, "--kwargs"), args->seed,
                            args->steps, print_line);
          }};
}

Command add_rollout_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "rollout", "Run episodes with a uniformly random policy and report returns and speed");
  struct Args {
    std::string env = "CartPole-v1";
    std::string kwargs;
    int episodes = 5;
    std::uint64_t seed = 0;
    bool render = false;
  };
  auto args = std::make_shared<Args>();
  sub->add_option("--env", args->env, "Environment id (or my_module:MyEnv)")->capture_default_str();
  sub->add_option("--kwargs", args->kwargs, "make() keyword arguments as a JSON object");
  sub->add_option("--episodes", args->episodes, "Number of episodes")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--seed", args->seed, "Seed of the first reset and of the action sampler")
      ->capture_default_str();
  sub->add_flag("--render", args->render, "Print the ANSI rendering after every step");
  return {sub, [sub, args] {
            if (is_python_env_id(args->env)) exec_python_cli(*sub);
            envs::run_rollout(args->env, parse_kwargs(args->kwargs, "--kwargs"), args->episodes,
                              args->seed, args->render, print_line);
          }};
}

}  // namespace locus::cli
