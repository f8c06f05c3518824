#pragma once
// Sweeps: a YAML config names the scenario, the methods, a grid of parameters and the seeds; the
// sweep expands methods x grid points x seeds into runs, executes them in parallel TBB workers, and
// writes each finished run atomically (temp file + rename) to DIR/runs/<id>.json. A restarted sweep
// reads DIR/runs/ and skips the runs that finished, so a sweep killed at any point (even by
// SIGKILL) loses at most the runs that were in flight and repeats none that finished. At the end
// it writes DIR/results.jsonl (one line per run), DIR/summary.csv (mean and sd over seeds per
// method and grid point) and returns the table it prints.
//
// Config (every key of `defaults`, a method or the grid is a run setting; see run_settings_help()):
//   name: default
//   seeds: [0, 1]
//   defaults: {stream: split, scenario: task-incremental, joint: true, optimizer: sgd, lr: 0.01}
//   grid: {lr: [0.01, 0.001]}          # optional; applied to every method
//   methods:
//     - {name: sgd}
//     - {name: ngm-sgd, ngm: true}
//     - {name: fixed-gain-sgd, fixed_gain_from: ngm-sgd}   # NGM's control: its mean gain, fixed
// A run's settings are the defaults, overridden by its method, overridden by its grid point.
// `fixed_gain_from: M` runs after M and fixes the gain at the mean gain that M's run of the same
// seed and grid point had; `matched_lr_from: M` runs after M with its learning rate multiplied by
// M's mean gain to the power `matched_lr_power` (1: lr x mean gain; NGM's step-size control).
// Runs are deterministic given their settings and seed, whatever --jobs.
//
// Scenario kinds (the optional top-level `scenario:` mapping):
//   kind: supervised   (the default) Fashion-MNIST streams; the run settings above
//   kind: rl           agents (bench/rl.hpp) through a sequence of RL tasks:
//     scenario: {kind: rl, tasks: [GoNoGo-v0, {id: SetShiftGoNoGo-v0, kwargs: {...}}],
//                env_kwargs: {trials_per_episode: 1}, score: success, eval_episodes: 32}
//     and run settings iterations_per_task, eval_every, gap_epsilon, gap_window plus the agent's
//     keys (agents/config.hpp: agent, modulation, network, contexts, learning_rate, ...).
//   kind: cognitive    a recurrent network trained by supervision through a sequence of cognitive
//                      tasks (bench/cognitive.hpp):
//     scenario: {kind: cognitive, tasks: [GoNoGo-v0, PerceptualDecisionMaking-v0, ...],
//                rule_input: true, eval_trials: 200}
//     and run settings network (modulated | trainable), recurrence, hidden, alpha, lr, batch_size,
//     seq_len, separate plus the harness's iterations_per_task, eval_every, gap_epsilon,
//     gap_window.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bench/continual.hpp"
#include "bench/supervised.hpp"

namespace locus::bench {

struct RunSpec {
  std::string id;  // file name stem in DIR/runs/
  std::string method;
  std::uint64_t seed = 0;
  nlohmann::json grid = nlohmann::json::object();      // this run's grid point
  nlohmann::json settings = nlohmann::json::object();  // merged settings (without the seed)
  std::string depends_on;  // fixed_gain_from or matched_lr_from, or empty
  // Scenario kinds rl and cognitive: the scenario's to_json(), written to the run file and
  // compared on resume; null for supervised runs.
  nlohmann::json scenario = nullptr;
};

struct SweepConfig {
  std::string name = "sweep";
  std::vector<std::uint64_t> seeds = {0};
  nlohmann::json defaults = nlohmann::json::object();
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid;  // in file order
  std::vector<std::pair<std::string, nlohmann::json>> methods;            // name, its settings
  // Null for supervised (Fashion-MNIST) sweeps; the scenario's to_json() for kind rl
  // (RlScenario) and kind cognitive (CognitiveScenario).
  nlohmann::json scenario = nullptr;
  bool rl() const { return !scenario.is_null() && scenario["kind"] == "rl"; }
  bool cognitive() const { return !scenario.is_null() && scenario["kind"] == "cognitive"; }

  // Throws InvalidArgumentError naming the bad key or value (and YAML errors with their line).
  static SweepConfig from_yaml(const std::string& text);
  static SweepConfig from_yaml_file(const std::filesystem::path& path);
  // Every run in a fixed order (methods, then grid points, then seeds), checked: unknown settings,
  // bad values and missing fixed_gain_from methods fail here, before anything runs.
  std::vector<RunSpec> expand() const;
};

// A lower bound of the bytes a supervised run holds (its network's weights and batch buffers, the
// continual record), and the check that refuses a run whose estimate exceeds the available memory
// (InvalidArgumentError naming the run, the estimate and what is available). expand() runs it.
std::uint64_t supervised_memory_estimate(const SupervisedConfig& config, const Schedule& schedule);
void check_run_memory(const std::string& id, const SupervisedConfig& config,
                      const Schedule& schedule);

// The settings a run understands, with their defaults, as help text.
std::string run_settings_help();
// A run's settings (merged JSON) turned into the learner's configuration and the schedule.
SupervisedConfig supervised_config(const nlohmann::json& settings, std::uint64_t seed);
Schedule schedule_from_settings(const nlohmann::json& settings);

// Runs one spec to completion: the JSON written to DIR/runs/<id>.json (settings, metrics, the
// whole continual record). `source_mean_gain` is the mean gain of the run it depends on (its
// fixed_gain_from or matched_lr_from method, same seed and grid point), required for those runs.
nlohmann::json execute_run(const RunSpec& spec,
                           std::optional<double> source_mean_gain = std::nullopt);

struct SweepOptions {
  std::filesystem::path out_dir;
  int jobs = 1;
  bool progress = true;  // a progress line on `progress_stream`
  std::FILE* progress_stream = stderr;
  // Called (from a worker thread, serialized) after each run is written; tests use it.
  std::function<void(const RunSpec&)> on_run_finished;
};

struct SweepOutcome {
  std::size_t total = 0;
  std::size_t skipped = 0;   // finished before this call
  std::size_t executed = 0;  // run by this call
  std::string table;         // the summary table (also in summary.csv)
};

SweepOutcome run_sweep(const SweepConfig& config, const SweepOptions& options);

// Reads DIR/runs/*.json of the sweep's runs, writes DIR/results.jsonl and DIR/summary.csv, and
// returns the printed table. Used by run_sweep at its end.
std::string write_summary(const SweepConfig& config, const std::filesystem::path& out_dir);

// Writes `text` to `path` atomically: a temporary file in the same folder, then rename().
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace locus::bench
