#pragma once
// The per-update files of a training run directory (agents/run.hpp): metrics.csv and
// metrics.jsonl (one row per update), dopamine_trace.csv (every transition of the traced envs),
// for da+na agents gain_trace.csv (every noradrenaline observation), and TensorBoard's event file
// tensorboard/events.out.tfevents.locus (agents/run_tensorboard.hpp).
//
// The files are appended to as the run goes and flushed before each checkpoint is written, so a
// checkpoint never covers an update whose rows are not in the files. A process killed at any
// moment therefore leaves every row up to its last checkpoint, plus rows (the last perhaps cut)
// from updates after it; rewind() keeps exactly the former, and a resumed run appends the rest,
// so the files end equal to the uninterrupted run's (time_s aside).

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "agents/agent.hpp"

namespace locus::agents {

// JSON null for NaN and infinities (JSON has neither).
nlohmann::json json_number(double x);
nlohmann::json eval_to_json(const EvalResult& eval);
// The mean return of the agent's last 100 episodes and its success rate over its last 100 trials
// (NaN before the first).
double mean_recent_return(const Agent& agent);
double recent_success_rate(const Agent& agent);

class RunMetrics {
 public:
  RunMetrics(std::filesystem::path dir, bool gain_trace);

  // A new run: every file holds its header only.
  void start();
  // A resumed run whose checkpoint is at `update`: keeps the header and the complete rows of
  // updates up to `update`, drops the rest. Returns false, changing nothing, when metrics.csv or
  // metrics.jsonl lack a row of some update 1..update (the files were cut or edited by hand): the
  // caller then replays the run from its start.
  bool rewind(std::size_t update);
  // The best mean return of the periodic evaluations in metrics.jsonl (-infinity if none): what a
  // resumed run's best_eval_return starts from.
  double best_eval_return() const;
  // Opens the files for appending (after start() or rewind()).
  void open();

  void write(const UpdateStats& stats, double time_s, const std::optional<EvalResult>& eval,
             const Agent& agent);
  void write_traces(Agent& agent);
  // Every row written so far is in the files (called before a checkpoint is saved).
  void flush();
  void close();

 private:
  std::filesystem::path dir_, tensorboard_path_;
  bool gain_trace_;
  std::ofstream metrics_csv_, metrics_jsonl_, dopamine_csv_, gain_csv_, tensorboard_;
};

}  // namespace locus::agents
