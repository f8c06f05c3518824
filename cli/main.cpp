// `locus`: the command line of the locus toolkit.
//
// Exit status: 0 on success, 2 for usage errors (bad flags, and every locus::Error of kind kUsage:
// unknown environment ids, bad arguments and configs), 1 for runtime errors (an env that violates
// the API, a plugin that fails to load, a corrupt checkpoint),
// 128 + the signal's number for a run stopped by Ctrl-C or SIGTERM at a checkpoint
// (agents/run_signals.hpp).

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "agents/errors.hpp"
#include "agents/run_signals.hpp"
#include "cli/commands.hpp"
#include "envs/plugin.hpp"
#include "neuromod/blas_kernels.hpp"
#include "util/error.hpp"

namespace {
constexpr int kExitRuntimeError = 1;
constexpr int kExitUsageError = 2;

// CLI11 2.1 reads an unsigned option with strtoull, which turns "-1" into 2^64 - 1 and a value
// past 2^64 into 2^64 - 1 without a word (and reads "010" as octal 8). This check runs on each
// value of every unsigned option (CLI11's type name "UINT") before that conversion; it drops
// leading zeros so that what CLI11 converts is the decimal number the user wrote.
std::string non_negative_whole_problem(std::string& text) {
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) {
    return fmt::format("must be a whole number of 0 or more (decimal digits), got '{}'", text);
  }
  text.erase(0, std::min(text.find_first_not_of('0'), text.size() - 1));
  errno = 0;
  (void)std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE) return fmt::format("'{}' is more than the largest value (2^64 - 1)", text);
  return {};
}

void guard_unsigned_options(CLI::App& app) {
  const CLI::Validator non_negative_whole(non_negative_whole_problem, "");
  for (CLI::Option* option : app.get_options()) {
    if (option->get_type_name().rfind("UINT", 0) == 0) option->transform(non_negative_whole);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    guard_unsigned_options(*sub);
  }
}

// "locus study set-shift": the subcommands the user chose, for messages.
std::string chosen_command(const CLI::App& app) {
  std::string out = "locus";
  for (const CLI::App* sub = &app;;) {
    const auto chosen = sub->get_subcommands();
    if (chosen.empty()) return out;
    sub = chosen.front();
    out += " " + sub->get_name();
  }
}

}  // namespace

static int run_command_line(int argc, char** argv) {
  CLI::App app{"locus: neuromodulated reinforcement learning and continual learning"};
  const std::string kernels = locus::neuromod::openblas_kernels();
  app.set_version_flag("--version",
                       std::string("locus ") + LOCUS_VERSION +
                           (kernels.empty() ? "" : " (OpenBLAS kernels: " + kernels + ")"));
  app.require_subcommand(1);
  // A command's options it does not know go to the program's: --plugin may come anywhere, before or
  // after the command (locus check Corridor-v0 --plugin lib.so). Set before the commands are
  // added, which inherit it.
  app.fallthrough();
  // --help shows each option's default: the value its variable holds before parsing.
  app.option_defaults()->always_capture_default();
  std::vector<std::string> plugins;
  app.add_option("--plugin", plugins,
                 "Shared library that registers environments (LOCUS_REGISTER_ENV); repeatable")
      ->check(CLI::ExistingFile);
  const std::vector<locus::cli::Command> commands = {
      locus::cli::add_envs_command(app),       locus::cli::add_check_command(app),
      locus::cli::add_rollout_command(app),    locus::cli::add_spiking_command(app),
      locus::cli::add_data_command(app),       locus::cli::add_train_command(app),
      locus::cli::add_eval_command(app),       locus::cli::add_sweep_command(app),
      locus::cli::add_report_command(app),     locus::cli::add_study_command(app),
      locus::cli::add_supervised_command(app),
  };

  guard_unsigned_options(app);

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
    const int signal = locus::agents::StopOnSignals::last_signal();
    return signal != 0 ? 128 + signal : kExitRuntimeError;
  } catch (const locus::Error& e) {
    // Every locus error says whether the caller's input was at fault (util/error.hpp).
    fmt::print(stderr, "locus: error: {}\n", e.what());
    return e.kind() == locus::ErrorKind::kUsage ? kExitUsageError : kExitRuntimeError;
  } catch (const std::bad_alloc&) {
    // The last resort: the configs' sizes are checked against the available memory before
    // anything is allocated, but an estimate is a lower bound.
    fmt::print(stderr,
               "locus: error: `{}` ran out of memory (an allocation failed): its sizes (num_envs, "
               "rollout_steps, hidden widths, batch_size, ...) need more memory than this machine "
               "has free; lower them or free memory\n",
               chosen_command(app));
    return kExitRuntimeError;
  } catch (const std::exception& e) {
    fmt::print(stderr, "locus: error: {}\n", e.what());
    return kExitRuntimeError;
  }
  return 0;
}

// The last resort: building the command line itself (option declarations, the version string)
// can only fail by running out of memory, which run_command_line()'s handlers cannot report.
int main(int argc, char** argv) {
  try {
    return run_command_line(argc, argv);
  } catch (...) {
    std::fputs("locus: error: could not start (out of memory?)\n", stderr);
    return kExitRuntimeError;
  }
}
