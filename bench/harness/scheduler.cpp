#include "bench/harness/scheduler.hpp"

#include <fmt/format.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <fstream>
#include <mutex>
#include <optional>

#include "bench/harness/errors.hpp"
#include "bench/harness/run_execution.hpp"
#include "bench/harness/run_files.hpp"
#include "bench/harness/summary.hpp"
#include "envs/data/idx.hpp"

namespace locus::bench {

namespace {

using nlohmann::json;
namespace data = locus::envs::data;
namespace fs = std::filesystem;

constexpr int kMaxJobs = 4096;

void check_options(const SweepOptions& options) {
  if (options.jobs < 1 || options.jobs > kMaxJobs) {
    throw InvalidArgumentError(fmt::format("--jobs {} must be in [1, {}]", options.jobs, kMaxJobs));
  }
  if (options.out_dir.empty()) throw InvalidArgumentError("the sweep needs an output directory");
}

// Creates DIR/runs/, removes the temporary files of runs that were in flight when an earlier
// sweep was killed, refuses a folder of another sweep and writes DIR/sweep.json.
void prepare_out_dir(const SweepConfig& config, const std::vector<RunSpec>& runs,
                     const fs::path& out_dir) {
  fs::create_directories(out_dir / "runs");
  for (const auto& entry : fs::directory_iterator(out_dir / "runs")) {
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) {
      fs::remove(entry.path());
    }
  }
  const fs::path sweep_file = out_dir / "sweep.json";
  if (fs::exists(sweep_file)) {
    std::ifstream in(sweep_file);
    const json previous = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!previous.is_object() || previous.value("name", std::string()) != config.name) {
      throw SweepStateError(fmt::format(
          "{} belongs to sweep '{}', not '{}'; use another --out directory or remove it",
          out_dir.string(),
          previous.is_object() ? previous.value("name", std::string("?")) : std::string("?"),
          config.name));
    }
  }
  json sweep = {{"name", config.name},
                {"seeds", config.seeds},
                {"methods", json::array()},
                {"grid", json::object()},
                {"runs", json::array()}};
  if (!config.scenario.is_null()) sweep["scenario"] = config.scenario;
  for (const auto& [name, settings] : config.methods) sweep["methods"].push_back(name);
  for (const auto& [key, values] : config.grid) sweep["grid"][key] = values;
  for (const auto& run : runs) sweep["runs"].push_back(run.id);
  write_file_atomically(sweep_file, sweep.dump(2) + "\n");
}

// Keeps the data sets loaded for the whole sweep (the process-wide cache holds them only while
// someone does), so that each run does not read them again.
std::vector<std::shared_ptr<const data::ImageDataset>> load_data_sets(
    const std::vector<RunSpec>& runs, const std::vector<char>& finished) {
  std::vector<std::shared_ptr<const data::ImageDataset>> keep_alive;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto* supervised = std::get_if<SupervisedConfig>(&runs[i].run.learner);
    if (finished[i] || supervised == nullptr) continue;
    const auto& dir = supervised->stream.data_dir;
    keep_alive.push_back(data::load_image_dataset_shared(dir, data::Split::kTrain));
    keep_alive.push_back(data::load_image_dataset_shared(dir, data::Split::kTest));
    break;
  }
  return keep_alive;
}

// The mean gain of the finished run that `spec` (a control) takes its gain from.
double source_mean_gain(const std::vector<RunSpec>& runs, const RunSpec& spec,
                        const fs::path& out_dir) {
  const RunSpec* source = nullptr;
  for (const auto& other : runs) {
    if (other.method == spec.depends_on && other.seed == spec.seed && other.grid == spec.grid) {
      source = &other;
    }
  }
  const json source_run = read_finished_run(out_dir, *source);
  const double mean_gain = number_or_nan(source_run["metrics"]["mean_gain"]);
  if (!std::isfinite(mean_gain) || mean_gain <= 0.0) {
    throw InvalidArgumentError(
        fmt::format("run '{}' takes its gain from '{}', which has no gain (is ngm on there?)",
                    spec.id, source->id));
  }
  return mean_gain;
}

// Executes runs in `jobs` workers; the first failure stops the workers at their next run and is
// rethrown by rethrow_failure().
class Workers {
 public:
  Workers(const std::vector<RunSpec>& runs, const SweepOptions& options)
      : runs_(runs), options_(options), arena_(options.jobs) {}

  void run_all(const std::vector<std::size_t>& todo) {
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      while (!failed_) {
        const std::size_t n = next++;
        if (n >= todo.size()) return;
        execute(runs_[todo[n]]);
      }
    };
    arena_.execute([&] {
      tbb::task_group group;
      for (int w = 0; w < options_.jobs; ++w) group.run(worker);
      group.wait();
    });
  }
  bool failed() const { return failed_; }
  std::size_t executed() const { return executed_; }
  void rethrow_failure() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  SweepProgress* display() const { return options_.progress ? options_.progress_display : nullptr; }

  void execute(const RunSpec& spec) {
    if (auto* progress = display()) progress->run_started();
    const auto start = std::chrono::steady_clock::now();
    try {
      std::optional<double> gain;
      if (!spec.depends_on.empty()) gain = source_mean_gain(runs_, spec, options_.out_dir);
      // One thread per run: the workers are the parallelism, and a run's result does not
      // depend on the thread count anyway.
      json result;
      tbb::task_arena single(1);
      single.execute([&] { result = execute_run(spec, gain); });
      write_file_atomically(run_path(options_.out_dir, spec), result.dump() + "\n");
      ++executed_;
      std::lock_guard lock(finish_mutex_);
      if (options_.on_run_finished) options_.on_run_finished(spec);
    } catch (...) {
      std::lock_guard lock(finish_mutex_);
      if (!error_) error_ = std::current_exception();
      failed_ = true;
    }
    if (auto* progress = display()) {
      progress->run_finished(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }

  const std::vector<RunSpec>& runs_;
  const SweepOptions& options_;
  tbb::task_arena arena_;
  std::mutex finish_mutex_;
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
  std::atomic<std::size_t> executed_{0};
};

// Ends the display's report however the sweep ends.
struct ProgressEnd {
  SweepProgress* progress;
  ~ProgressEnd() {
    if (progress) progress->end();
  }
};

}  // namespace

SweepOutcome run_sweep(const SweepConfig& config, const SweepOptions& options) {
  check_options(options);
  const std::vector<RunSpec> runs = config.expand();
  prepare_out_dir(config, runs, options.out_dir);

  std::vector<char> finished(runs.size(), 0);
  SweepOutcome outcome;
  outcome.total = runs.size();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    finished[i] = read_finished_run(options.out_dir, runs[i]).is_null() ? 0 : 1;
    outcome.skipped += finished[i];
  }
  const auto keep_alive = load_data_sets(runs, finished);

  Workers workers(runs, options);
  {
    SweepProgress* progress = options.progress ? options.progress_display : nullptr;
    if (progress) progress->begin(outcome.total, outcome.skipped, options.jobs);
    const ProgressEnd end{progress};
    // Dependencies first: runs without fixed_gain_from, then the controls that read their gain.
    for (const bool second_phase : {false, true}) {
      std::vector<std::size_t> todo;
      for (std::size_t i = 0; i < runs.size(); ++i) {
        if (!finished[i] && runs[i].depends_on.empty() != second_phase) todo.push_back(i);
      }
      workers.run_all(todo);
      if (workers.failed()) break;
    }
  }
  workers.rethrow_failure();
  outcome.executed = workers.executed();
  outcome.table = write_summary(config, options.out_dir);
  return outcome;
}

}  // namespace locus::bench
