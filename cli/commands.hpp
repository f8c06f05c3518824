#pragma once
// Subcommands of the `locus` command line. Each add_* function declares one subcommand and returns
// it with the function that runs it; main() parses, loads plugins, then runs the chosen one. A
// command throws on failure and main() maps the error to an exit status.

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace locus::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<void()> run;
};

Command add_envs_command(CLI::App& app);
Command add_check_command(CLI::App& app);
Command add_rollout_command(CLI::App& app);
Command add_spiking_command(CLI::App& app);
Command add_data_command(CLI::App& app);
Command add_train_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_sweep_command(CLI::App& app);
Command add_report_command(CLI::App& app);
Command add_study_command(CLI::App& app);       // study_commands.cpp
Command add_supervised_command(CLI::App& app);  // supervised_commands.cpp

// A --kwargs style flag's JSON object ({} when empty); throws envs::InvalidArgumentError naming
// `flag` when the text is not a JSON object (env_commands.cpp).
nlohmann::json parse_kwargs(const std::string& text, const std::string& flag);

// Python environments ("module:Name") in `train` and `eval` (python_commands.cpp): whether an id
// names one, and the hand-over of a parsed subcommand to the Python package (never returns; throws
// if no interpreter can be started).
bool is_python_env_id(std::string_view env);
[[noreturn]] void exec_python_cli(const CLI::App& command);

}  // namespace locus::cli
