#include "bench/mpi/mpi_sweep.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/harness/errors.hpp"
#include "bench/harness/run_queue.hpp"
#include "bench/harness/sweep_execution.hpp"
#include "bench/mpi/polite_wait.hpp"
#include "neuromod/network.hpp"

namespace locus::bench::mpi {

namespace {

using Clock = std::chrono::steady_clock;

// A worker's request to rank 0 (tag kRequestTag), followed by the finished run's file or the
// failed run's error message.
constexpr int kRequestTag = 1;
enum class RunStatus : std::int32_t { kNone = 0, kFinished = 1, kFailed = 2, kFailedUsage = 3 };
struct RequestHeader {
  std::int32_t worker = 0;  // the worker thread's number on its rank
  RunStatus status = RunStatus::kNone;
  std::int64_t run = -1;  // the run it finished or failed
  double seconds = 0.0;
};

// Rank 0's answer to worker w (tag kReplyTag + w): the run to execute, or -1 when none is left.
constexpr int kReplyTag = 2;
struct Reply {
  std::int64_t run = -1;
  double source_mean_gain = 0.0;
  std::int32_t has_gain = 0;
};

template <class T>
std::vector<char> bytes_of(const T& header, const std::string& payload = {}) {
  std::vector<char> bytes(sizeof(T) + payload.size());
  std::memcpy(bytes.data(), &header, sizeof(T));
  std::memcpy(bytes.data() + sizeof(T), payload.data(), payload.size());
  return bytes;
}

int message_size(std::size_t bytes) {
  if (bytes > static_cast<std::size_t>(INT32_MAX)) {
    throw Error(fmt::format("a run's file of {} bytes is too large for one MPI message", bytes),
                ErrorKind::kRuntime);
  }
  return static_cast<int>(bytes);
}

// Rank 0: serves the other ranks' workers from the queue until each has been told that no run is
// left, writing the runs they finish.
class Coordinator {
 public:
  Coordinator(const SweepPlan& plan, RunQueue& queue, const SweepOptions& options,
              int remote_workers)
      : plan_(plan), queue_(queue), options_(options), remote_left_(remote_workers) {}

  void serve() {
    Backoff backoff;
    while (remote_left_ > 0) {
      const bool received = receive_one();
      const bool answered = answer_waiting();
      if (received || answered) {
        backoff.reset();
      } else {
        backoff.sleep();
      }
    }
  }
  std::size_t executed() const { return executed_; }
  const std::exception_ptr& error() const { return error_; }

 private:
  using Worker = std::pair<int, int>;  // rank, worker thread
  struct InFlight {
    Assignment assignment;
    Clock::time_point start;
  };

  SweepProgress* display() const { return options_.progress ? options_.progress_display : nullptr; }

  void fail(std::exception_ptr error) {
    if (!error_) error_ = std::move(error);
    queue_.stop();
  }

  bool receive_one() {
    int found = 0;
    MPI_Message message = MPI_MESSAGE_NULL;
    MPI_Status status;
    MPI_Improbe(MPI_ANY_SOURCE, kRequestTag, MPI_COMM_WORLD, &found, &message, &status);
    if (!found) return false;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    std::vector<char> bytes(static_cast<std::size_t>(count));
    MPI_Mrecv(bytes.data(), count, MPI_BYTE, &message, MPI_STATUS_IGNORE);
    RequestHeader header;
    std::memcpy(&header, bytes.data(), sizeof header);
    const Worker worker{status.MPI_SOURCE, header.worker};
    if (header.status != RunStatus::kNone) {
      handle_result(worker, header, std::string(bytes.begin() + sizeof header, bytes.end()));
    }
    waiting_.push_back(worker);
    return true;
  }

  void handle_result(const Worker& worker, const RequestHeader& header, const std::string& text) {
    auto it = in_flight_.find(worker);
    if (it == in_flight_.end() ||
        static_cast<std::int64_t>(it->second.assignment.index) != header.run) {
      fail(std::make_exception_ptr(
          Error(fmt::format("rank {} sent a result for run {} it was not given", worker.first,
                            header.run),
                ErrorKind::kRuntime)));
      return;
    }
    const RunSpec& spec = plan_.runs[it->second.assignment.index];
    if (header.status == RunStatus::kFinished) {
      try {
        write_run(options_.out_dir, spec, text);
        queue_.finish(it->second.assignment.index);
        ++executed_;
      } catch (...) {
        fail(std::current_exception());
      }
    } else {
      fail(std::make_exception_ptr(Error(
          fmt::format("run '{}' failed on rank {}: {}", spec.id, worker.first, text),
          header.status == RunStatus::kFailedUsage ? ErrorKind::kUsage : ErrorKind::kRuntime)));
    }
    if (auto* progress = display()) {
      progress->run_finished(header.seconds, planned_iterations(spec.run));
    }
    in_flight_.erase(it);  // releases the run's claim, after its file is written
  }

  bool answer_waiting() {
    bool answered = false;
    while (!waiting_.empty()) {
      std::optional<Assignment> assignment;
      RunQueue::Next next = RunQueue::Next::kDone;
      try {
        next = queue_.try_next(assignment);
      } catch (...) {
        fail(std::current_exception());
      }
      if (next == RunQueue::Next::kWait) break;
      const Worker worker = waiting_.front();
      waiting_.pop_front();
      Reply reply;
      if (next == RunQueue::Next::kAssigned) {
        reply.run = static_cast<std::int64_t>(assignment->index);
        reply.has_gain = assignment->source_mean_gain.has_value() ? 1 : 0;
        reply.source_mean_gain = assignment->source_mean_gain.value_or(0.0);
        in_flight_.emplace(worker, InFlight{std::move(*assignment), Clock::now()});
        if (auto* progress = display()) {
          progress->run_started(planned_iterations(plan_.runs[assignment->index].run));
        }
      } else {
        --remote_left_;
      }
      const std::vector<char> bytes = bytes_of(reply);
      MPI_Send(bytes.data(), message_size(bytes.size()), MPI_BYTE, worker.first,
               kReplyTag + worker.second, MPI_COMM_WORLD);
      answered = true;
    }
    return answered;
  }

  const SweepPlan& plan_;
  RunQueue& queue_;
  const SweepOptions& options_;
  int remote_left_;
  std::deque<Worker> waiting_;
  std::map<Worker, InFlight> in_flight_;
  std::size_t executed_ = 0;
  std::exception_ptr error_;
};

// A worker thread of a rank other than 0: asks rank 0 for runs until none is left.
// `startup_error`: why this thread cannot run anything (the config did not expand, its GPU could
// not be selected); it still takes part, reporting that error for each run it is given.
std::size_t remote_worker(int worker, const std::vector<RunSpec>& runs,
                          const std::exception_ptr& startup_error) {
  RequestHeader header{.worker = worker};
  std::string payload;
  std::size_t executed = 0;
  while (true) {
    const std::vector<char> request = bytes_of(header, payload);
    MPI_Send(request.data(), message_size(request.size()), MPI_BYTE, 0, kRequestTag,
             MPI_COMM_WORLD);
    Reply reply;
    MPI_Request pending = MPI_REQUEST_NULL;
    MPI_Irecv(&reply, static_cast<int>(sizeof reply), MPI_BYTE, 0, kReplyTag + worker,
              MPI_COMM_WORLD, &pending);
    wait_politely(pending);
    if (reply.run < 0) return executed;
    const auto start = Clock::now();
    header.run = reply.run;
    try {
      if (startup_error) std::rethrow_exception(startup_error);
      const std::optional<double> gain =
          reply.has_gain ? std::optional(reply.source_mean_gain) : std::nullopt;
      payload = execute_run_text(runs.at(static_cast<std::size_t>(reply.run)), gain);
      header.status = RunStatus::kFinished;
      ++executed;
    } catch (const locus::Error& e) {
      payload = e.what();
      header.status = e.kind() == ErrorKind::kUsage ? RunStatus::kFailedUsage : RunStatus::kFailed;
    } catch (const std::exception& e) {
      payload = e.what();
      header.status = RunStatus::kFailed;
    }
    header.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
}

// Each worker thread's GPU: the rank's local rank, modulo the node's GPUs.
std::function<void()> gpu_selection(const MpiWorld& world) {
  return [local_rank = world.local_rank()] {
    if (const int devices = neuromod::cuda_device_count(); devices > 0) {
      neuromod::use_cuda_device(local_rank % devices);
    }
  };
}

SweepOutcome coordinate(const SweepConfig& config, const SweepOptions& options,
                        const MpiWorld& world) {
  std::exception_ptr error;
  SweepPlan plan;
  try {
    plan = plan_sweep(config, options);
  } catch (...) {
    error = std::current_exception();  // the other ranks still need to hear that nothing is left
  }
  SweepOutcome outcome;
  outcome.total = plan.shard_runs;
  outcome.skipped = plan.skipped;
  const DataSetsKeptLoaded keep_loaded = error ? DataSetsKeptLoaded{} : keep_data_sets_loaded(plan);
  RunQueue queue(plan.runs, plan.finished, plan.todo, options.out_dir);
  if (error) queue.stop();
  Coordinator coordinator(plan, queue, options, (world.size() - 1) * options.jobs);
  {
    SweepProgress* progress = options.progress && !error ? options.progress_display : nullptr;
    if (progress) {
      progress->begin(outcome.total, outcome.skipped, options.jobs * world.size(),
                      iterations_left(plan));
    }
    const ProgressEnd end{progress};
    LocalWorkers local(plan, queue, options, gpu_selection(world));
    coordinator.serve();
    try {
      local.join();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
    outcome.executed = local.executed() + coordinator.executed();
  }
  if (!error) error = coordinator.error();
  if (error) std::rethrow_exception(error);
  outcome.done_elsewhere = queue.done_elsewhere();
  finish_sweep(config, plan, options.out_dir, outcome);
  return outcome;
}

SweepOutcome work_for_rank_zero(const SweepConfig& config, const SweepOptions& options,
                                const MpiWorld& world) {
  std::exception_ptr expand_error;
  SweepPlan plan;  // the runs, to execute those rank 0 sends; the folder is rank 0's
  try {
    plan.runs = config.expand();
    for (std::size_t i = 0; i < plan.runs.size(); ++i) plan.todo.push_back(i);
  } catch (...) {
    expand_error = std::current_exception();
  }
  const DataSetsKeptLoaded keep_loaded =
      expand_error ? DataSetsKeptLoaded{} : keep_data_sets_loaded(plan);
  std::vector<std::size_t> executed(static_cast<std::size_t>(options.jobs), 0);
  {
    std::vector<std::jthread> threads;
    threads.reserve(static_cast<std::size_t>(options.jobs));
    for (int w = 0; w < options.jobs; ++w) {
      threads.emplace_back([&, w, select = gpu_selection(world)] {
        std::exception_ptr startup_error = expand_error;
        try {
          if (!startup_error) select();
        } catch (...) {
          startup_error = std::current_exception();
        }
        executed[static_cast<std::size_t>(w)] = remote_worker(w, plan.runs, startup_error);
      });
    }
  }
  if (expand_error) std::rethrow_exception(expand_error);
  SweepOutcome outcome;
  for (const std::size_t n : executed) outcome.executed += n;
  return outcome;
}

}  // namespace

SweepOutcome run_sweep_mpi(const SweepConfig& config, const SweepOptions& options,
                           const MpiWorld& world) {
  return world.rank() == 0 ? coordinate(config, options, world)
                           : work_for_rank_zero(config, options, world);
}

}  // namespace locus::bench::mpi
