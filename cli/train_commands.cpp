// `locus train` and `locus eval`: train actor-critic agents into a run directory (agents/run.hpp)
// and evaluate a run's checkpoint.

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agents/errors.hpp"
#include "agents/run.hpp"
#include "agents/run_signals.hpp"
#include "cli/commands.hpp"

namespace locus::cli {
namespace {

// One stderr line redrawn in place at most a few times per second.
class ProgressBar {
 public:
  ProgressBar(std::size_t agents, std::size_t steps_per_agent, bool enabled)
      : steps_(agents, 0),
        returns_(agents, std::nan("")),
        success_(agents, std::nan("")),
        total_(agents * steps_per_agent),
        enabled_(enabled),
        start_(std::chrono::steady_clock::now()) {}

  void update(std::size_t agent, const agents::UpdateStats& stats, const agents::Agent& a) {
    if (!enabled_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    steps_[agent] = stats.steps;
    if (!a.recent_returns().empty()) {
      double sum = 0.0;
      for (double r : a.recent_returns()) sum += r;
      returns_[agent] = sum / double(a.recent_returns().size());
    }
    if (!a.recent_trials().empty()) {
      double sum = 0.0;
      for (int c : a.recent_trials()) sum += c;
      success_[agent] = sum / double(a.recent_trials().size());
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    draw(now);
  }

  void finish() {
    if (!enabled_) return;
    draw(std::chrono::steady_clock::now());
    fmt::print(stderr, "\n");
  }

 private:
  void draw(std::chrono::steady_clock::time_point now) {
    std::size_t done = 0;
    for (std::size_t s : steps_) done += s;
    if (first_steps_ == SIZE_MAX) first_steps_ = done;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? double(done - first_steps_) / elapsed : 0.0;
    const double fraction = total_ > 0 ? std::min(1.0, double(done) / double(total_)) : 1.0;
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(std::size_t(filled), '#');
    bar.append(std::size_t(kWidth - filled), '.');
    auto mean = [](const std::vector<double>& xs) {
      double sum = 0.0;
      int n = 0;
      for (double x : xs) {
        if (!std::isnan(x)) {
          sum += x;
          ++n;
        }
      }
      return n > 0 ? sum / n : std::nan("");
    };
    const double ret = mean(returns_), success = mean(success_);
    fmt::print(stderr, "\r[{}] {:3.0f}% {}/{} steps  {:.0f} steps/s  return {}  success {}   ", bar,
               100.0 * fraction, done, total_, rate,
               std::isnan(ret) ? std::string("-") : fmt::format("{:.2f}", ret),
               std::isnan(success) ? std::string("-") : fmt::format("{:.0f}%", 100.0 * success));
  }

  std::mutex mutex_;
  std::vector<std::size_t> steps_;
  std::vector<double> returns_, success_;
  std::size_t total_;
  bool enabled_;
  std::size_t first_steps_ = SIZE_MAX;
  std::chrono::steady_clock::time_point start_, last_{};
};

struct TrainOptions {
  std::string env, agent, modulation, network, policy, device, precision, out, config_file,
      resume_dir, contexts;
  std::vector<std::size_t> hidden;
  std::size_t steps = 0, num_envs = 0, agents = 0, threads = 0, eval_every = 0, eval_episodes = 0;
  std::size_t checkpoint_every = 0, rollout_steps = 0, frame_stack = 0;
  std::uint64_t seed = 0;
  std::vector<std::uint64_t> seeds;
  double learning_rate = 0.0;
  bool quiet = false;
};

void print_summary(const nlohmann::json& summary, const std::string& dir) {
  if (summary.contains("runs")) {
    const auto& ret = summary["eval_return"];
    const auto& success = summary["eval_success_rate"];
    fmt::print("{} agents: eval return {} (std {})", summary["runs"].size(),
               ret.is_null() ? "-" : fmt::format("{:.3f}", ret["mean"].get<double>()),
               ret.is_null() ? "-" : fmt::format("{:.3f}", ret["std"].get<double>()));
    if (!success.is_null()) {
      fmt::print(", success rate {:.3f} (std {:.3f})", success["mean"].get<double>(),
                 success["std"].get<double>());
    }
  } else {
    const auto& eval = summary["eval"];
    fmt::print("{} steps: eval return {}", summary["steps"].get<std::size_t>(),
               eval["return_mean"].is_null()
                   ? "-"
                   : fmt::format("{:.3f}", eval["return_mean"].get<double>()));
    if (!eval["success_rate"].is_null()) {
      fmt::print(", success rate {:.3f}", eval["success_rate"].get<double>());
    }
    fmt::print(", {:.0f} steps/s", summary["steps_per_second"].get<double>());
  }
  fmt::print("\nsummary: {}/summary.json\n", dir);
}

}  // namespace

Command add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train", "Train actor-critic agents (A2C, PPO, REINFORCE) with dopamine/noradrenaline");
  auto options = std::make_shared<TrainOptions>();
  auto* env = cmd->add_option("--env", options->env, "Environment id (e.g. CartPole-v1)");
  auto* agent = cmd->add_option("--agent", options->agent, "a2c, ppo or reinforce");
  auto* modulation = cmd->add_option("--modulation", options->modulation, "none, da or da+na");
  auto* network = cmd->add_option("--network", options->network, "modulated or trainable");
  auto* policy = cmd->add_option(
      "--policy", options->policy,
      "mlp (feed-forward), or rnn, gru or lstm: a recurrent first layer that carries memory "
      "across steps (trained through each rollout)");
  auto* hidden = cmd->add_option("--hidden", options->hidden,
                                 "Layer widths, e.g. 128 or 64,64 (recurrent policies: the first "
                                 "is the recurrent layer)")
                     ->delimiter(',');
  auto* device =
      cmd->add_option("--device", options->device, "cpu or cuda (the network's backend)");
  auto* precision = cmd->add_option(
      "--precision", options->precision,
      "float32, bfloat16 (CPU with AVX512-BF16: fixed weights) or tf32 (cuda): the products' "
      "arithmetic (with --resume: from then on)");
  auto* steps = cmd->add_option("--steps", options->steps, "Environment steps per agent");
  auto* num_envs = cmd->add_option("--num-envs", options->num_envs, "Envs per agent");
  auto* seed = cmd->add_option("--seed", options->seed, "Seed");
  cmd->add_option("--out", options->out, "Run directory to create");
  cmd->add_option("--config", options->config_file,
                  "JSON or YAML file with the same keys (flags override it)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--resume", options->resume_dir,
                  "Continue the run in this directory (only --steps, --threads and --precision "
                  "may differ from the saved run; Ctrl-C stops a run resumably)");
  auto* agents_count =
      cmd->add_option("--agents", options->agents, "Train N agents (seeds S..S+N-1) in parallel");
  auto* seeds = cmd->add_option("--seeds", options->seeds, "Seeds of agents trained in parallel")
                    ->delimiter(',');
  auto* threads = cmd->add_option("--threads", options->threads, "Worker threads (0: all cores)");
  auto* eval_every =
      cmd->add_option("--eval-every", options->eval_every, "Updates between evaluations (0: end)");
  auto* eval_episodes =
      cmd->add_option("--eval-episodes", options->eval_episodes, "Episodes per evaluation");
  auto* checkpoint_every = cmd->add_option("--checkpoint-every", options->checkpoint_every,
                                           "Updates between checkpoints");
  auto* rollout_steps =
      cmd->add_option("--rollout-steps", options->rollout_steps, "Steps per env per update");
  auto* frame_stack = cmd->add_option("--frame-stack", options->frame_stack,
                                      "Observations stacked as network input (memory)");
  auto* learning_rate = cmd->add_option("--learning-rate", options->learning_rate, "Learning rate");
  auto* contexts = cmd->add_option("--contexts", options->contexts, "fixed, on_change or task_id");
  cmd->add_flag("--quiet", options->quiet, "No progress bar");
  agents_count->excludes(seeds);

  auto* out = cmd->get_option("--out");
  auto* resume_dir = cmd->get_option("--resume");
  resume_dir->excludes(out);

  // The settings given on the command line and in --config, as flat config keys (flags win);
  // --agents N counts from the given seed, else from `default_seed`.
  auto given_settings = [=](std::uint64_t default_seed) {
    nlohmann::json json = nlohmann::json::object();
    if (!options->config_file.empty()) json = agents::read_config_file(options->config_file);
    if (!json.is_object()) {
      throw agents::ConfigError(
          fmt::format("config file {} must hold a mapping of keys", options->config_file));
    }
    if (env->count()) json["env"] = options->env;
    if (agent->count()) json["agent"] = options->agent;
    if (modulation->count()) json["modulation"] = options->modulation;
    if (network->count()) json["network"] = options->network;
    if (policy->count()) json["policy"] = options->policy;
    if (hidden->count()) json["hidden"] = options->hidden;
    if (device->count()) json["device"] = options->device;
    if (precision->count()) json["precision"] = options->precision;
    if (steps->count()) json["steps"] = options->steps;
    if (num_envs->count()) json["num_envs"] = options->num_envs;
    if (seed->count()) json["seed"] = options->seed;
    if (threads->count()) json["threads"] = options->threads;
    if (eval_every->count()) json["eval_every"] = options->eval_every;
    if (eval_episodes->count()) json["eval_episodes"] = options->eval_episodes;
    if (checkpoint_every->count()) json["checkpoint_every"] = options->checkpoint_every;
    if (rollout_steps->count()) json["rollout_steps"] = options->rollout_steps;
    if (frame_stack->count()) json["frame_stack"] = options->frame_stack;
    if (learning_rate->count()) json["learning_rate"] = options->learning_rate;
    if (contexts->count()) json["contexts"] = options->contexts;
    if (seeds->count()) json["seeds"] = options->seeds;
    if (agents_count->count()) {
      if (options->agents == 0) throw agents::ConfigError("--agents must be positive, got 0");
      if (options->agents > agents::RunConfig::kMaxSeeds) {
        throw agents::ConfigError(fmt::format("--agents must be at most {}, got {}",
                                              agents::RunConfig::kMaxSeeds, options->agents));
      }
      const bool has_seed = json.contains("seed") && json["seed"].is_number_unsigned();
      const std::uint64_t first = has_seed ? json["seed"].get<std::uint64_t>() : default_seed;
      std::vector<std::uint64_t> list;
      for (std::size_t i = 0; i < options->agents; ++i) list.push_back(first + i);
      json["seeds"] = list;
    }
    return json;
  };

  auto run = [=]() {
    // A Python environment is trained by the Python package (python_commands.cpp).
    std::string env_id = options->env;
    if (!options->resume_dir.empty()) {
      env_id = agents::load_run_config(options->resume_dir).agent.env;
    } else if (!env->count() && !options->config_file.empty()) {
      const auto json = agents::read_config_file(options->config_file);
      if (json.is_object() && json.contains("env") && json["env"].is_string()) {
        env_id = json["env"].get<std::string>();
      }
    }
    if (is_python_env_id(env_id)) exec_python_cli(*cmd);
    const bool show = !options->quiet && isatty(STDERR_FILENO) != 0;
    const agents::StopOnSignals signals;
    const agents::StopFlag& stop = signals.flag();
    if (!options->resume_dir.empty()) {
      const agents::RunConfig saved = agents::load_run_config(options->resume_dir);
      const nlohmann::json requested = given_settings(saved.agent.seed);
      std::vector<agents::ResumeChange> changes;
      const auto config = agents::resumed_config(saved, requested, &changes);
      for (const auto& change : changes) {
        fmt::print(stderr, "locus: resuming {} with {} {} (was {})\n", options->resume_dir,
                   change.key, change.requested.dump(), change.saved.dump());
      }
      ProgressBar bar(config.run_seeds().size(), config.steps, show);
      const auto summary = agents::resume(
          options->resume_dir, requested,
          [&](std::size_t i, const agents::UpdateStats& s, const agents::Agent& a) {
            bar.update(i, s, a);
          },
          &stop);
      bar.finish();
      print_summary(summary, options->resume_dir);
      return;
    }
    if (options->out.empty()) {
      throw agents::ConfigError("locus train needs --out DIR (or --resume DIR)");
    }
    const agents::RunConfig config =
        agents::RunConfig::from_json(given_settings(agents::AgentConfig().seed));
    ProgressBar bar(config.run_seeds().size(), config.steps, show);
    const auto summary = agents::train(
        config, options->out,
        [&](std::size_t i, const agents::UpdateStats& s, const agents::Agent& a) {
          bar.update(i, s, a);
        },
        &stop);
    bar.finish();
    print_summary(summary, options->out);
  };
  return {cmd, run};
}

Command add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Evaluate the checkpoint of a `locus train` run");
  auto dir = std::make_shared<std::string>();
  auto episodes = std::make_shared<std::size_t>(10);
  auto seed = std::make_shared<std::uint64_t>(0);
  cmd->add_option("dir", *dir, "Run directory")->required();
  cmd->add_option("--episodes", *episodes, "Episodes (default 10)");
  auto* seed_option = cmd->add_option("--seed", *seed, "Seed of the evaluation envs");
  auto run = [=]() {
    if (*episodes == 0) throw agents::ConfigError("--episodes must be positive, got 0");
    if (is_python_env_id(agents::load_run_config(*dir).agent.env)) exec_python_cli(*cmd);
    const auto result = agents::evaluate(
        *dir, *episodes, seed_option->count() ? std::optional(*seed) : std::nullopt);
    fmt::print("{}\n", result.dump(2));
  };
  return {cmd, run};
}

}  // namespace locus::cli
