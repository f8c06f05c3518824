// `locus envs`, `locus check` and `locus rollout`: inspecting and exercising environments.

#include <fmt/core.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "envs/registry.hpp"
#include "envs/wrappers/env_checker.hpp"

namespace locus::cli {

namespace {

std::string or_dash(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : std::string("-");
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
  sub->add_option("env", args->env, "Environment id, e.g. CartPole-v1")->required();
  sub->add_option("--kwargs", args->kwargs, "make() keyword arguments as a JSON object");
  sub->add_option("--seed", args->seed, "Seed of the checks")->capture_default_str();
  sub->add_option("--steps", args->steps, "Steps of the random rollout")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  return {sub, [args] {
            auto env = envs::make(args->env, parse_kwargs(args->kwargs, "--kwargs"));
            // Gymnasium's advice: check the raw env, since make()'s wrappers (the passive checker
            // among them) would mask or repeat what the checker looks for. The wrapped env stays
            // alive as its owner.
            const auto result =
                envs::check_env(env->unwrapped(), {.seed = args->seed, .steps = args->steps});
            for (const auto& line : result.passed) fmt::print("  ok    {}\n", line);
            for (const auto& line : result.warnings) fmt::print("  warn  {}\n", line);
            fmt::print("{}: all checks passed ({} warnings)\n", args->env, result.warnings.size());
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
  sub->add_option("--env", args->env, "Environment id")->capture_default_str();
  sub->add_option("--kwargs", args->kwargs, "make() keyword arguments as a JSON object");
  sub->add_option("--episodes", args->episodes, "Number of episodes")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--seed", args->seed, "Seed of the first reset and of the action sampler")
      ->capture_default_str();
  sub->add_flag("--render", args->render, "Print the ANSI rendering after every step");
  return {sub, [args] {
            auto env = envs::make(args->env, parse_kwargs(args->kwargs, "--kwargs"));
            envs::Space& actions = env->action_space();
            actions.seed(args->seed);
            std::vector<std::byte> observation(env->observation_space().packed_bytes());
            std::vector<std::byte> action(actions.packed_bytes());
            envs::Info info;
            std::int64_t total_steps = 0;
            const auto start = std::chrono::steady_clock::now();
            for (int episode = 0; episode < args->episodes; ++episode) {
              // Gymnasium's convention: seed the first reset only; later resets continue the
              // stream.
              if (episode == 0) {
                env->reset(observation, info, args->seed);
              } else {
                env->reset(observation, info);
              }
              double episode_return = 0.0;
              std::int64_t length = 0;
              bool done = false;
              while (!done) {
                actions.sample_packed(action);
                const auto outcome = env->step(action, observation, info);
                episode_return += outcome.reward;
                ++length;
                done = outcome.terminated || outcome.truncated;
                if (args->render) fmt::print("{}\n", env->render());
              }
              total_steps += length;
              fmt::print("episode {:>3}: return {:>8.2f}  length {:>5}\n", episode + 1,
                         episode_return, length);
            }
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            fmt::print("{}: {} steps in {:.4f} s, {:.0f} steps/s (single env, random policy)\n",
                       args->env, total_steps, seconds, total_steps / seconds);
          }};
}

}  // namespace locus::cli
