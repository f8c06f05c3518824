// The set-shifting study's measures (bench/studies/set_shift/set_shift.hpp) on hand-made trial
// sequences, the Mann-Whitney U test against scipy.stats.mannwhitneyu, and a tiny study run.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "bench/harness/errors.hpp"
#include "bench/studies/set_shift/set_shift.hpp"

using namespace locus::bench;

namespace {

// A trial under rule A (go when A is shown) with the given cue and response; correct follows.
ShiftTrial trial_a(std::int64_t visual, std::int64_t auditory, bool go, bool switched = false) {
  ShiftTrial t;
  t.visual = visual;
  t.auditory = auditory;
  t.rule = 0;
  t.go = go;
  t.correct = go == (visual == 0);
  t.switched = switched;
  return t;
}

// Trials whose correctness follows `pattern` ('1' correct, '0' not); the last one switches the
// rule when `switched`.
std::vector<ShiftTrial> block(const std::string& pattern, bool switched) {
  std::vector<ShiftTrial> out;
  for (std::size_t k = 0; k < pattern.size(); ++k) {
    ShiftTrial t;
    t.correct = pattern[k] == '1';
    t.switched = switched && k + 1 == pattern.size();
    out.push_back(t);
  }
  return out;
}

}  // namespace

TEST_CASE("H(A|C) is 0 for a policy deterministic per cue and 1 bit for a guessing one") {
  CHECK(conditional_action_entropy({}) == 0.0);
  // Always right: go on A, withhold on B, whatever the auditory cue.
  const std::vector<ShiftTrial> perfect = {trial_a(0, 0, true), trial_a(0, 1, true),
                                           trial_a(1, 0, false), trial_a(1, 1, false),
                                           trial_a(0, 0, true)};
  CHECK(conditional_action_entropy(perfect) == 0.0);
  // Deterministic but wrong is still deterministic: H(A|C) measures consistency, not accuracy.
  const std::vector<ShiftTrial> wrong = {trial_a(0, 0, false), trial_a(1, 0, true)};
  CHECK(conditional_action_entropy(wrong) == 0.0);
  // Every cue answered go half the time: 1 bit.
  std::vector<ShiftTrial> guessing;
  for (std::int64_t v = 0; v < 2; ++v) {
    for (std::int64_t a = 0; a < 2; ++a) {
      guessing.push_back(trial_a(v, a, true));
      guessing.push_back(trial_a(v, a, false));
    }
  }
  CHECK(conditional_action_entropy(guessing) == Approx(1.0).epsilon(1e-12));
  // Cue (A, X) half go (1 bit) with P(c) = 2/6; cue (B, Y) always withheld (0 bits) with 4/6.
  const std::vector<ShiftTrial> mixed = {trial_a(0, 0, true),  trial_a(0, 0, false),
                                         trial_a(1, 1, false), trial_a(1, 1, false),
                                         trial_a(1, 1, false), trial_a(1, 1, false)};
  CHECK(conditional_action_entropy(mixed) == Approx(2.0 / 6.0).epsilon(1e-12));
  // The same cue answered oppositely under two rules is two deterministic policies: 0 bits.
  std::vector<ShiftTrial> two_rules = {trial_a(0, 0, true), trial_a(0, 0, true)};
  ShiftTrial under_b = trial_a(0, 0, false);
  under_b.rule = 1;
  two_rules.push_back(under_b);
  two_rules.push_back(under_b);
  CHECK(conditional_action_entropy(two_rules) == 0.0);
  // Go 1 of 4 times on one cue: H = -(1/4 log2 1/4 + 3/4 log2 3/4) = 0.811278...
  const std::vector<ShiftTrial> skewed = {trial_a(0, 1, true), trial_a(0, 1, false),
                                          trial_a(0, 1, false), trial_a(0, 1, false)};
  CHECK(conditional_action_entropy(skewed) == Approx(0.8112781244591328).epsilon(1e-12));
}

TEST_CASE("Trials to criterion per block, counted to the end of the first window that meets it") {
  const Criterion criterion{.window = 4, .accuracy = 0.75};  // 3 of the last 4
  std::vector<ShiftTrial> trials;
  for (const auto& part :
       {block("1111000", true), block("0010111000", true), block("0101010", false)}) {
    trials.insert(trials.end(), part.begin(), part.end());
  }
  const auto blocks = trials_to_criterion(trials, criterion);
  REQUIRE(blocks.size() == 3);
  CHECK(blocks[0].trials == 7);
  CHECK(blocks[0].trials_to_criterion == 4);  // the first full window
  CHECK(blocks[0].reached);
  CHECK(blocks[1].trials == 10);
  CHECK(blocks[1].trials_to_criterion == 6);  // windows 0010, 0101, then 1011
  CHECK(blocks[1].reached);
  CHECK(blocks[2].trials == 7);
  CHECK(blocks[2].trials_to_criterion == 7);  // never 3 of 4: censored at the block's length
  CHECK_FALSE(blocks[2].reached);
  CHECK(blocks[1].block == 1);

  // A window never spans two blocks: the old rule's correct trials do not count for the new one.
  std::vector<ShiftTrial> across = block("1111", true);
  const auto tail = block("11", false);
  across.insert(across.end(), tail.begin(), tail.end());
  const auto split = trials_to_criterion(across, criterion);
  REQUIRE(split.size() == 2);
  CHECK_FALSE(split[1].reached);
  CHECK(split[1].trials_to_criterion == 2);

  // 0.9 of 20 is 18 exactly (no rounding up to 19).
  const auto eighteen = trials_to_criterion(block("11111111111111111100", false), {20, 0.9});
  CHECK(eighteen[0].reached);
  CHECK(eighteen[0].trials_to_criterion == 20);

  CHECK_THROWS_AS(trials_to_criterion(trials, {0, 0.9}), InvalidArgumentError);
  CHECK_THROWS_AS(trials_to_criterion(trials, {10, 1.5}), InvalidArgumentError);
}

TEST_CASE("Mann-Whitney U matches scipy.stats.mannwhitneyu") {
  // Values from scipy 1.17.1: mannwhitneyu(x, y, method="exact") and method="asymptotic".
  const std::vector<double> x = {1.5, 2.25, 3.0, 7.0, 9.5};
  const std::vector<double> y = {4.0, 5.0, 6.0, 8.0, 10.0, 11.0};
  const auto exact = mann_whitney_u(x, y);
  CHECK(exact.exact);
  CHECK(exact.u == 7.0);
  CHECK(exact.p_value == Approx(0.17748917748917747).epsilon(1e-12));

  const std::vector<double> tied_x = {1, 2, 2, 3, 5, 5, 8};
  const std::vector<double> tied_y = {2, 4, 5, 6, 6, 9, 9, 10};
  const auto approx = mann_whitney_u(tied_x, tied_y);
  CHECK_FALSE(approx.exact);
  CHECK(approx.u == 12.0);
  CHECK(approx.p_value == Approx(0.07029422941876672).epsilon(1e-9));

  std::vector<double> low, high;
  for (int k = 0; k < 10; ++k) {
    low.push_back(k);
    high.push_back(k + 100);
  }
  const auto separated = mann_whitney_u(low, high);
  CHECK(separated.u == 0.0);
  CHECK(separated.p_value == Approx(2.0 / 184756.0).epsilon(1e-12));  // 2 / C(20, 10)
  CHECK(mann_whitney_u(high, low).p_value == Approx(separated.p_value).epsilon(1e-12));

  const std::vector<double> same = {3, 3, 3};
  CHECK(mann_whitney_u(same, same).p_value == 1.0);
  CHECK_THROWS_AS(mann_whitney_u({}, x), InvalidArgumentError);
}

TEST_CASE("A tiny set-shift run: blocks flip every switch_after_trials, results repeat per seed") {
  SetShiftStudyConfig config;
  config.agent.agent = locus::agents::Algorithm::kA2c;
  config.agent.num_envs = 3;
  config.agent.rollout_steps = 15;
  config.agent.frame_stack = 15;
  config.agent.trace_envs = 0;
  config.env_kwargs = {{"trials_per_episode", 1}};
  config.switch_after_trials = 30;
  config.flips = 2;
  config.criterion = {10, 0.8};
  config.entropy_before = 20;
  config.entropy_after = 30;
  config.summary_window = 20;
  config.modulations = {locus::agents::Modulation::kDopamine,
                        locus::agents::Modulation::kDopamineNoradrenaline};
  config.seeds = {4};
  config.threads = 2;

  const SetShiftRun run = run_set_shift(config, locus::agents::Modulation::kDopamine, 4);
  REQUIRE(run.blocks.size() == 3 * 3);  // 3 envs x (1 acquisition + 2 flips)
  for (std::size_t k = 0; k < run.blocks.size(); ++k) {
    CHECK(run.blocks[k].block == k % 3);
    CHECK(run.blocks[k].trials == 30);
    // Reversals: A, then B, then A again.
    CHECK(run.blocks[k].rule == (k % 3 == 1 ? 1 : 0));
  }
  CHECK(run.flips_measured == 3 * 2);
  REQUIRE(run.entropy.size() == 5);  // bins of 10 from -20 to +30
  CHECK(run.entropy.front().start == -20);
  CHECK(run.entropy.front().trials == 3 * 2 * 10);
  for (const auto& bin : run.entropy) {
    CHECK(bin.entropy_bits >= 0.0);
    CHECK(bin.entropy_bits <= 1.0);
  }

  const SetShiftStudy study = run_set_shift_study(config);
  REQUIRE(study.runs.size() == 2);
  // Same seed and modulation, whatever ran beside it: the same trials.
  CHECK(study.runs[0].mean_trials_to_criterion == run.mean_trials_to_criterion);
  CHECK(study.runs[0].entropy_after == run.entropy_after);
  CHECK(study.runs[0].steps == run.steps);
  CHECK(study.runs[1].modulation == locus::agents::Modulation::kDopamineNoradrenaline);

  SetShiftStudyConfig bad = config;
  bad.env_kwargs["switch_after_trials"] = 5;
  CHECK_THROWS_AS(run_set_shift_study(bad), InvalidArgumentError);
  bad = config;
  bad.switch_after_trials = 5;  // below the criterion window
  CHECK_THROWS_AS(run_set_shift_study(bad), InvalidArgumentError);
}
