#pragma once
// The runs a process still has to execute, handed out one at a time to whoever asks (its worker
// threads, or in an MPI job the coordinator on behalf of every rank's workers), so that uneven runs
// balance. A run is handed out only when
//   - the run its gain comes from (a control's source, fixed_gain_from or matched_lr_from) has
//     finished, and
//   - this process holds its claim (run_claim.hpp): a run claimed by another process is retried
//     later, and if that process finished it meanwhile, it is counted as done elsewhere and not
//     run again.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

#include "bench/harness/grid.hpp"
#include "bench/harness/run_claim.hpp"

namespace locus::bench {

struct Assignment {
  std::size_t index = 0;                   // into the sweep's runs
  std::optional<double> source_mean_gain;  // for a control: its source's mean gain
  RunClaim claim;                          // held until the run's file is written
};

class RunQueue {
 public:
  // `finished[i]`: runs[i] had finished before (read from the folder); `todo`: the runs to
  // execute, in the order they are handed out.
  RunQueue(const std::vector<RunSpec>& runs, const std::vector<char>& finished,
           const std::vector<std::size_t>& todo, std::filesystem::path out_dir);

  enum class Next { kAssigned, kWait, kDone };
  // Without waiting: a run (kAssigned, in `out`); kWait while the runs left wait for a source in
  // flight or another process's claim; kDone when no run is left to hand out. Throws
  // SweepStateError when a run file cannot be read.
  Next try_next(std::optional<Assignment>& out);
  // Waits while try_next says kWait; none when done.
  std::optional<Assignment> next();
  // The run's file is written (its claim may be released).
  void finish(std::size_t index);
  // After a failure: nothing more is handed out.
  void stop();
  // Runs another process finished while this one waited for their claim.
  std::size_t done_elsewhere() const;

  // How long a run claimed by another process waits before it is tried again.
  static constexpr std::chrono::milliseconds kClaimRetry{50};

 private:
  Next try_next_locked(std::optional<Assignment>& out);
  bool ready(std::size_t index) const;

  const std::vector<RunSpec>& runs_;
  std::filesystem::path out_dir_;
  std::vector<std::size_t> pending_;
  std::vector<char> finished_;
  std::vector<std::chrono::steady_clock::time_point> retry_at_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t done_elsewhere_ = 0;
  bool stopped_ = false;
};

}  // namespace locus::bench
