#include "envs/cognitive/reversal_bandit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "envs/errors.hpp"

namespace locus::envs {

ReversalBanditEnv::ReversalBanditEnv(const Kwargs& kwargs) {
  KwargsReader reader(kwargs, "ReversalBandit");
  const double dt = reader.get<double>("dt", 100.0);
  initial_p_ = reader.get_numbers("p", {0.8, 0.2});
  rewards_ = reader.get_numbers("rewards", std::vector<double>(initial_p_.size(), 1.0));
  block_length_min_ = reader.get<std::int64_t>("block_length", 50);
  block_length_max_ = reader.get<std::int64_t>("block_length_max", block_length_min_);
  CommonSettings settings;
  read_common_settings(reader, 0.0, settings);
  trials_per_episode_ = settings.trials_per_episode;
  reader.finish();

  const std::string context = "ReversalBandit";
  if (!std::isfinite(dt) || !(dt > 0)) {
    throw InvalidArgumentError(context + ": 'dt' must be a positive number of milliseconds, got " +
                               nlohmann::json(dt).dump());
  }
  if (initial_p_.size() < 2) {
    throw InvalidArgumentError(context + ": 'p' needs at least two arms, got " +
                               nlohmann::json(initial_p_).dump());
  }
  for (const double p : initial_p_) {
    if (!(p >= 0.0 && p <= 1.0)) {
      throw InvalidArgumentError(context + ": every probability in 'p' must be in [0, 1], got " +
                                 nlohmann::json(initial_p_).dump());
    }
  }
  if (rewards_.size() != initial_p_.size()) {
    throw InvalidArgumentError(context + ": 'rewards' needs one value per arm (" +
                               std::to_string(initial_p_.size()) + "), got " +
                               nlohmann::json(rewards_).dump());
  }
  if (block_length_min_ < 1 || block_length_max_ < block_length_min_) {
    throw InvalidArgumentError(context + ": need 1 <= 'block_length' <= 'block_length_max', got " +
                               std::to_string(block_length_min_) + " and " +
                               std::to_string(block_length_max_));
  }

  // One trial per step of dt milliseconds.
  const auto n = initial_p_.size();
  const double low = std::min(0.0, *std::min_element(rewards_.begin(), rewards_.end()));
  const double high = std::max(1.0, *std::max_element(rewards_.begin(), rewards_.end()));
  set_task_spaces(settings, dt, 1 + n, low, high, static_cast<std::int64_t>(n));
  if (rendering_) rendered_.observation.resize(1 + n);
  p_ = initial_p_;
  current_block_length_ = block_length_min_;
  update_best_arm();
}

void ReversalBanditEnv::update_best_arm() {
  best_arm_ = std::max_element(p_.begin(), p_.end()) - p_.begin();
}

void ReversalBanditEnv::draw_block_length() {
  current_block_length_ = block_length_max_ > block_length_min_
                              ? rng_->integers(block_length_min_, block_length_max_ + 1)
                              : block_length_min_;
}

void ReversalBanditEnv::restart_experiment() {
  p_ = initial_p_;
  update_best_arm();
  block_ = 0;
  trials_in_block_ = 0;
  trial_ = 0;
  draw_block_length();
}

void ReversalBanditEnv::write_observation(std::span<float> obs, double reward, std::int64_t arm) {
  obs[0] = static_cast<float>(reward + noise());
  for (std::size_t i = 1; i < obs.size(); ++i) {
    const double pulled = static_cast<std::int64_t>(i - 1) == arm ? 1.0 : 0.0;
    obs[i] = static_cast<float>(pulled + noise());
  }
}

void ReversalBanditEnv::reset_impl(const std::optional<Seed>& seed, const Kwargs& /*options*/,
                                   std::span<std::byte> observation, Info& info) {
  // It takes no reset options: any given are ignored, as Gymnasium's envs ignore unknown keys.
  rng_ = &np_random();
  // The first reset of a fresh env starts the experiment too (its block length is drawn here).
  if (seed || !has_reset()) restart_experiment();
  trials_this_episode_ = 0;
  write_observation(as_span<float>(observation), 0.0, -1);
  info.set("trial", trial_);
  info.set("ground_truth", best_arm_);
  info.set("block", block_);
  info.set("rewarded", false);
  info.set("correct", false);
  info.set("reversal", false);
  info.set("trial_ended", false);
  if (rendering_) record_render(/*reset=*/true, 0, 0.0, false, false, as_span<float>(observation));
}

StepOutcome ReversalBanditEnv::step_impl(std::span<const std::byte> action,
                                         std::span<std::byte> observation, Info& info) {
  const std::int64_t arm = as_span<const std::int64_t>(action)[0];
  const auto a = static_cast<std::size_t>(arm);
  const bool rewarded = rng_->random() < p_[a];
  const double reward = rewarded ? rewards_[a] : 0.0;
  const bool correct = p_[a] == p_[static_cast<std::size_t>(best_arm_)];
  if (rendering_) [[unlikely]] {
    // Before the reversal below: the trial, block and probabilities this pull was made under.
    rendered_.trial = trial_;
    rendered_.block = block_;
    rendered_.p = p_;
  }

  info.set("trial", trial_);
  info.set("ground_truth", best_arm_);
  info.set("block", block_);
  info.set("rewarded", rewarded);
  info.set("correct", correct);

  ++trial_;
  ++trials_in_block_;
  const bool reversal = trials_in_block_ >= current_block_length_;
  if (reversal) {
    std::reverse(p_.begin(), p_.end());
    update_best_arm();
    ++block_;
    trials_in_block_ = 0;
    draw_block_length();
  }
  info.set("reversal", reversal);
  info.set("trial_ended", true);

  write_observation(as_span<float>(observation), reward, arm);
  ++trials_this_episode_;
  const bool terminated = trials_per_episode_ > 0 && trials_this_episode_ >= trials_per_episode_;
  if (rendering_) [[unlikely]] {
    record_render(/*reset=*/false, arm, reward, correct, reversal, as_span<float>(observation));
  }
  return {reward, terminated, false};
}

void ReversalBanditEnv::record_render(bool reset, std::int64_t arm, double reward, bool correct,
                                      bool reversal, std::span<const float> observation) {
  if (reset) {
    rendered_.trial = trial_;
    rendered_.block = block_;
    rendered_.p = p_;
  }
  rendered_.valid = true;
  rendered_.reset = reset;
  rendered_.arm = arm;
  rendered_.reward = reward;
  rendered_.correct = correct;
  rendered_.reversal = reversal;
  std::copy(observation.begin(), observation.end(), rendered_.observation.begin());
}

std::string ReversalBanditEnv::render() {
  if (!rendering_) return render_without_mode();
  if (!rendered_.valid) return "ReversalBandit: no trial yet (call reset() first)\n";
  const RenderedPull& r = rendered_;
  char buffer[64];
  std::string line =
      "trial " + std::to_string(r.trial) + " block " + std::to_string(r.block) + " p [";
  for (std::size_t i = 0; i < r.p.size(); ++i) {
    std::snprintf(buffer, sizeof(buffer), i == 0 ? "%.2f" : " %.2f", r.p[i]);
    line += buffer;
  }
  line += "]";
  if (r.reset) {
    line += " reset";
  } else {
    std::snprintf(buffer, sizeof(buffer), " arm %lld reward %+.2f (%s)",
                  static_cast<long long>(r.arm), r.reward, r.correct ? "best" : "not best");
    line += buffer;
  }
  append_observation(line, r.observation);
  line += r.reversal ? " | reversal\n" : "\n";
  return line;
}

}  // namespace locus::envs
