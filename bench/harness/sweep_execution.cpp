#include "bench/harness/sweep_execution.hpp"

#include <fmt/format.h>
#include <tbb/task_arena.h>

#include <chrono>

#include "bench/harness/errors.hpp"
#include "bench/harness/run_execution.hpp"
#include "bench/harness/run_files.hpp"
#include "bench/harness/run_tensorboard.hpp"
#include "bench/harness/summary.hpp"
#include "envs/data/idx.hpp"

namespace locus::bench {

namespace {

using nlohmann::json;
namespace data = locus::envs::data;
namespace fs = std::filesystem;

void check_options(const SweepOptions& options) {
  if (options.jobs < 1 || options.jobs > kMaxJobs) {
    throw InvalidArgumentError(fmt::format("--jobs {} must be in [1, {}]", options.jobs, kMaxJobs));
  }
  if (options.out_dir.empty()) throw InvalidArgumentError("the sweep needs an output directory");
}

// Removes the temporary files of runs that were in flight when a process was killed (their run
// file's and their TensorBoard events'): those of runs no process holds a claim on (another
// process's live temporary file stays).
void remove_stale_temporary_files(const std::vector<RunSpec>& runs, const fs::path& out_dir) {
  const auto temporary_in = [](const fs::path& dir, const std::string& prefix) {
    std::vector<fs::path> found;
    std::error_code missing;
    for (const auto& entry : fs::directory_iterator(dir, missing)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) == 0 && name.find(".tmp.") != std::string::npos) {
        found.push_back(entry.path());
      }
    }
    return found;
  };
  std::vector<fs::path> run_files = temporary_in(out_dir / "runs", "");
  const bool events_folder = fs::exists(out_dir / kTensorBoardFolder);
  if (run_files.empty() && !events_folder) return;
  for (const auto& run : runs) {
    std::vector<fs::path> stale;
    for (const auto& path : run_files) {
      if (path.filename().string().rfind(run.id + ".json.tmp.", 0) == 0) stale.push_back(path);
    }
    if (events_folder) {
      for (auto& path : temporary_in(out_dir / kTensorBoardFolder / run.id, "")) {
        stale.push_back(std::move(path));
      }
    }
    if (stale.empty()) continue;
    if (const auto claim = try_claim_run(out_dir, run.id)) {
      std::error_code ignored;
      for (const auto& path : stale) fs::remove(path, ignored);
    }
  }
}

}  // namespace

SweepPlan plan_sweep(const SweepConfig& config, const SweepOptions& options) {
  check_options(options);
  SweepPlan plan;
  plan.runs = config.expand();
  fs::create_directories(options.out_dir / "runs");
  write_sweep_file(config, plan.runs, options.out_dir);
  remove_stale_temporary_files(plan.runs, options.out_dir);
  const std::vector<char> members = shard_members(plan.runs, options.shard);
  plan.finished.assign(plan.runs.size(), 0);
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    plan.finished[i] = read_finished_run(options.out_dir, plan.runs[i]).is_null() ? 0 : 1;
    if (!members[i]) continue;
    ++plan.shard_runs;
    if (plan.finished[i]) {
      ++plan.skipped;
    } else {
      plan.todo.push_back(i);
    }
  }
  return plan;
}

std::int64_t iterations_left(const SweepPlan& plan) {
  std::int64_t total = 0;
  for (const std::size_t i : plan.todo) total += planned_iterations(plan.runs[i].run);
  return total;
}

std::string execute_run_text(const RunSpec& spec, std::optional<double> source_mean_gain) {
  json result;
  tbb::task_arena single(1);
  try {
    single.execute([&] { result = execute_run(spec, source_mean_gain); });
  } catch (const locus::Error& e) {
    // Which of the sweep's runs failed is what a user needs to fix it; the kind (usage or
    // runtime) and so the exit status stay the same.
    throw Error(fmt::format("run '{}' failed: {} (the runs finished so far are kept: fix its "
                            "settings and run the same command again to resume)",
                            spec.id, e.what()),
                e.kind());
  }
  return result.dump() + "\n";
}

void finish_sweep(const SweepConfig& config, const SweepPlan& plan, const fs::path& out_dir,
                  SweepOutcome& outcome) {
  outcome.sweep_total = plan.runs.size();
  outcome.sweep_finished = 0;
  for (const auto& run : plan.runs) {
    outcome.sweep_finished += fs::exists(run_path(out_dir, run)) ? 1 : 0;
  }
  if (outcome.complete()) outcome.table = write_summary(config, out_dir);
}

DataSetsKeptLoaded keep_data_sets_loaded(const SweepPlan& plan) {
  DataSetsKeptLoaded keep;
  for (const std::size_t i : plan.todo) {
    const auto* supervised = std::get_if<SupervisedConfig>(&plan.runs[i].run.learner);
    if (supervised == nullptr) continue;
    const auto& dir = supervised->stream.data_dir;
    keep.push_back(data::load_image_dataset_shared(dir, data::Split::kTrain));
    keep.push_back(data::load_image_dataset_shared(dir, data::Split::kTest));
    break;
  }
  return keep;
}

LocalWorkers::LocalWorkers(const SweepPlan& plan, RunQueue& queue, const SweepOptions& options,
                           const std::function<void()>& thread_start)
    : plan_(plan), queue_(queue), options_(options) {
  threads_.reserve(static_cast<std::size_t>(options.jobs));
  for (int w = 0; w < options.jobs; ++w)
    threads_.emplace_back([this, thread_start] { work(thread_start); });
}

LocalWorkers::~LocalWorkers() {
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void LocalWorkers::join() {
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  if (error_) std::rethrow_exception(error_);
}

SweepProgress* LocalWorkers::display() const {
  return options_.progress ? options_.progress_display : nullptr;
}

void LocalWorkers::work(const std::function<void()>& thread_start) {
  try {
    if (thread_start) thread_start();
    while (std::optional<Assignment> assignment = queue_.next()) execute(*assignment);
  } catch (...) {
    const std::lock_guard lock(finish_mutex_);
    if (!error_) error_ = std::current_exception();
    queue_.stop();
  }
}

void LocalWorkers::execute(Assignment& assignment) {
  const RunSpec& spec = plan_.runs[assignment.index];
  const std::int64_t iterations = planned_iterations(spec.run);
  if (auto* progress = display()) progress->run_started(iterations);
  const auto start = std::chrono::steady_clock::now();
  struct Finished {  // the progress line counts the run however it ends
    SweepProgress* progress;
    std::chrono::steady_clock::time_point start;
    std::int64_t iterations;
    ~Finished() {
      if (progress) {
        progress->run_finished(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
            iterations);
      }
    }
  } finished{display(), start, iterations};
  write_run(options_.out_dir, spec, execute_run_text(spec, assignment.source_mean_gain));
  queue_.finish(assignment.index);
  ++executed_;
  const std::lock_guard lock(finish_mutex_);
  if (options_.on_run_finished) options_.on_run_finished(spec);
}

}  // namespace locus::bench
