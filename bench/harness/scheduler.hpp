#pragma once
// The sweep scheduler: expands a config into runs, skips those already finished in the output
// folder, executes the rest in parallel TBB workers (the runs a control depends on first), writes
// each finished run atomically and ends with the summary (summary.hpp). It reports its progress
// through SweepProgress; drawing it is the caller's (the `locus sweep` line:
// cli/sweep_progress.hpp).

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

#include "bench/harness/grid.hpp"
#include "bench/harness/sweep_config.hpp"

namespace locus::bench {

// What the scheduler tells about a sweep while it runs.
class SweepProgress {
 public:
  virtual ~SweepProgress() = default;
  // Once, before any run starts: the sweep's runs, how many finished before this call, workers.
  virtual void begin(std::size_t total, std::size_t finished_before, int jobs) = 0;
  // From the worker threads, possibly at the same time.
  virtual void run_started() = 0;
  virtual void run_finished(double seconds) = 0;
  // Once, after the last run or the first failure.
  virtual void end() = 0;
};

struct SweepOptions {
  std::filesystem::path out_dir;
  int jobs = 1;
  bool progress = true;                       // report to progress_display (false: to nothing)
  SweepProgress* progress_display = nullptr;  // none: no progress is shown
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

}  // namespace locus::bench
