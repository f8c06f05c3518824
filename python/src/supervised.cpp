// Supervised training on the cognitive tasks from Python (supervised/trial_run.hpp): the package's
// locus.train_supervised builds on _core.train_supervised.
//
// The GIL is released for the C++ run and taken back for each evaluation's progress callback,
// which also delivers Ctrl-C: a pending KeyboardInterrupt is raised there (an interrupted run's
// directory keeps the metrics so far).

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "bindings.hpp"
#include "convert.hpp"
#include "supervised/trial_run.hpp"

namespace locus::python {

namespace {

py::dict history_to_python(const supervised::TrialHistory& history) {
  py::dict out;
  out["iteration"] = py::cast(history.iterations);
  out["loss"] = py::cast(history.losses);
  out["train_accuracy"] = py::cast(history.train_accuracies);
  out["accuracy"] = py::cast(history.accuracies);
  return out;
}

// Python's on_evaluation: checks for Ctrl-C, then calls `progress(history)` when given; a falsy
// return other than None stops the run.
std::function<bool(const supervised::TrialHistory&)> evaluation_callback(
    const py::object& progress) {
  return [progress](const supervised::TrialHistory& history) {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (progress.is_none()) return true;
    const py::object verdict = progress(history_to_python(history));
    return verdict.is_none() || verdict.cast<bool>();
  };
}

}  // namespace

void bind_supervised(py::module_& module) {
  module.def(
      "train_supervised",
      [](const std::string& env, const py::dict& env_kwargs, const std::string& network,
         std::size_t hidden, bool modulated, float alpha, const py::object& spec_json,
         std::int64_t iterations, std::int64_t eval_every, std::size_t eval_trials,
         std::size_t batch_size, std::size_t seq_len, std::uint64_t seed,
         std::optional<float> learning_rate, float clip, bool reset_at_trial_start,
         const std::string& out, const py::object& progress) {
        supervised::TrialTrainerConfig config;
        config.data = {.env_id = env,
                       .env_kwargs = to_json(env_kwargs, "env_kwargs"),
                       .batch_size = batch_size,
                       .seq_len = seq_len,
                       .seed = seed};
        config.network.recurrence = supervised::recurrence_from_name(network);
        config.network.hidden = hidden;
        config.network.modulated = modulated;
        config.network.alpha = alpha;
        if (!spec_json.is_none()) {
          config.network.spec = neuromod::network_spec_from_json(spec_json.cast<std::string>());
        }
        config.optimizer = supervised::default_trial_optimizer(modulated);
        if (learning_rate) config.optimizer->learning_rate = *learning_rate;
        config.optimizer->clip_grad_norm = clip;
        config.reset_at_trial_start = reset_at_trial_start;
        config.eval_trials = eval_trials;
        const supervised::TrialRunOptions options{
            .iterations = iterations, .eval_every = eval_every, .out_dir = out};
        const auto callback = evaluation_callback(progress);
        supervised::TrialRunResult result;
        {
          py::gil_scoped_release release;
          result = supervised::run_trial_training(config, options, callback);
        }
        flush_warnings();
        py::dict out_dict = from_json(result.summary).cast<py::dict>();
        out_dict["trials"] = result.final_score.trials;
        out_dict["history"] = history_to_python(result.history);
        return out_dict;
      },
      py::arg("env"), py::arg("env_kwargs"), py::arg("network"), py::arg("hidden"),
      py::arg("modulated"), py::arg("alpha"), py::arg("spec_json"), py::arg("iterations"),
      py::arg("eval_every"), py::arg("eval_trials"), py::arg("batch_size"), py::arg("seq_len"),
      py::arg("seed"), py::arg("learning_rate"), py::arg("clip"), py::arg("reset_at_trial_start"),
      py::arg("out"), py::arg("progress"),
      "supervised::run_trial_training; returns the summary with the history (see "
      "locus.train_supervised).");
}

}  // namespace locus::python
