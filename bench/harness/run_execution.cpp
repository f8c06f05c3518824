#include "bench/harness/run_execution.hpp"

#include <fmt/format.h>

#include <cmath>

#include "bench/harness/errors.hpp"
#include "bench/harness/metrics.hpp"

namespace locus::bench {

namespace {

using nlohmann::json;

json to_json_array(const std::vector<double>& values) {
  json out = json::array();
  for (const double v : values) out.push_back(std::isfinite(v) ? json(v) : json(nullptr));
  return out;
}

json metrics_json(const RunMetrics& m) {
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"acc", num(m.acc)},
          {"bwt", num(m.bwt)},
          {"fwt", num(m.fwt)},
          {"forgetting", num(m.forgetting)},
          {"sg", to_json_array(m.sg)},
          {"avg_sg", num(m.avg_sg)},
          {"avg_sg_previous", num(m.avg_sg_previous)},
          {"min_acc", num(m.min_acc)},
          {"wc_acc", num(m.wc_acc)},
          {"gap_depth", num(m.gap_depth)},
          {"gap_recovery", num(m.gap_recovery)},
          {"gap_area", num(m.gap_area)},
          {"gap_censored", m.gap_censored},
          {"first_task_final", num(m.first_task_final)},
          {"mean_gain", num(m.mean_gain)},
          {"parameter_count", m.parameter_count},
          {"bytes_per_task", m.bytes_per_task},
          {"wall_seconds", num(m.wall_seconds)},
          {"steps_per_second", num(m.steps_per_second)}};
}

json record_json(const ContinualRecord& r) {
  json curves = json::array();
  for (const auto& curve : r.curves) curves.push_back(to_json_array(curve));
  json matrix = json::array();
  for (const auto& row : r.matrix) matrix.push_back(to_json_array(row));
  return {{"num_tasks", r.num_tasks},
          {"block_ends", r.block_ends},
          {"iterations", r.iterations},
          {"curves", curves},
          {"gains", to_json_array(r.gains)},
          {"losses", to_json_array(r.losses)},
          {"matrix", matrix},
          {"initial", to_json_array(r.initial)},
          {"train_steps", r.train_steps},
          {"train_samples", r.train_samples},
          {"train_seconds", r.train_seconds},
          {"eval_seconds", r.eval_seconds}};
}

// The learner's gain set by a control: held at the source's mean gain (fixed_gain_from), or the
// learning rate scaled by it (matched_lr_from). Records the resolved value in `out`.
void apply_gain_control(const RunSpec& spec, double source_mean_gain, SupervisedConfig& config,
                        json& out) {
  if (!std::isfinite(source_mean_gain) || source_mean_gain <= 0.0) {
    throw InvalidArgumentError(
        fmt::format("run '{}' depends on method '{}' but got no positive mean gain from it",
                    spec.id, spec.depends_on));
  }
  if (spec.run.control.kind == GainControl::Kind::kFixedGain) {
    const auto fixed_gain = static_cast<float>(source_mean_gain);
    config.fixed_gain = fixed_gain;
    out["resolved_fixed_gain"] = fixed_gain;
  } else {
    const double matched_lr = static_cast<double>(config.optimizer.learning_rate) *
                              std::pow(source_mean_gain, spec.run.control.matched_lr_power);
    config.optimizer.learning_rate = static_cast<float>(matched_lr);
    out["resolved_lr"] = matched_lr;
  }
}

// The contexts a learner that found the task boundaries itself switched to, and how they match the
// true boundaries.
void record_context_discovery(const SupervisedLearner& learner, std::int64_t steps_per_task,
                              json& resolved) {
  json switches = json::array();
  for (const ContextSwitch& change : learner.context_switches()) {
    switches.push_back({{"iteration", change.step},
                        {"from", change.from},
                        {"to", change.to},
                        {"reused", change.reused},
                        {"z", change.z}});
  }
  const BoundaryDetection detection =
      detect_boundaries(learner.context_switches(), steps_per_task, learner.num_tasks());
  json delays = json::array();
  for (const auto& delay : detection.delays) delays.push_back(delay ? json(*delay) : json(nullptr));
  json task_contexts = json::array();
  for (std::int64_t task = 0; task < learner.num_tasks(); ++task) {
    task_contexts.push_back(learner.context_of(task));
  }
  resolved["context_switches"] = switches;
  resolved["boundary_delays"] = delays;
  resolved["extra_context_switches"] = detection.extra_switches;
  resolved["task_contexts"] = task_contexts;
}

// Trains the run's learner through its sequence; `resolved` receives what a control resolved and,
// with an inferred context, how often it was right.
ContinualRecord run_learner(const RunSpec& spec, std::optional<double> source_mean_gain,
                            json& resolved) {
  const RunSettings& run = spec.run;
  if (const auto* cognitive = std::get_if<CognitiveConfig>(&run.learner)) {
    CognitiveLearner learner(*cognitive);
    return run_continual(learner, run.schedule);
  }
  if (const auto* rl = std::get_if<RlConfig>(&run.learner)) {
    RlLearner learner(*rl);
    return run_continual(learner, run.schedule);
  }
  SupervisedConfig config = std::get<SupervisedConfig>(run.learner);
  if (!spec.depends_on.empty()) {
    apply_gain_control(spec, source_mean_gain.value_or(std::nan("")), config, resolved);
  }
  SupervisedLearner learner(config);
  ContinualRecord record = run_continual(learner, run.schedule);
  if (infers_context(config.context_at_test)) {
    // How often the inferred context was the task's own, per task at the end: what separates a
    // wrong guess of the task from a right context that still misclassifies.
    json hits = json::array();
    for (std::int64_t task = 0; task < learner.num_tasks(); ++task) {
      hits.push_back(learner.context_hit_rate(task));
    }
    resolved["context_hit_rates"] = hits;
  }
  if (config.context_at_train == ContextAtTrain::kOnChange) {
    record_context_discovery(learner, run.schedule.iterations_per_task, resolved);
  }
  return record;
}

}  // namespace

json execute_run(const RunSpec& spec, std::optional<double> source_mean_gain) {
  if (!spec.scenario.is_null() && !spec.depends_on.empty()) {
    throw InvalidArgumentError(fmt::format("{} run '{}' cannot depend on another run",
                                           spec.scenario["kind"].dump(), spec.id));
  }
  json resolved = json::object();
  const ContinualRecord record = run_learner(spec, source_mean_gain, resolved);
  const RunMetrics metrics = compute_metrics(record, spec.run.gap_epsilon, spec.run.gap_window);
  json out = {{"id", spec.id},
              {"method", spec.method},
              {"seed", spec.seed},
              {"grid", spec.grid},
              {"settings", spec.settings},
              {"metrics", metrics_json(metrics)},
              {"record", record_json(record)}};
  if (!spec.scenario.is_null()) out["scenario"] = spec.scenario;
  if (source_mean_gain) out["source_mean_gain"] = *source_mean_gain;
  out.update(resolved);
  return out;
}

}  // namespace locus::bench
