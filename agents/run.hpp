#pragma once
// Training runs on disk: what `locus train` and `locus eval` do.
//
// A run directory holds config.json (the RunConfig), the per-update files of run_metrics.hpp
// (metrics.csv, metrics.jsonl, dopamine_trace.csv, gain_trace.csv), checkpoint.bin (written
// atomically every checkpoint_every updates and at the end) and summary.json. With several seeds,
// DIR/seed_<s>/ is one such directory per seed and DIR/summary.json aggregates them (mean and
// spread).
//
// Resuming reloads each seed's checkpoint.bin, rewinds its metric files to it and continues;
// because every checkpoint starts a new segment (Agent::begin_segment), the resumed run equals
// the uninterrupted one. A seed without a checkpoint (the run was killed before it got one)
// starts from scratch, and so does a seed whose metric files lost rows its checkpoint covers.
// A directory that already holds a run is never overwritten by a new one; one process at a time
// uses a run directory (run_lock.hpp); a run that fails before its first checkpoint leaves nothing
// behind.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "agents/agent.hpp"
#include "agents/run_config.hpp"

namespace locus::agents {

// Called after every update of every agent (from worker threads, one call at a time per agent).
using ProgressFn = std::function<void(std::size_t agent_index, const UpdateStats&, const Agent&)>;

// Set (from a signal handler too: it is lock-free) to end a run early and resumably: every agent
// trains on to its next scheduled checkpoint and stops there (a checkpoint between two scheduled
// ones would start a segment the uninterrupted run does not have), and agents that have not
// started do not start. train() and resume() then throw RunInterrupted.
using StopFlag = std::atomic<bool>;

// The processes that share one multi-seed run: the ranks of an MPI job (`mpirun -n N locus train
// --seeds ...`, bench/mpi/mpi_run_group.hpp). Process `index` of `count` trains the seeds at
// positions index, index + count, ... of the run's seed list into DIR/seed_<s>/; process 0 alone
// prepares the run directory, holds its lock and, once every process is done, writes the summary
// of all seeds (read from their folders: DIR must be on a file system every process sees). The
// files are those of one process training every seed. A process that fails ends the whole job
// (mpirun stops the others); --resume continues from the checkpoints.
class RunGroup {
 public:
  virtual ~RunGroup() = default;
  virtual std::size_t index() const = 0;
  virtual std::size_t count() const = 0;
  // Returns once every process of the group has called it.
  virtual void wait_for_all() = 0;
};

// Trains into `dir` (created; must not hold a run). Returns the summary written to
// dir/summary.json (null on a group's processes other than 0). The env's plugin is loaded first
// when the config names one, and recorded when --plugin registered the env.
nlohmann::json train(const RunConfig& requested, const std::filesystem::path& dir,
                     const ProgressFn& progress = {}, const StopFlag* stop = nullptr,
                     RunGroup* group = nullptr);
// Continues the run in `dir`, with the settings in `requested` (flat config keys) changed as
// resumed_config() allows (steps may extend or shorten it).
nlohmann::json resume(const std::filesystem::path& dir,
                      const nlohmann::json& requested = nlohmann::json::object(),
                      const ProgressFn& progress = {}, const StopFlag* stop = nullptr,
                      RunGroup* group = nullptr);
// Evaluates the checkpoint(s) of a run directory; writes dir/eval.json and returns it.
nlohmann::json evaluate(const std::filesystem::path& dir, std::size_t episodes,
                        std::optional<std::uint64_t> seed = std::nullopt);

}  // namespace locus::agents
