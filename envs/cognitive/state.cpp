// save_state/restore_state of the cognitive tasks: TrialEnv's trial (timeline, ground truth,
// counters, queued conditions, what render() shows) plus each task's own conditions, and the
// ReversalBandit's blocks. Settings made at construction (timing, rewards, cohs, ...) come from the
// kwargs of the env restored into.

#include <algorithm>
#include <nlohmann/json.hpp>

#include "envs/cognitive/context_decision_making.hpp"
#include "envs/cognitive/delay_match_sample.hpp"
#include "envs/cognitive/go_no_go.hpp"
#include "envs/cognitive/perceptual_decision_making.hpp"
#include "envs/cognitive/reversal_bandit.hpp"
#include "envs/state_json.hpp"

namespace locus::envs {

namespace {

constexpr std::string_view kOutcomeNames[] = {
    "none", "hit", "miss", "false_alarm", "correct_rejection", "correct", "incorrect", "aborted"};

std::int64_t period_index(std::size_t period) {
  return period == TrialTimeline::kNoPeriod ? -1 : static_cast<std::int64_t>(period);
}

std::size_t period_from_index(std::int64_t index) {
  return index < 0 ? TrialTimeline::kNoPeriod : static_cast<std::size_t>(index);
}

std::int64_t discrete_n(const Space& space) {
  return dynamic_cast<const Discrete&>(space).n();
}

// Ring stimuli of `size` channels: finite values.
std::vector<double> read_stimulus(const StateReader& reader, std::string_view key,
                                  std::size_t size) {
  std::vector<double> values = reader.get_doubles(key, size);
  for (const double v : values) {
    if (!std::isfinite(v)) reader.fail(key, "must hold finite values");
  }
  return values;
}

}  // namespace

// ---- TrialTimeline ----

nlohmann::json TrialTimeline::save_state() const {
  return {{"ends", end_}, {"step", step_}, {"period", period_index(period_)}};
}

void TrialTimeline::restore_state(const StateReader& reader) {
  std::vector<std::int64_t> ends = reader.get_ints("ends", periods_.size(), 0, INT64_MAX);
  const bool drawn = std::any_of(ends.begin(), ends.end(), [](std::int64_t e) { return e != 0; });
  for (std::size_t p = 0; p < ends.size(); ++p) {
    const std::int64_t start = p == 0 ? 0 : ends[p - 1];
    if (ends[p] < start)
      reader.fail("ends", "must not decrease, got " + nlohmann::json(ends).dump());
    // Before the first trial a timeline with random periods has drawn nothing (all zeros).
    if (drawn && fixed_steps_[p] >= 0 && ends[p] - start != fixed_steps_[p]) {
      reader.fail("ends", "gives period '" + periods_[p].name + "' " +
                              std::to_string(ends[p] - start) + " steps; its fixed duration is " +
                              std::to_string(fixed_steps_[p]) + " steps");
    }
  }
  const std::int64_t step = reader.get_int("step", 0);
  const std::int64_t period = reader.get_int("period", -1, static_cast<std::int64_t>(size()) - 1);
  // The period holding `step`, as advance() finds it; kNoPeriod (-1) also before the first trial.
  std::size_t holding = 0;
  while (holding < ends.size() && step >= ends[holding]) ++holding;
  if (period >= 0 && static_cast<std::size_t>(period) != holding) {
    reader.fail("period",
                "is " + std::to_string(period) + " but step " + std::to_string(step) +
                    " lies in period " +
                    std::to_string(period_index(holding < ends.size() ? holding : kNoPeriod)));
  }
  end_ = std::move(ends);
  length_ = end_.empty() ? 0 : end_.back();
  step_ = step;
  period_ = period_from_index(period);
}

// ---- TrialEnv ----

nlohmann::json TrialEnv::save_state_impl() const {
  return {{"timeline", timeline_.save_state()},
          {"ground_truth", ground_truth_},
          {"trial_index", trial_index_},
          {"trials_this_episode", trials_this_episode_},
          {"queued", std::vector<Kwargs>(queued_.begin(), queued_.end())},
          {"render", save_render_state()},
          {"task", save_task_state()}};
}

void TrialEnv::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  const std::int64_t ground_truth =
      reader.get_int("ground_truth", 0, discrete_n(action_space()) - 1);
  const std::int64_t trial_index = reader.get_int("trial_index", -1);
  const std::int64_t trials_this_episode = reader.get_int("trials_this_episode", 0);
  const nlohmann::json& queued = reader.at("queued");
  if (!queued.is_array()) reader.fail("queued", "must be an array of trial conditions");
  for (const Kwargs& conditions : queued) {
    try {
      if (!conditions.is_object()) throw InvalidArgumentError("not a JSON object");
      check_conditions(conditions);
    } catch (const InvalidArgumentError& e) {
      reader.fail("queued", "holds trial conditions " + conditions.dump() +
                                " that this task refuses: " + e.what());
    }
  }
  timeline_.restore_state(reader.object("timeline"));
  restore_render_state(reader);
  restore_task_state(reader.object("task"));
  ground_truth_ = ground_truth;
  trial_index_ = trial_index;
  trials_this_episode_ = trials_this_episode;
  queued_.assign(queued.begin(), queued.end());
  // Env::restore_state set np_random first; reset() would point rng_ at it.
  rng_ = has_reset() ? &np_random() : nullptr;
}

nlohmann::json TrialEnv::save_render_state() const {
  if (!rendering_) return nullptr;
  const RenderedStep& r = rendered_;
  return {{"valid", r.valid},
          {"reset", r.reset},
          {"trial", r.trial},
          {"step", r.step},
          {"period", period_index(r.period)},
          {"action", r.action},
          {"reward", state_json::from_double(r.reward)},
          {"outcome", kOutcomeNames[static_cast<std::size_t>(r.outcome)]},
          {"terminated", r.terminated},
          {"observation", state_json::from_floats(r.observation)}};
}

void TrialEnv::restore_render_state(const StateReader& fields) {
  if (!rendering_) return;  // what a render-less env shows is nothing
  const StateReader reader = render_fields(fields);
  RenderedStep r;
  r.valid = reader.get_bool("valid");
  r.reset = reader.get_bool("reset");
  r.trial = reader.get_int("trial");
  r.step = reader.get_int("step");
  r.period = period_from_index(
      reader.get_int("period", -1, static_cast<std::int64_t>(timeline_.size()) - 1));
  r.action = reader.get_int("action");
  r.reward = reader.get_double("reward");
  r.outcome = static_cast<TrialOutcome>(reader.get_choice("outcome", kOutcomeNames));
  r.terminated = reader.get_bool("terminated");
  r.observation = reader.get_floats("observation", rendered_.observation.size());
  rendered_ = std::move(r);
}

// ---- the tasks ----

nlohmann::json GoNoGoEnv::save_task_state() const {
  return nlohmann::json::object();  // the trial is its ground truth, which TrialEnv saves
}

void GoNoGoEnv::restore_task_state(const StateReader& /*task*/) {}

nlohmann::json SetShiftGoNoGoEnv::save_task_state() const {
  return {{"rule", rule_},
          {"trial_rule", trial_rule_},
          {"visual", visual_},
          {"auditory", auditory_},
          {"switches", switches_},
          {"trials_since_switch", trials_since_switch_},
          {"correct_in_a_row", correct_in_a_row_},
          {"switched", switched_}};
}

void SetShiftGoNoGoEnv::restore_task_state(const StateReader& task) {
  // A shift only ever moves the reward between the initial rule and its partner.
  const int partner = shift_ == Shift::kReversal ? (initial_rule_ ^ 1) : (initial_rule_ ^ 2);
  const auto read_rule = [&](std::string_view key) {
    const auto rule = static_cast<int>(task.get_int(key, 0, 3));
    if (rule != initial_rule_ && rule != partner) {
      task.fail(key, "is " + std::to_string(rule) +
                         "; with this initial rule and shift the rule is " +
                         std::to_string(initial_rule_) + " or " + std::to_string(partner));
    }
    return rule;
  };
  const int rule = read_rule("rule");
  const int trial_rule = read_rule("trial_rule");
  const std::int64_t visual = task.get_int("visual", 0, 1);
  const std::int64_t auditory = task.get_int("auditory", 0, 1);
  const std::int64_t switches =
      task.get_int("switches", 0, max_switches_ < 0 ? INT64_MAX : max_switches_);
  const std::int64_t since = task.get_int("trials_since_switch", 0);
  const std::int64_t in_a_row = task.get_int("correct_in_a_row", 0);
  const bool switched = task.get_bool("switched");
  rule_ = rule;
  trial_rule_ = trial_rule;
  visual_ = visual;
  auditory_ = auditory;
  switches_ = switches;
  trials_since_switch_ = since;
  correct_in_a_row_ = in_a_row;
  switched_ = switched;
}

nlohmann::json PerceptualDecisionMakingEnv::save_task_state() const {
  return {{"coh", state_json::from_double(coh_)},
          {"stimulus", state_json::from_doubles(stimulus_)}};
}

void PerceptualDecisionMakingEnv::restore_task_state(const StateReader& task) {
  const double coh = task.get_double("coh");
  if (std::find(cohs_.begin(), cohs_.end(), coh) == cohs_.end()) {
    task.fail("coh", "is " + task.at("coh").dump() + ", not one of the task's cohs " +
                         nlohmann::json(cohs_).dump());
  }
  stimulus_ = read_stimulus(task, "stimulus", stimulus_.size());
  coh_ = coh;
}

nlohmann::json DelayMatchSampleEnv::save_task_state() const {
  return {{"sample", sample_},
          {"sample_stimulus", state_json::from_doubles(sample_stimulus_)},
          {"test_stimulus", state_json::from_doubles(test_stimulus_)}};
}

void DelayMatchSampleEnv::restore_task_state(const StateReader& task) {
  const std::size_t n = sample_stimulus_.size();
  const std::int64_t sample = task.get_int("sample", 0, static_cast<std::int64_t>(n) - 1);
  std::vector<double> sample_stimulus = read_stimulus(task, "sample_stimulus", n);
  test_stimulus_ = read_stimulus(task, "test_stimulus", n);
  sample_stimulus_ = std::move(sample_stimulus);
  sample_ = sample;
}

nlohmann::json ContextDecisionMakingEnv::save_task_state() const {
  return {{"context", context_},
          {"modality_1", state_json::from_doubles(modality_1_)},
          {"modality_2", state_json::from_doubles(modality_2_)}};
}

void ContextDecisionMakingEnv::restore_task_state(const StateReader& task) {
  const std::int64_t context = task.get_int("context", 0, 1);
  if (std::find(contexts_.begin(), contexts_.end(), context) == contexts_.end()) {
    task.fail("context", "is " + std::to_string(context) + ", which this task's trials never have");
  }
  std::vector<double> modality_1 = read_stimulus(task, "modality_1", modality_1_.size());
  modality_2_ = read_stimulus(task, "modality_2", modality_2_.size());
  modality_1_ = std::move(modality_1);
  context_ = context;
}

// ---- ReversalBandit ----

nlohmann::json ReversalBanditEnv::save_state_impl() const {
  nlohmann::json render = nullptr;
  if (rendering_) {
    const RenderedPull& r = rendered_;
    render = {{"valid", r.valid},
              {"reset", r.reset},
              {"trial", r.trial},
              {"block", r.block},
              {"p", state_json::from_doubles(r.p)},
              {"arm", r.arm},
              {"reward", state_json::from_double(r.reward)},
              {"correct", r.correct},
              {"reversal", r.reversal},
              {"observation", state_json::from_floats(r.observation)}};
  }
  return {{"p", state_json::from_doubles(p_)},
          {"block", block_},
          {"block_length", current_block_length_},
          {"trials_in_block", trials_in_block_},
          {"trial", trial_},
          {"trials_this_episode", trials_this_episode_},
          {"render", render}};
}

void ReversalBanditEnv::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  // The probabilities are the initial ones, reversed in odd blocks.
  std::vector<double> p = reader.get_doubles("p", initial_p_.size());
  if (p != initial_p_ && !std::equal(p.begin(), p.end(), initial_p_.rbegin())) {
    reader.fail("p", "is " + reader.at("p").dump() + ": it must be the initial probabilities " +
                         nlohmann::json(initial_p_).dump() + " or their reversal");
  }
  const std::int64_t block = reader.get_int("block", 0);
  const std::int64_t block_length =
      reader.get_int("block_length", block_length_min_, block_length_max_);
  const std::int64_t trials_in_block = reader.get_int("trials_in_block", 0, block_length - 1);
  const std::int64_t trial = reader.get_int("trial", 0);
  const std::int64_t trials_this_episode = reader.get_int("trials_this_episode", 0);
  if (rendering_) {
    const StateReader render = render_fields(reader);
    RenderedPull r;
    r.valid = render.get_bool("valid");
    r.reset = render.get_bool("reset");
    r.trial = render.get_int("trial");
    r.block = render.get_int("block");
    r.p = render.get_doubles("p", r.valid ? initial_p_.size() : StateReader::kAnySize);
    r.arm = render.get_int("arm");
    r.reward = render.get_double("reward");
    r.correct = render.get_bool("correct");
    r.reversal = render.get_bool("reversal");
    r.observation = render.get_floats("observation", rendered_.observation.size());
    rendered_ = std::move(r);
  }
  p_ = std::move(p);
  update_best_arm();
  block_ = block;
  current_block_length_ = block_length;
  trials_in_block_ = trials_in_block;
  trial_ = trial;
  trials_this_episode_ = trials_this_episode;
  rng_ = has_reset() ? &np_random() : nullptr;
}

}  // namespace locus::envs
