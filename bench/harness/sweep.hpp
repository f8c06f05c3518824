#pragma once
// Sweeps: a YAML config names the scenario, the methods, a grid of parameters and the seeds; the
// sweep expands methods x grid points x seeds into runs, executes them in parallel worker threads,
// and writes each finished run atomically (temp file + rename) to DIR/runs/<id>.json. A restarted
// sweep reads DIR/runs/ and skips the runs that finished, so a sweep killed at any point (even by
// SIGKILL) loses at most the runs that were in flight and repeats none that finished. Each run is
// claimed (DIR/locks/<id>.lock) before it starts, so that processes sharing the folder (shards of
// a job array, a second `locus sweep`) never run the same run. At the end it writes
// DIR/results.jsonl (one line per run), DIR/summary.csv (mean and sd over seeds per method and
// grid point) and returns the table it prints. Over MPI ranks, shards and their merge:
// docs/scale-out.md.
//
// Config (every key of `defaults`, a method or the grid is a run setting; see run_settings_help()):
//   name: default
//   seeds: [0, 1]
//   defaults: {stream: split, scenario: task-incremental, joint: true, optimizer: sgd, lr: 0.01}
//   grid: {lr: [0.01, 0.001]}          # optional; applied to every method
//   methods:
//     - {name: sgd}
//     - {name: ngm-sgd, ngm: true}
//     - {name: fixed-gain-sgd, fixed_gain_from: ngm-sgd}   # NGM's control: its mean gain, fixed
// A run's settings are the defaults, overridden by its method, overridden by its grid point.
// `fixed_gain_from: M` runs after M and fixes the gain at the mean gain that M's run of the same
// seed and grid point had; `matched_lr_from: M` runs after M with its learning rate multiplied by
// M's mean gain to the power `matched_lr_power` (1: lr x mean gain; NGM's step-size control).
// Runs are deterministic given their settings and seed, whatever --jobs.
//
// Scenario kinds (the optional top-level `scenario:` mapping):
//   kind: supervised   (the default) Fashion-MNIST streams; the run settings above
//   kind: rl           agents (bench/harness/rl.hpp) through a sequence of RL tasks:
//     scenario: {kind: rl, tasks: [GoNoGo-v0, {id: SetShiftGoNoGo-v0, kwargs: {...}}],
//                env_kwargs: {trials_per_episode: 1}, score: success, eval_episodes: 32}
//     and run settings iterations_per_task, eval_every, gap_epsilon, gap_window plus the agent's
//     keys (agents/config.hpp: agent, modulation, network, contexts, learning_rate, ...).
//   kind: cognitive    a recurrent network trained by supervision through a sequence of cognitive
//                      tasks (bench/harness/cognitive.hpp):
//     scenario: {kind: cognitive, tasks: [GoNoGo-v0, PerceptualDecisionMaking-v0, ...],
//                rule_input: true, eval_trials: 200}
//     and run settings network (modulated | trainable), recurrence, hidden, alpha, lr, batch_size,
//     seq_len, separate plus the harness's iterations_per_task, eval_every, gap_epsilon,
//     gap_window.
//
// The rooms: sweep_config.hpp (the config, read from YAML), run_settings.hpp (a run's settings,
// parsed once), grid.hpp (the expansion into runs), run_execution.hpp (one run), run_files.hpp
// (the output folder), scheduler.hpp (the parallel, resumable execution and its progress
// reports; sweep_execution.hpp, run_queue.hpp and run_claim.hpp its parts), shard.hpp and
// merge.hpp (a sweep in parts) and summary.hpp (results.jsonl, summary.csv and the table).

#include "bench/harness/grid.hpp"
#include "bench/harness/run_execution.hpp"
#include "bench/harness/run_files.hpp"
#include "bench/harness/run_settings.hpp"
#include "bench/harness/scheduler.hpp"
#include "bench/harness/summary.hpp"
#include "bench/harness/sweep_config.hpp"
