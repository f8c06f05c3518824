#pragma once
// The steps of a sweep shared by the single-process scheduler (scheduler.cpp) and the MPI one
// (bench/mpi/): planning (the folder prepared, this shard's runs left listed), the local worker
// threads that execute runs from a RunQueue, and the end (the summary once every run of the sweep
// has finished, whichever process finished last).

#include <atomic>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/grid.hpp"
#include "bench/harness/run_files.hpp"
#include "bench/harness/run_queue.hpp"
#include "bench/harness/scheduler.hpp"

namespace locus::bench {

struct SweepPlan {
  std::vector<RunSpec> runs;      // the whole sweep
  std::vector<char> finished;     // finished before this call
  std::vector<std::size_t> todo;  // this shard's runs left, in sweep order
  std::size_t shard_runs = 0;     // this shard's runs
  std::size_t skipped = 0;        // this shard's runs finished before this call
};

// Checks the options, expands the config, prepares the folder (DIR/runs/, DIR/sweep.json, the
// temporary files of runs no process is running removed) and lists this shard's runs left.
SweepPlan plan_sweep(const SweepConfig& config, const SweepOptions& options);

// The planned training iterations of the plan's runs left (the progress line's ETA).
std::int64_t iterations_left(const SweepPlan& plan);

// Executes one run on the calling thread (TBB limited to it: the workers are the parallelism, and
// a run's result does not depend on the thread count anyway): the text of its run file.
std::string execute_run_text(const RunSpec& spec, std::optional<double> source_mean_gain);

// Fills the outcome's sweep-wide counts and, when every run of the sweep has finished, writes
// the summary (results.jsonl, summary.csv) and its table.
void finish_sweep(const SweepConfig& config, const SweepPlan& plan,
                  const std::filesystem::path& out_dir, SweepOutcome& outcome);

// Keeps the data sets the runs left need loaded while it lives (the process-wide cache holds
// them only while someone does), so that each run does not read them again.
using DataSetsKeptLoaded = std::vector<std::shared_ptr<const void>>;
DataSetsKeptLoaded keep_data_sets_loaded(const SweepPlan& plan);

// options.jobs threads executing the runs `queue` hands out, each written as it finishes; the
// first failure stops the queue and is rethrown by join(). `thread_start` runs first on each
// thread (an MPI rank's workers select its GPU there).
class LocalWorkers {
 public:
  LocalWorkers(const SweepPlan& plan, RunQueue& queue, const SweepOptions& options,
               const std::function<void()>& thread_start = {});
  ~LocalWorkers();
  LocalWorkers(const LocalWorkers&) = delete;
  LocalWorkers& operator=(const LocalWorkers&) = delete;
  // Waits for every thread, then rethrows the first failure.
  void join();
  std::size_t executed() const { return executed_; }

 private:
  void work(const std::function<void()>& thread_start);
  void execute(Assignment& assignment);
  SweepProgress* display() const;

  const SweepPlan& plan_;
  RunQueue& queue_;
  const SweepOptions& options_;
  std::mutex finish_mutex_;
  std::exception_ptr error_;
  std::atomic<std::size_t> executed_{0};
  std::vector<std::thread> threads_;
};

// The progress display's end, however the sweep ends.
struct ProgressEnd {
  SweepProgress* progress;
  explicit ProgressEnd(SweepProgress* display) : progress(display) {}
  ProgressEnd(const ProgressEnd&) = delete;
  ProgressEnd& operator=(const ProgressEnd&) = delete;
  ~ProgressEnd() {
    if (progress) progress->end();
  }
};

}  // namespace locus::bench
