// `locus train` and `locus eval` on Python environments: the hand-over to the Python package.
//
// The design: the `locus` binary is built without Python, so it cannot host a Python env itself.
// A Python env is named "module:Name" (Gymnasium's convention; locus's C++ ids never hold a
// colon). When `train` meets one (from --env, a --config file, or the config.json of a run given
// to --resume) or `eval` meets a run that recorded one, the command replaces this process
// (execvp) with `PYTHON -c <bootstrap> train|eval <the same arguments>`, where the bootstrap
// imports locus.cli (python/locus/cli.py) and runs it. The package trains with the same C++ agents
// (linked into locus._core), writes the same run directory and prints the same lines, so a user
// sees one command line; exec keeps the exit status, signals and terminal as they are.
//
// PYTHON is util::python_interpreter()'s: $LOCUS_PYTHON; the .venv next to the build
// (<repo>/.venv for <repo>/<build>/bin/locus, or <build>/.venv), where scripts/setup.sh installs
// the package; python3 on PATH. If that interpreter cannot import locus, the bootstrap says so and
// how to install the package.

#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "envs/registry.hpp"
#include "util/python_probe.hpp"

namespace locus::cli {
namespace {

// Run by the interpreter with argv = ["-c", subcommand, args...].
constexpr const char* kBootstrap = R"(import sys
try:
    from locus import cli
except ImportError as error:
    sys.exit(
        f"locus: error: this run uses a Python environment (module:Name), which `locus` trains "
        f"through the Python package locus, but {sys.executable} cannot import it ({error}). "
        "Install the package into that interpreter with `python -m pip install .` in the locus "
        "repository (bash scripts/setup.sh installs it into the repository's .venv), or name an "
        "interpreter that has it with LOCUS_PYTHON=/path/to/python."
    )
sys.exit(cli.main(sys.argv[1:]))
)";

// The arguments of a parsed subcommand, as given (options by their long name).
std::vector<std::string> given_arguments(const CLI::App& command) {
  std::vector<std::string> out;
  for (const CLI::Option* option : command.get_options()) {
    if (option->count() == 0) continue;
    if (!option->nonpositional()) {
      for (const auto& value : option->results()) out.push_back(value);
      continue;
    }
    if (option->get_lnames().empty() || option->get_lnames().front() == "help") continue;
    const std::string name = "--" + option->get_lnames().front();
    if (option->get_expected_max() == 0) {  // a flag
      out.push_back(name);
      continue;
    }
    // Values of a delimited list (--seeds 1,2) arrive split; the Python side reads them joined.
    std::string joined;
    for (const auto& value : option->results()) joined += (joined.empty() ? "" : ",") + value;
    out.push_back(name);
    out.push_back(joined);
  }
  return out;
}

}  // namespace

bool is_python_env_id(std::string_view env) {
  return env.find(':') != std::string_view::npos &&
         !envs::Registry::global().contains(std::string(env));
}

void exec_python_cli(const CLI::App& command) {
  const std::string python = util::python_interpreter();
  // exec hands over the exit status, so an interpreter that is not Python (LOCUS_PYTHON=/bin/true)
  // would end the command with status 0 having trained nothing. (The bootstrap itself reports a
  // Python that cannot import locus.)
  if (const auto problem = util::python_problem(python, {})) {
    throw std::runtime_error(fmt::format(
        "this run uses a Python environment (module:Name), which locus trains through the Python "
        "package locus, but {}; set LOCUS_PYTHON to a Python that has the package (bash "
        "scripts/setup.sh installs it into the repository's .venv)",
        *problem));
  }
  std::vector<std::string> arguments = {python, "-c", kBootstrap, command.get_name()};
  for (auto& argument : given_arguments(command)) arguments.push_back(std::move(argument));
  std::vector<char*> argv;
  argv.reserve(arguments.size() + 1);
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  execvp(python.c_str(), argv.data());
  throw std::runtime_error(fmt::format(
      "this run uses a Python environment (module:Name), which locus trains through the Python "
      "package locus, but the interpreter '{}' cannot be run ({}); set LOCUS_PYTHON to a Python "
      "that has the package (bash scripts/setup.sh installs it into the repository's .venv)",
      python, std::strerror(errno)));
}

}  // namespace locus::cli
