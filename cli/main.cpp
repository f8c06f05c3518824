// `locus`: the command line of the locus toolkit.
//
// Exit status: 0 on success, 2 for usage errors (bad flags, unknown environment id, bad
// arguments), 1 for runtime errors (an env that violates the API, a plugin that fails to load),
// 128 + the signal's number for a run stopped by Ctrl-C or SIGTERM at a checkpoint
// (agents/run_signals.hpp).

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <string>
#include <vector>

#include "agents/errors.hpp"
#include "agents/run_signals.hpp"
#include "cli/commands.hpp"
#include "envs/errors.hpp"
#include "envs/plugin.hpp"

namespace {
constexpr int kExitRuntimeError = 1;
constexpr int kExitUsageError = 2;
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"locus: neuromodulated reinforcement learning and continual learning"};
  app.set_version_flag("--version", std::string("locus ") + LOCUS_VERSION);
  app.require_subcommand(1);
  std::vector<std::string> plugins;
  app.add_option("--plugin", plugins,
                 "Shared library that registers environments (LOCUS_REGISTER_ENV); repeatable")
      ->check(CLI::ExistingFile);
  const std::vector<locus::cli::Command> commands = {
      locus::cli::add_envs_command(app),    locus::cli::add_check_command(app),
      locus::cli::add_rollout_command(app), locus::cli::add_spiking_command(app),
      locus::cli::add_data_command(app),    locus::cli::add_train_command(app),
      locus::cli::add_eval_command(app),    locus::cli::add_sweep_command(app),
      locus::cli::add_report_command(app),  locus::cli::add_study_command(app),
  };

  try {
    app.parse(argc, argv);
    // Plugins first, so that the command can look their env ids up.
    for (const auto& path : plugins) {
      for (const auto& id : locus::envs::load_plugin(path)) {
        fmt::print(stderr, "locus: plugin {} registered {}\n", path, id);
      }
    }
    for (const auto& command : commands) {
      if (command.app->parsed()) command.run();
    }
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsageError;
  } catch (const locus::agents::RunInterrupted& e) {
    // The shell's convention for a command ended by a signal: 128 + its number.
    fmt::print(stderr, "locus: stopped: {}\n", e.what());
    const int signal = locus::agents::stopping_signal();
    return signal != 0 ? 128 + signal : kExitRuntimeError;
  } catch (const locus::envs::UnknownEnvError& e) {
    fmt::print(stderr, "locus: error: {}\n", e.what());
    return kExitUsageError;
  } catch (const locus::envs::InvalidArgumentError& e) {
    fmt::print(stderr, "locus: error: {}\n", e.what());
    return kExitUsageError;
  } catch (const std::exception& e) {
    fmt::print(stderr, "locus: error: {}\n", e.what());
    return kExitRuntimeError;
  }
  return 0;
}
