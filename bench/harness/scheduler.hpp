#pragma once
// The sweep scheduler: expands a config into runs, skips those already finished in the output
// folder, executes the rest (or its shard's part, shard.hpp) in parallel worker threads that take
// the next run as they finish one (a control after the run it reads its gain from), claims each
// run before it starts so that other processes on the same folder never run it too
// (run_claim.hpp), writes each finished run atomically and ends with the summary (summary.hpp)
// once every run of the sweep has finished. It reports its progress through SweepProgress;
// drawing it is the caller's (the `locus sweep` line: cli/sweep_progress.hpp). The MPI scheduler
// (bench/mpi/mpi_sweep.hpp) spreads the same runs over ranks.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

#include "bench/harness/grid.hpp"
#include "bench/harness/shard.hpp"
#include "bench/harness/sweep_config.hpp"

namespace locus::bench {

// What the scheduler tells about a sweep while it runs.
class SweepProgress {
 public:
  virtual ~SweepProgress() = default;
  // Once, before any run starts: the sweep's runs, how many finished before this call, workers,
  // and the training iterations of the runs left (planned_iterations: runs differ in length, so
  // the time left is estimated per iteration, not per run).
  virtual void begin(std::size_t total, std::size_t finished_before, int jobs,
                     std::int64_t iterations_left) = 0;
  // From the worker threads, possibly at the same time; `iterations` is the run's planned count.
  virtual void run_started(std::int64_t iterations) = 0;
  virtual void run_finished(double seconds, std::int64_t iterations) = 0;
  // Once, after the last run or the first failure.
  virtual void end() = 0;
};

struct SweepOptions {
  std::filesystem::path out_dir;
  int jobs = 1;                               // worker threads (per MPI rank)
  Shard shard;                                // the part of the sweep to run (default: all of it)
  bool progress = true;                       // report to progress_display (false: to nothing)
  SweepProgress* progress_display = nullptr;  // none: no progress is shown
  // Called (from a worker thread, serialized) after each run is written; tests use it.
  std::function<void(const RunSpec&)> on_run_finished;
};

struct SweepOutcome {
  std::size_t total = 0;           // the runs of this shard (the whole sweep without --shard)
  std::size_t skipped = 0;         // of those, finished before this call
  std::size_t executed = 0;        // run by this call
  std::size_t done_elsewhere = 0;  // finished by another process while this call ran
  std::size_t sweep_total = 0;     // the runs of the whole sweep
  std::size_t sweep_finished = 0;  // of those, finished in the folder at the end
  // The summary table (also in summary.csv), once every run of the sweep has finished; empty
  // while other shards' runs are missing.
  std::string table;
  bool complete() const { return sweep_finished == sweep_total; }
};

// Checked here, shared with the command line: --jobs must be in [1, kMaxJobs].
inline constexpr int kMaxJobs = 4096;

SweepOutcome run_sweep(const SweepConfig& config, const SweepOptions& options);

}  // namespace locus::bench
