#pragma once
// The set-shifting study (the reversal case study of arXiv 2501.06762): agents learn
// SetShiftGoNoGo-v0, whose rewarded stimulus flips every `switch_after_trials` trials, with
// dopamine only (da) or dopamine plus noradrenaline (da+na); everything else is equal. Measured
// per run, from the trials the agent actually played while learning (its sampled actions):
//  - trials to criterion after each flip: trials under the new rule until the first window of
//    `criterion.window` consecutive trials with at least `criterion.accuracy` correct (counted
//    to the window's last trial; censored at the block's length when never reached);
//  - the conditional action entropy H(A|C) = sum_c P(c) H(A | C = c), in bits, around each flip:
//    C is the cue shown (visual A/B x auditory X/Y, four cues), A the response (go or withhold);
//    0 bits is a policy that is deterministic per cue, 1 bit one that guesses. Windows pooled
//    over flips and envs group the trials by rule too (never mixing the two rules' actions).
// `locus study set-shift` (cli/study_commands.cpp) runs it and writes the CSV files, a plot and a
// table; the runs execute in parallel workers and each is deterministic for its seed.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "agents/config.hpp"

namespace locus::bench {

// One finished trial of SetShiftGoNoGo-v0, as the agent played it.
struct ShiftTrial {
  std::int64_t visual = 0;    // cue: 0 A, 1 B
  std::int64_t auditory = 0;  // cue: 0 X, 1 Y
  std::int64_t rule = 0;      // the trial's rewarded stimulus: 0 A, 1 B, 2 X, 3 Y
  bool go = false;            // the agent responded (hit or false alarm)
  bool correct = false;       // hit or correct rejection
  bool switched = false;      // the rule changed after this trial
  float gain = 1.0f;          // the noradrenaline gain on the policy while it was played
};

// H(A|C) in bits over `trials`, with the probabilities their frequencies; 0 for no trials.
// Trials are grouped by rule as well as by cue (H(A | C, rule)), which is H(A|C) for trials under
// one rule, and keeps windows pooled over several flips from mixing opposite rules.
double conditional_action_entropy(std::span<const ShiftTrial> trials);

struct Criterion {
  std::size_t window = 20;  // consecutive trials
  double accuracy = 0.9;    // share correct among them
  void validate() const;    // throws InvalidArgumentError
};

// One block of trials under one rule (block 0: the initial acquisition; block k: after flip k).
struct BlockResult {
  std::size_t block = 0;
  std::int64_t rule = 0;
  std::size_t trials = 0;               // trials in the block
  std::size_t trials_to_criterion = 0;  // the block's length when not reached (censored)
  bool reached = false;
};
// Splits one env's trials (in the order played) into blocks at the switched trials and finds the
// trials to criterion in each.
std::vector<BlockResult> trials_to_criterion(std::span<const ShiftTrial> trials,
                                             const Criterion& criterion);

// The Mann-Whitney U test of x against y (two-sided): u is U of x (the number of pairs with
// x > y, ties counting one half). Exact p from the permutation distribution when there are no
// ties and n_x + n_y <= 60; otherwise the normal approximation with tie and continuity
// corrections (scipy.stats.mannwhitneyu's method="exact" and method="asymptotic").
struct MannWhitney {
  double u = 0.0;
  double p_value = 1.0;
  bool exact = false;
};
MannWhitney mann_whitney_u(std::span<const double> x, std::span<const double> y);

struct SetShiftStudyConfig {
  // The agent's settings; env, env_kwargs, modulation and seed are set per run.
  agents::AgentConfig agent;
  // SetShiftGoNoGo-v0's kwargs, without the switching keys set below.
  nlohmann::json env_kwargs = nlohmann::json::object();
  std::string shift = "reversal";
  std::size_t switch_after_trials = 800;
  std::size_t flips = 3;
  std::vector<agents::Modulation> modulations = {agents::Modulation::kDopamine,
                                                 agents::Modulation::kDopamineNoradrenaline};
  std::vector<std::uint64_t> seeds = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  Criterion criterion;
  std::size_t entropy_bin = 10;     // trials per H(A|C) bin
  std::size_t entropy_before = 50;  // bins from this many trials before each flip ...
  std::size_t entropy_after = 150;  // ... to this many after
  std::size_t summary_window = 50;  // trials after (and before) a flip in the per-run summary
  std::size_t threads = 0;          // parallel runs (0: every core)

  void validate() const;  // throws InvalidArgumentError naming the bad value
  nlohmann::json to_json() const;
};

// H(A|C) and accuracy in one bin of trials around flips, pooled over envs and flips of one run.
struct EntropyBin {
  std::int64_t start = 0;  // trial offset from the flip (0: the first trial under the new rule)
  std::size_t trials = 0;
  double entropy_bits = 0.0, accuracy = 0.0, go_rate = 0.0;
  double gain = 1.0;  // mean noradrenaline gain over the bin's trials (1 without noradrenaline)
};

struct SetShiftRun {
  agents::Modulation modulation = agents::Modulation::kDopamine;
  std::uint64_t seed = 0;
  std::size_t steps = 0;
  std::size_t na_changes = 0;  // changes flagged by noradrenaline (da+na)
  // (env, block) results, env-major.
  std::vector<std::size_t> block_env;
  std::vector<BlockResult> blocks;
  std::vector<EntropyBin> entropy;  // around the flips (blocks >= 1)
  // Summary over flips and envs: mean trials to criterion, censored blocks, H(A|C) in the
  // summary_window trials before and after the flips.
  double mean_trials_to_criterion = 0.0;
  double acquisition_trials_to_criterion = 0.0;  // block 0
  std::size_t censored = 0, flips_measured = 0;
  double entropy_before = 0.0, entropy_after = 0.0;
};

// Runs one agent for the study (deterministic for its config and seed).
SetShiftRun run_set_shift(const SetShiftStudyConfig& config, agents::Modulation modulation,
                          std::uint64_t seed);

struct SetShiftStudy {
  SetShiftStudyConfig config;
  std::vector<SetShiftRun> runs;  // modulation-major, seeds in order
};
// Every (modulation, seed) in parallel workers; `progress` (if set) is called after each run
// finishes, one call at a time.
SetShiftStudy run_set_shift_study(const SetShiftStudyConfig& config,
                                  const std::function<void(const SetShiftRun&)>& progress = {});

// Writes runs.csv, blocks.csv, entropy.csv and summary.json (each atomically) into `dir`
// (created); returns the summary (per modulation: mean and sd over seeds, and the tests).
nlohmann::json write_set_shift_study(const SetShiftStudy& study, const std::filesystem::path& dir);

// The study's plot script: plot_set_shift.py beside this file (the installed command's copy, else
// the source tree's: util/installed_file.hpp).
std::filesystem::path set_shift_plot_script();

}  // namespace locus::bench
