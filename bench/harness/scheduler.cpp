#include "bench/harness/scheduler.hpp"

#include "bench/harness/run_queue.hpp"
#include "bench/harness/sweep_execution.hpp"

namespace locus::bench {

SweepOutcome run_sweep(const SweepConfig& config, const SweepOptions& options) {
  const SweepPlan plan = plan_sweep(config, options);
  SweepOutcome outcome;
  outcome.total = plan.shard_runs;
  outcome.skipped = plan.skipped;
  const DataSetsKeptLoaded keep_loaded = keep_data_sets_loaded(plan);
  RunQueue queue(plan.runs, plan.finished, plan.todo, options.out_dir);
  {
    SweepProgress* progress = options.progress ? options.progress_display : nullptr;
    if (progress) {
      progress->begin(outcome.total, outcome.skipped, options.jobs, iterations_left(plan));
    }
    const ProgressEnd end{progress};
    LocalWorkers workers(plan, queue, options);
    workers.join();
    outcome.executed = workers.executed();
  }
  outcome.done_elsewhere = queue.done_elsewhere();
  finish_sweep(config, plan, options.out_dir, outcome);
  return outcome;
}

}  // namespace locus::bench
