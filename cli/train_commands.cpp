// `locus train` and `locus eval`: train actor-critic agents into a run directory (agents/run.hpp)
// and evaluate a run's checkpoint.

#include <fmt/core.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/errors.hpp"
#include "agents/run.hpp"
#include "agents/run_signals.hpp"
#include "agents/train_flags.hpp"
#include "agents/train_report.hpp"
#include "cli/commands.hpp"
#include "cli/mpi_launch.hpp"
#ifdef LOCUS_HAVE_MPI
#include "bench/mpi/mpi_run_group.hpp"
#endif

namespace locus::cli {
namespace {

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
      case agents::FlagValue::kJsonObject:
        return parse_kwargs(text.at(flag.name), std::string(flag.name));
    }
    return nullptr;
  }
};

// A default as --help shows it: numbers with at most 6 significant digits, so that a float setting
// reads 0.01 and not 0.0099999998; empty for a setting without a default worth showing.
std::string default_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return fmt::format("{:.6g}", value.get<double>());
  if (value.is_number()) return value.dump();
  if (value.is_array()) {
    std::string out;
    for (const auto& item : value) out += (out.empty() ? "" : ",") + default_text(item);
    return out;
  }
  return "";  // switches (off unless given) and null
}

void add_train_flags(CLI::App& cmd, TrainOptions& options) {
  const nlohmann::json defaults = agents::RunConfig().to_json();
  for (const agents::TrainFlag& flag : agents::train_flags()) {
    const std::string name(flag.name);
    const std::string help(flag.help);
    CLI::Option* option = nullptr;
    switch (flag.value) {
      case agents::FlagValue::kText:
      case agents::FlagValue::kJsonObject:
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
    const std::string key(flag.key);
    option->default_str(!key.empty() && defaults.contains(key) ? default_text(defaults[key]) : "");
    options.option[flag.name] = option;
  }
  options.option.at("--config")->check(CLI::ExistingFile);
  options.option.at("--agents")->excludes(options.option.at("--seeds"));
  options.option.at("--resume")->excludes(options.option.at("--out"));
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
    nlohmann::json flag_values = nlohmann::json::object();
    for (const agents::TrainFlag& flag : agents::train_flags()) {
      if (!flag.key.empty() && options->given(flag.name)) {
        flag_values[std::string(flag.key)] = options->value(flag);
      }
    }
    return agents::given_train_settings(
        options->config_file(), flag_values,
        options->given("--agents") ? std::optional(options->whole.at("--agents")) : std::nullopt,
        default_seed);
  };

  auto run = [=]() {
  // Under mpirun the ranks share the seeds of one run (agents::RunGroup); rank 0 prints.
#ifdef LOCUS_HAVE_MPI
    std::optional<bench::mpi::MpiWorld> world;
    std::optional<bench::mpi::MpiRunGroup> ranks;
#endif
    agents::RunGroup* group = nullptr;
    if (const int launched = mpi_launched_ranks(); launched > 1) {
#ifdef LOCUS_HAVE_MPI
      world.emplace();
      group = &ranks.emplace(*world);
#else
      throw agents::ConfigError(built_without_mpi(
          "locus train", launched, "one process trains every seed in its threads (--threads)"));
#endif
    }
    const bool leader = group == nullptr || group->index() == 0;
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
    if (is_python_env_id(env_id)) {
      if (group != nullptr) {
        throw agents::ConfigError(
            "a Python environment trains in one process (its interpreter is not shared by MPI "
            "ranks); run locus train without mpirun, with --threads for its seeds");
      }
      exec_python_cli(*cmd);
    }
    const bool show = leader && !options->switches.at("--quiet") && isatty(STDERR_FILENO) != 0;
    const agents::StopOnSignals signals;
    const agents::StopFlag& stop = signals.flag();
    if (!options->resume_dir().empty()) {
      const agents::RunConfig saved = agents::load_run_config(options->resume_dir());
      const nlohmann::json requested = given_settings(saved.agent.seed);
      std::vector<agents::ResumeChange> changes;
      const auto config = agents::resumed_config(saved, requested, &changes);
      for (const auto& change : changes) {
        if (!leader) break;
        fmt::print(stderr, "locus: resuming {} with {} {} (was {})\n", options->resume_dir(),
                   change.key, change.requested.dump(), change.saved.dump());
      }
      agents::TrainProgress bar(config.run_seeds().size(), config.steps, show);
      const auto summary = agents::resume(
          options->resume_dir(), requested,
          [&](std::size_t i, const agents::UpdateStats& s, const agents::Agent& a) {
            bar.update(i, s, a);
          },
          &stop, group);
      bar.finish();
      if (leader) fmt::print("{}\n", agents::train_summary_text(summary, options->resume_dir()));
      return;
    }
    if (options->out().empty()) {
      throw agents::ConfigError("locus train needs --out DIR (or --resume DIR)");
    }
    const agents::RunConfig config =
        agents::RunConfig::from_json(given_settings(agents::AgentConfig().seed));
    agents::TrainProgress bar(config.run_seeds().size(), config.steps, show);
    const auto summary = agents::train(
        config, options->out(),
        [&](std::size_t i, const agents::UpdateStats& s, const agents::Agent& a) {
          bar.update(i, s, a);
        },
        &stop, group);
    bar.finish();
    if (leader) fmt::print("{}\n", agents::train_summary_text(summary, options->out()));
  };
  return {cmd, run};
}

Command add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Evaluate the checkpoint of a `locus train` run");
  auto dir = std::make_shared<std::string>();
  auto episodes = std::make_shared<std::size_t>(10);
  auto seed = std::make_shared<std::uint64_t>(0);
  cmd->add_option("dir", *dir, "Run directory")->required();
  cmd->add_option("--episodes", *episodes, "Episodes");
  auto* seed_option =
      cmd->add_option("--seed", *seed,
                      "Seed of the evaluation envs (default: from the agent's seed)")
          ->default_str("");
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
