// Training locus agents (agents/run.hpp) from Python, on locus's C++ environments or on Python
// gymnasium.Envs (the package's locus.training builds on these functions).
//
// A Python env reaches the agents through the C++ registry: register_python_env(id) registers an
// EnvSpec whose entry point asks the package (locus.training._make_env(id, kwargs), under the GIL)
// for a fresh gymnasium.Env and wraps it in the PythonEnv adapter (python_env.cpp). The agents then
// make their VectorEnvs with make_vec(id, ...) exactly as for a C++ env, so a Python run writes the
// same run directory, and config.json records the id from which the env can be made again.
//
// The GIL: train, resume and evaluate release it for the whole C++ run; the adapter takes it for
// every reset, step, render and close, and the entry point takes it to make an env. The agents'
// VectorEnvs run serially (num_threads 1), and agents trained side by side (several seeds) run in
// TBB workers that take turns at the GIL, so any thread count is safe and gives the same results.
// A Python exception raised by the env (or KeyboardInterrupt) propagates out of the run unchanged.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "agents/run.hpp"
#include "agents/run_metrics.hpp"
#include "agents/run_signals.hpp"
#include "agents/train_flags.hpp"
#include "agents/train_report.hpp"
#include "bindings.hpp"
#include "convert.hpp"
#include "envs/errors.hpp"
#include "envs/registry.hpp"

namespace locus::python {

namespace {

// A fresh Python env for `id` with the make_vec kwargs (the spec's merged with the run's
// env_kwargs, without max_episode_steps, which the VectorEnv applies itself).
std::unique_ptr<envs::Env> make_registered_python_env(const std::string& id,
                                                      const envs::Kwargs& kwargs) {
  py::gil_scoped_acquire gil;
  const py::object make = py::module_::import("locus.training").attr("_make_env");
  const py::object parts = make(id, from_json(kwargs));
  if (!PyTuple_Check(parts.ptr()) || py::len(parts) != 3) {
    throw envs::InvalidArgumentError("locus.training._make_env('" + id +
                                     "') must return (env, observation_space, action_space)");
  }
  const auto items = py::reinterpret_borrow<py::tuple>(parts);
  return make_python_env(items[0], items[1].cast<py::dict>(), items[2].cast<py::dict>());
}

// Where progress is the command line's progress line (TrainProgress), it is updated in C++ from
// the workers, without the GIL; any other callable gets a dict per update.
agents::ProgressFn progress_callback(const py::object& progress) {
  if (progress.is_none()) return {};
  if (py::isinstance<agents::TrainProgress>(progress)) {
    auto* line = progress.cast<agents::TrainProgress*>();  // the caller holds it through the run
    return [line](std::size_t agent, const agents::UpdateStats& stats, const agents::Agent& a) {
      line->update(agent, stats, a);
    };
  }
  return [progress](std::size_t agent, const agents::UpdateStats& stats, const agents::Agent& a) {
    const auto none_if_nan = [](double x) {
      return std::isnan(x) ? py::object(py::none()) : py::object(py::float_(x));
    };
    py::gil_scoped_acquire gil;
    py::dict row;
    row["agent"] = agent;
    row["update"] = stats.update;
    row["steps"] = stats.steps;
    row["episode_returns"] = py::cast(stats.episode_returns);
    row["return_100"] = none_if_nan(agents::mean_recent_return(a));
    row["success_100"] = none_if_nan(agents::recent_success_rate(a));
    row["loss"] = stats.loss;
    row["entropy"] = stats.entropy;
    progress(row);
  };
}

// Runs `run` (a training call returning its summary) without the GIL, flushes the C++ warnings it
// raised into Python's and returns the summary as Python objects.
template <typename Run>
py::object without_gil(const Run& run) {
  nlohmann::json summary;
  {
    py::gil_scoped_release release;
    summary = run();
  }
  flush_warnings();
  return from_json(summary);
}

// train and resume: the progress callback and, with stop_on_signals, a stop at the next checkpoint
// on Ctrl-C or SIGTERM, around run(callback, stop).
template <typename Run>
py::object run_training(const py::object& progress, bool stop_on_signals, const Run& run) {
  const agents::ProgressFn callback = progress_callback(progress);
  std::optional<agents::StopOnSignals> signals;
  if (stop_on_signals) signals.emplace();
  const agents::StopFlag* stop = signals ? &signals->flag() : nullptr;
  return without_gil([&] { return run(callback, stop); });
}

}  // namespace

void bind_training(py::module_& module) {
  module.def(
      "register_python_env",
      [](const std::string& id, std::optional<double> reward_threshold,
         const std::string& description) {
        auto& registry = envs::Registry::global();
        if (registry.contains(id)) return false;
        envs::EnvSpec spec;
        spec.id = id;
        spec.entry_point = [id](const envs::Kwargs& kwargs) {
          return make_registered_python_env(id, kwargs);
        };
        spec.reward_threshold = reward_threshold;
        spec.description = description;
        registry.register_env(std::move(spec));
        return true;
      },
      py::arg("id"), py::arg("reward_threshold") = py::none(), py::arg("description") = "",
      "Registers `id` in the C++ registry as a Python env made by locus.training._make_env; "
      "returns False if the id is registered already.");
  module.def(
      "train",
      [](const py::dict& config_json, const std::string& out, const py::object& progress,
         bool stop_on_signals) {
        const agents::RunConfig config =
            agents::RunConfig::from_json(to_json(config_json, "locus.train config"));
        return run_training(progress, stop_on_signals, [&](const auto& callback, auto stop) {
          return agents::train(config, out, callback, stop);
        });
      },
      py::arg("config"), py::arg("out"), py::arg("progress") = py::none(),
      py::arg("stop_on_signals") = false,
      "Trains into `out` (agents::train) with a run config of config-file keys; returns the "
      "summary. With stop_on_signals, Ctrl-C and SIGTERM stop the run at its next checkpoint "
      "(raising RunInterrupted) instead of interrupting Python: for command lines.");
  module.def(
      "resume",
      [](const std::string& dir, const py::dict& requested, const py::object& progress,
         bool stop_on_signals) {
        const nlohmann::json settings = to_json(requested, "locus.resume settings");
        return run_training(progress, stop_on_signals, [&](const auto& callback, auto stop) {
          return agents::resume(dir, settings, callback, stop);
        });
      },
      py::arg("dir"), py::arg("settings") = py::dict(), py::arg("progress") = py::none(),
      py::arg("stop_on_signals") = false,
      "Continues the run in `dir` (agents::resume) with `settings` (config keys) changed where a "
      "resumed run may change them (steps, threads, precision); returns the summary.");
  module.def(
      "stopping_signal", [] { return agents::StopOnSignals::last_signal(); },
      "The signal (SIGINT, SIGTERM) that stopped a run started with stop_on_signals, 0 if none.");
  module.def(
      "resumed_config",
      [](const std::string& dir, const py::dict& requested) {
        std::vector<agents::ResumeChange> changes;
        const agents::RunConfig config = agents::resumed_config(
            agents::load_run_config(dir), to_json(requested, "locus.resume settings"), &changes);
        py::list listed;
        for (const auto& change : changes) {
          listed.append(
              py::make_tuple(change.key, from_json(change.saved), from_json(change.requested)));
        }
        return py::make_tuple(from_json(config.to_json()), listed);
      },
      py::arg("dir"), py::arg("settings"),
      "(config, changes): the run's config with `settings` applied as resume() would, and the "
      "(key, saved, requested) of each setting it changes; raises ConfigError on a conflict.");
  module.def(
      "evaluate",
      [](const std::string& dir, std::size_t episodes, std::optional<std::uint64_t> seed) {
        if (episodes == 0) {
          throw envs::InvalidArgumentError("evaluate: episodes must be positive, got 0");
        }
        return without_gil([&] { return agents::evaluate(dir, episodes, seed); });
      },
      py::arg("dir"), py::arg("episodes") = 10, py::arg("seed") = py::none(),
      "Evaluates the checkpoint(s) of a run directory (agents::evaluate); writes eval.json.");
  module.def(
      "load_run_config",
      [](const std::string& dir) { return from_json(agents::load_run_config(dir).to_json()); },
      py::arg("dir"), "The run configuration saved in dir/config.json.");
  module.def(
      "read_config_file",
      [](const std::string& path) { return from_json(agents::read_config_file(path)); },
      py::arg("path"), "A JSON or YAML run config file, as `locus train --config` reads it.");
  module.def(
      "run_config_keys", [] { return agents::RunConfig::keys(); },
      "Every key a run config accepts.");
  module.def(
      "train_flags",
      [] {
        py::list out;
        for (const agents::TrainFlag& flag : agents::train_flags()) {
          py::dict entry;
          entry["name"] = std::string(flag.name);
          entry["key"] = std::string(flag.key);
          entry["value"] = std::string(agents::to_string(flag.value));
          entry["help"] = std::string(flag.help);
          out.append(entry);
        }
        return out;
      },
      "The flags of `locus train` (agents/train_flags.hpp): name, run-config key (empty for the "
      "command's own flags), value kind (text, whole, number, whole_list, switch) and help.");
  module.def(
      "given_train_settings",
      [](const std::string& config_file, const py::dict& flag_values,
         std::optional<std::uint64_t> agents, std::uint64_t default_seed) {
        return from_json(agents::given_train_settings(
            config_file, to_json(flag_values, "locus train flags"), agents, default_seed));
      },
      py::arg("config_file"), py::arg("flag_values"), py::arg("agents"), py::arg("default_seed"),
      "The settings of a `locus train` command line as flat run-config keys: the --config file's, "
      "overridden by the flags given (key -> value), and seeds from --agents "
      "(agents::given_train_settings).");
  module.def(
      "train_summary_text",
      [](const py::dict& summary, const std::string& run_dir) {
        return agents::train_summary_text(to_json(summary, "locus train summary"), run_dir);
      },
      py::arg("summary"), py::arg("run_dir"),
      "The text `locus train` prints when a run ends (agents::train_summary_text).");
  py::class_<agents::TrainProgress>(module, "TrainProgress",
                                    "`locus train`'s progress line on stderr; pass it as the "
                                    "progress of train() or resume(), then call finish().")
      .def(py::init<std::size_t, std::size_t, bool>(), py::arg("agents"),
           py::arg("steps_per_agent"), py::arg("enabled"))
      .def("finish", &agents::TrainProgress::finish, py::call_guard<py::gil_scoped_release>());
}

}  // namespace locus::python
