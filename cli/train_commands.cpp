// `locus train` and `locus eval`: train actor-critic agents into a run directory (agents/run.hpp)
// and evaluate a run's checkpoint.

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/errors.hpp"
#include "agents/run.hpp"
#include "agents/run_signals.hpp"
#include "agents/train_flags.hpp"
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

// The values of `locus train`'s flags (agents/train_flags.hpp), by flag name. std::map keeps each
// value where CLI11 stores it while the others are added.
struct TrainOptions {
  std::map<std::string_view, std::string> text;
  std::map<std::string_view, std::uint64_t> whole;
  std::map<std::string_view, double> number;
  std::map<std::string_view, std::vector<std::uint64_t>> whole_list;
  std::map<std::string_view, bool> switches;
  std::map<std::string_view, CLI::Option*> option;

  bool given(std::string_view name) const { return option.at(name)->count() > 0; }
  const std::string& out() const { return text.at("--out"); }
  const std::string& config_file() const { return text.at("--config"); }
  const std::string& resume_dir() const { return text.at("--resume"); }

  // The flag's value as the run config holds it.
  nlohmann::json value(const agents::TrainFlag& flag) const {
    switch (flag.value) {
      case agents::FlagValue::kText:
        return text.at(flag.name);
      case agents::FlagValue::kWhole:
        return whole.at(flag.name);
      case agents::FlagValue::kNumber:
        return number.at(flag.name);
      case agents::FlagValue::kWholeList:
        return whole_list.at(flag.name);
      case agents::FlagValue::kSwitch:
        return switches.at(flag.name);
    }
    return nullptr;
  }
};

void add_train_flags(CLI::App& cmd, TrainOptions& options) {
  for (const agents::TrainFlag& flag : agents::train_flags()) {
    const std::string name(flag.name);
    const std::string help(flag.help);
    CLI::Option* option = nullptr;
    switch (flag.value) {
      case agents::FlagValue::kText:
        option = cmd.add_option(name, options.text[flag.name], help);
        break;
      case agents::FlagValue::kWhole:
        option = cmd.add_option(name, options.whole[flag.name], help);
        break;
      case agents::FlagValue::kNumber:
        option = cmd.add_option(name, options.number[flag.name], help);
        break;
      case agents::FlagValue::kWholeList:
        option = cmd.add_option(name, options.whole_list[flag.name], help)->delimiter(',');
        break;
      case agents::FlagValue::kSwitch:
        option = cmd.add_flag(name, options.switches[flag.name], help);
        break;
    }
    options.option[flag.name] = option;
  }
  options.option.at("--config")->check(CLI::ExistingFile);
  options.option.at("--agents")->excludes(options.option.at("--seeds"));
  options.option.at("--resume")->excludes(options.option.at("--out"));
}

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
  add_train_flags(*cmd, *options);

  // The settings given on the command line and in --config, as flat config keys (flags win);
  // --agents N counts from the given seed, else from `default_seed`.
  auto given_settings = [=](std::uint64_t default_seed) {
    nlohmann::json json = nlohmann::json::object();
    if (!options->config_file().empty()) json = agents::read_config_file(options->config_file());
    if (!json.is_object()) {
      throw agents::ConfigError(
          fmt::format("config file {} must hold a mapping of keys", options->config_file()));
    }
    for (const agents::TrainFlag& flag : agents::train_flags()) {
      if (!flag.key.empty() && options->given(flag.name)) {
        json[std::string(flag.key)] = options->value(flag);
      }
    }
    if (options->given("--agents")) {
      const std::uint64_t count = options->whole.at("--agents");
      if (count == 0) throw agents::ConfigError("--agents must be positive, got 0");
      if (count > agents::RunConfig::kMaxSeeds) {
        throw agents::ConfigError(fmt::format("--agents must be at most {}, got {}",
                                              agents::RunConfig::kMaxSeeds, count));
      }
      const bool has_seed = json.contains("seed") && json["seed"].is_number_unsigned();
      const std::uint64_t first = has_seed ? json["seed"].get<std::uint64_t>() : default_seed;
      std::vector<std::uint64_t> list;
      for (std::uint64_t i = 0; i < count; ++i) list.push_back(first + i);
      json["seeds"] = list;
    }
    return json;
  };

  auto run = [=]() {
    // A Python environment is trained by the Python package (python_commands.cpp).
    std::string env_id = options->text.at("--env");
    if (!options->resume_dir().empty()) {
      env_id = agents::load_run_config(options->resume_dir()).agent.env;
    } else if (!options->given("--env") && !options->config_file().empty()) {
      const auto json = agents::read_config_file(options->config_file());
      if (json.is_object() && json.contains("env") && json["env"].is_string()) {
        env_id = json["env"].get<std::string>();
      }
    }
    if (is_python_env_id(env_id)) exec_python_cli(*cmd);
    const bool show = !options->switches.at("--quiet") && isatty(STDERR_FILENO) != 0;
    const agents::StopOnSignals signals;
    const agents::StopFlag& stop = signals.flag();
    if (!options->resume_dir().empty()) {
      const agents::RunConfig saved = agents::load_run_config(options->resume_dir());
      const nlohmann::json requested = given_settings(saved.agent.seed);
      std::vector<agents::ResumeChange> changes;
      const auto config = agents::resumed_config(saved, requested, &changes);
      for (const auto& change : changes) {
        fmt::print(stderr, "locus: resuming {} with {} {} (was {})\n", options->resume_dir(),
                   change.key, change.requested.dump(), change.saved.dump());
      }
      ProgressBar bar(config.run_seeds().size(), config.steps, show);
      const auto summary = agents::resume(
          options->resume_dir(), requested,
          [&](std::size_t i, const agents::UpdateStats& s, const agents::Agent& a) {
            bar.update(i, s, a);
          },
          &stop);
      bar.finish();
      print_summary(summary, options->resume_dir());
      return;
    }
    if (options->out().empty()) {
      throw agents::ConfigError("locus train needs --out DIR (or --resume DIR)");
    }
    const agents::RunConfig config =
        agents::RunConfig::from_json(given_settings(agents::AgentConfig().seed));
    ProgressBar bar(config.run_seeds().size(), config.steps, show);
    const auto summary = agents::train(
        config, options->out(),
        [&](std::size_t i, const agents::UpdateStats& s, const agents::Agent& a) {
          bar.update(i, s, a);
        },
        &stop);
    bar.finish();
    print_summary(summary, options->out());
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
