#include "agents/run.hpp"

#include <fmt/format.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>

#include "agents/errors.hpp"
#include "agents/run_lock.hpp"
#include "agents/run_metrics.hpp"
#include "agents/runner.hpp"
#include "envs/env.hpp"
#include "envs/plugin.hpp"
#include "util/atomic_file.hpp"

namespace locus::agents {
namespace fs = std::filesystem;

namespace {

void write_atomic(const fs::path& path, const std::string& text) {
  util::write_file_atomically<RunDirectoryError>(path, text);
}

bool stop_requested(const StopFlag* stop) {
  return stop != nullptr && stop->load(std::memory_order_relaxed);
}

// What the workers of one run share.
struct RunState {
  const ProgressFn& progress;
  const StopFlag* stop;
  std::atomic<bool> checkpointed{false};  // some agent saved a checkpoint
  std::atomic<bool> interrupted{false};   // some agent stopped early
  std::atomic<bool> warned_episode_cuts{false};
};

// An env that cannot save its state (a Python env) has its episodes cut at every checkpoint, so
// that a resumed run equals the uninterrupted one; the run says so once.
void warn_episode_cuts(const RunConfig& config, const Agent& agent, RunState& state) {
  if (agent.saves_episodes() || state.warned_episode_cuts.exchange(true)) return;
  envs::warn(fmt::format(
      "env {} cannot save its state in a checkpoint: every env is reset after each checkpoint "
      "(every {} steps per env), so no episode lasts longer; raise checkpoint_every if episodes "
      "need more",
      config.agent.env, config.checkpoint_every * config.agent.rollout_steps));
}

// The agent a seed continues with: its checkpoint, with the metric files rewound to it; nullopt
// when the seed starts from scratch (no checkpoint yet, or files that lost rows it covers).
std::optional<Agent> load_for_resume(const RunConfig& config, const fs::path& dir,
                                     RunMetrics& metrics) {
  const fs::path checkpoint = dir / "checkpoint.bin";
  if (!fs::exists(checkpoint)) return std::nullopt;
  Agent agent = Agent::load(checkpoint, config.agent.precision);
  if (agent.config().to_json() != config.agent.to_json()) {
    throw CheckpointError(fmt::format("checkpoint {} was written by another configuration than {}",
                                      checkpoint.string(), (dir / "config.json").string()));
  }
  if (!metrics.rewind(agent.updates())) {
    envs::warn(fmt::format(
        "{}: the metric files lack rows of updates that checkpoint.bin (update {}) covers (cut "
        "or edited); the seed is trained again from its start to rebuild them",
        dir.string(), agent.updates()));
    return std::nullopt;
  }
  return agent;
}

nlohmann::json summarize(const Agent& agent, const fs::path& dir, double wall,
                         std::size_t start_steps, double best_eval, const EvalResult& final_eval,
                         bool resumed) {
  const auto& c = agent.config();
  return {
      {"env", c.env},
      {"agent", std::string(to_string(c.agent))},
      {"modulation", std::string(to_string(c.modulation))},
      {"network", std::string(to_string(c.network))},
      {"seed", c.seed},
      {"steps", agent.steps()},
      {"updates", agent.updates()},
      {"episodes", agent.episodes()},
      {"wall_seconds", wall},
      {"steps_per_second", wall > 0 ? double(agent.steps() - start_steps) / wall : 0.0},
      {"train_return_100", json_number(mean_recent_return(agent))},
      {"train_success_100", json_number(recent_success_rate(agent))},
      {"eval", eval_to_json(final_eval)},
      {"best_eval_return", json_number(best_eval)},
      {"contexts", agent.network().context_count()},
      {"na_changes", agent.na_changes()},
      {"final_gain", agent.noradrenaline() ? agent.noradrenaline()->gain() : 1.0f},
      {"checkpoint", (dir / "checkpoint.bin").string()},
      {"resumed", resumed},
  };
}

// Trains one agent in `dir`; returns its summary, or nullopt when it stopped early at a
// checkpoint.
std::optional<nlohmann::json> train_one(const RunConfig& config, const fs::path& dir, bool resuming,
                                        std::size_t index, RunState& state) {
  const fs::path checkpoint = dir / "checkpoint.bin";
  RunMetrics metrics(dir, config.agent.modulation == Modulation::kDopamineNoradrenaline);
  std::optional<Agent> agent;
  if (resuming) agent = load_for_resume(config, dir, metrics);
  if (!agent) {
    agent.emplace(config.agent);
    metrics.start();
  }
  metrics.open();
  warn_episode_cuts(config, *agent, state);

  const auto start = std::chrono::steady_clock::now();
  const std::size_t start_steps = agent->steps();
  // A resumed agent's earlier evaluations count too, as in the uninterrupted run.
  double best_eval =
      resuming ? metrics.best_eval_return() : -std::numeric_limits<double>::infinity();
  bool saved_last = true;  // a fresh or just-loaded agent is where a checkpoint would put it
  while (agent->steps() < config.steps) {
    // Only at a checkpoint: the resumed run then equals the uninterrupted one.
    if (saved_last && stop_requested(state.stop)) {
      state.interrupted = true;
      metrics.close();
      return std::nullopt;
    }
    const UpdateStats stats = agent->update();
    const double time_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::optional<EvalResult> eval;
    if (config.eval_every > 0 && stats.update % config.eval_every == 0) {
      eval = agent->evaluate(config.eval_episodes);
      best_eval = std::max(best_eval, eval->mean_return);
    }
    metrics.write(stats, time_s, eval, *agent);
    metrics.write_traces(*agent);
    saved_last = false;
    if (stats.update % config.checkpoint_every == 0) {
      metrics.flush();  // before the checkpoint: it must never cover rows the files lack
      agent->save(checkpoint);
      state.checkpointed = true;
      // The checkpoint holds the episodes in progress when the envs can save their state;
      // otherwise a resumed run begins a segment there, and so must this one.
      if (!agent->saves_episodes()) agent->begin_segment();
      saved_last = true;
    }
    if (state.progress) state.progress(index, stats, *agent);
  }
  metrics.close();
  if (!saved_last) {
    agent->save(checkpoint);
    state.checkpointed = true;
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const EvalResult final_eval = agent->evaluate(config.eval_episodes);
  best_eval = std::max(best_eval, final_eval.mean_return);
  nlohmann::json summary =
      summarize(*agent, dir, wall, start_steps, best_eval, final_eval, resuming);
  write_atomic(dir / "summary.json", summary.dump(2) + "\n");
  return summary;
}

nlohmann::json spread(const std::vector<nlohmann::json>& runs,
                      const nlohmann::json::json_pointer& key) {
  std::vector<double> xs;
  for (const auto& run : runs) {
    if (run.contains(key) && run.at(key).is_number()) xs.push_back(run.at(key).get<double>());
  }
  if (xs.empty()) return nullptr;
  double mean = 0.0;
  for (double x : xs) mean += x;
  mean /= double(xs.size());
  double var = 0.0;
  for (double x : xs) var += (x - mean) * (x - mean);
  return {{"mean", mean},
          {"std", std::sqrt(var / double(xs.size()))},
          {"min", *std::min_element(xs.begin(), xs.end())},
          {"max", *std::max_element(xs.begin(), xs.end())},
          {"n", xs.size()}};
}

[[noreturn]] void throw_interrupted(const fs::path& dir) {
  throw RunInterrupted(fmt::format(
      "the run stopped at its agents' last checkpoints; continue it with `locus train --resume "
      "{}`",
      dir.string()));
}

// The summary of a run of several seeds: each seed's summary and their spread.
nlohmann::json seeds_summary(const RunConfig& config, std::vector<nlohmann::json> runs) {
  return {
      {"env", config.agent.env},
      {"agent", std::string(to_string(config.agent.agent))},
      {"modulation", std::string(to_string(config.agent.modulation))},
      {"network", std::string(to_string(config.agent.network))},
      {"seeds", config.run_seeds()},
      {"eval_return", spread(runs, "/eval/return_mean"_json_pointer)},
      {"eval_success_rate", spread(runs, "/eval/success_rate"_json_pointer)},
      {"train_return_100", spread(runs, "/train_return_100"_json_pointer)},
      {"steps_per_second", spread(runs, "/steps_per_second"_json_pointer)},
      {"runs", std::move(runs)},
  };
}

// A seed's summary that another process of the group wrote.
nlohmann::json read_seed_summary(const fs::path& sub) {
  const fs::path path = sub / "summary.json";
  std::ifstream in(path);
  nlohmann::json summary = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!in.is_open() || !summary.is_object()) {
    throw RunDirectoryError(fmt::format(
        "{} is missing or damaged after every process finished; a run shared by MPI ranks needs "
        "its directory on a file system all of them see",
        path.string()));
  }
  return summary;
}

nlohmann::json run_all(const RunConfig& config, const fs::path& dir, bool resuming, RunState& state,
                       RunGroup* group) {
  const auto seeds = config.run_seeds();
  const std::size_t member = group ? group->index() : 0, members = group ? group->count() : 1;
  if (seeds.size() == 1) {
    if (member != 0) return nullptr;  // one seed is process 0's
    RunConfig single = config;
    single.agent.seed = seeds[0];
    // The thread limit holds for one seed too: the network's kernels run their TBB loops in the
    // calling arena, and without this one they would use every core (threads: 1 used ~1.9 cores).
    tbb::task_arena arena(config.threads == 0 ? tbb::task_arena::automatic
                                              : static_cast<int>(config.threads));
    std::optional<nlohmann::json> summary;
    arena.execute([&] { summary = train_one(single, dir, resuming, 0, state); });
    if (!summary) throw_interrupted(dir);
    return *summary;
  }
  std::vector<std::size_t> mine;  // positions in `seeds` this process trains
  for (std::size_t i = member; i < seeds.size(); i += members) mine.push_back(i);
  std::vector<std::optional<nlohmann::json>> summaries(seeds.size());
  for (const std::size_t i : mine) fs::create_directories(dir / fmt::format("seed_{}", seeds[i]));
  run_parallel(mine.size(), config.threads, [&](std::size_t k) {
    if (stop_requested(state.stop)) {  // not started: starts from scratch when resumed
      state.interrupted = true;
      return;
    }
    const std::size_t i = mine[k];
    RunConfig single = config;
    single.agent.seed = seeds[i];
    single.seeds.clear();
    const fs::path sub = dir / fmt::format("seed_{}", seeds[i]);
    write_atomic(sub / "config.json", single.to_json().dump(2) + "\n");
    summaries[i] = train_one(single, sub, resuming, i, state);
  });
  if (state.interrupted) throw_interrupted(dir);
  if (group) group->wait_for_all();
  if (member != 0) return nullptr;
  std::vector<nlohmann::json> runs;
  runs.reserve(summaries.size());
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    runs.push_back(summaries[i] ? std::move(*summaries[i])
                                : read_seed_summary(dir / fmt::format("seed_{}", seeds[i])));
  }
  nlohmann::json summary = seeds_summary(config, std::move(runs));
  write_atomic(dir / "summary.json", summary.dump(2) + "\n");
  return summary;
}

// The entries of `dir` (empty if it does not exist).
std::set<fs::path> entries_of(const fs::path& dir) {
  std::set<fs::path> out;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) out.insert(entry.path());
  return out;
}

// Process 0 of a group (or the only process): the directory made and locked (into `lock`), checked
// to hold no run, and the run's config written.
void prepare_new_run(const RunConfig& config, const fs::path& dir, std::optional<RunLock>& lock) {
  fs::create_directories(dir);
  lock.emplace(dir);
  if (fs::exists(dir / "config.json") || fs::exists(dir / "checkpoint.bin")) {
    throw RunDirectoryError(fmt::format(
        "{} already holds a run (config.json); resume it with --resume {} or choose another --out",
        dir.string(), dir.string()));
  }
  write_atomic(dir / "config.json", config.to_json().dump(2) + "\n");
}

}  // namespace

nlohmann::json train(const RunConfig& requested, const fs::path& dir, const ProgressFn& progress,
                     const StopFlag* stop, RunGroup* group) {
  RunConfig config = requested;
  envs::load_plugin_for(config.agent.env, config.plugin);
  if (config.plugin.empty()) {
    config.plugin = envs::plugin_registering(config.agent.env).value_or("");
  }
  config.validate();
  config.check_memory();
  RunState state{progress, stop};
  std::optional<RunLock> lock;
  if (group != nullptr) {
    // A run of several processes is kept whatever happens: the others may have written to it.
    if (group->index() == 0) prepare_new_run(config, dir, lock);
    group->wait_for_all();
    return run_all(config, dir, false, state, group);
  }
  const bool existed = fs::exists(dir);
  const std::set<fs::path> before = entries_of(dir);
  try {
    prepare_new_run(config, dir, lock);
    return run_all(config, dir, false, state, nullptr);
  } catch (...) {
    // A run that failed before any checkpoint holds nothing worth keeping: it leaves nothing
    // behind, so the same command can simply be run again. Later failures keep the run, which
    // --resume continues from its checkpoints. A directory another process holds is not touched.
    if (lock && !state.checkpointed && !state.interrupted) {
      lock.reset();
      std::error_code ignored;
      if (!existed) {
        fs::remove_all(dir, ignored);
      } else {
        for (const auto& entry : entries_of(dir)) {
          if (before.count(entry) == 0) fs::remove_all(entry, ignored);
        }
      }
    }
    throw;
  }
}

nlohmann::json resume(const fs::path& dir, const nlohmann::json& requested,
                      const ProgressFn& progress, const StopFlag* stop, RunGroup* group) {
  const RunConfig saved = load_run_config(dir);
  const RunConfig config = resumed_config(saved, requested);
  envs::load_plugin_for(config.agent.env, config.plugin);
  std::optional<RunLock> lock;
  if (group == nullptr || group->index() == 0) {
    lock.emplace(dir);
    if (config.to_json() != saved.to_json()) {
      write_atomic(dir / "config.json", config.to_json().dump(2) + "\n");
    }
  }
  if (group != nullptr) group->wait_for_all();
  RunState state{progress, stop};
  return run_all(config, dir, true, state, group);
}

nlohmann::json evaluate(const fs::path& dir, std::size_t episodes,
                        std::optional<std::uint64_t> seed) {
  const RunConfig config = load_run_config(dir);
  const auto seeds = config.run_seeds();
  envs::load_plugin_for(config.agent.env, config.plugin);
  nlohmann::json out = nlohmann::json::object();
  std::vector<nlohmann::json> runs;
  for (std::uint64_t s : seeds) {
    const fs::path sub = seeds.size() == 1 ? dir : dir / fmt::format("seed_{}", s);
    Agent agent = Agent::load(sub / "checkpoint.bin");
    nlohmann::json run = {{"seed", s},
                          {"steps", agent.steps()},
                          {"eval", eval_to_json(agent.evaluate(episodes, seed))}};
    runs.push_back(run);
  }
  if (runs.size() == 1) {
    out = runs[0];
  } else {
    out = {{"runs", runs},
           {"eval_return", spread(runs, "/eval/return_mean"_json_pointer)},
           {"eval_success_rate", spread(runs, "/eval/success_rate"_json_pointer)}};
  }
  write_atomic(dir / "eval.json", out.dump(2) + "\n");
  return out;
}

}  // namespace locus::agents
