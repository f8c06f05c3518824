#include "envs/cognitive/reversal_bandit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "envs/errors.hpp"

namespace locus::envs {

ReversalBanditEnv::ReversalBanditEnv(const Kwargs& kwargs) {
  TaskKwargs reader(kwargs, "ReversalBandit");
  const double dt = reader.get_double("dt", 100.0);
  initial_p_ = reader.get_numbers("p", {0.8, 0.2});
  rewards_ = reader.get_numbers("rewards", std::vector<double>(initial_p_.size(), 1.0));
  block_length_min_ = reader.get_int("block_length", 50);
  block_length_max_ = reader.get_int("block_length_max", block_length_min_);
  const double sigma = reader.get_double("sigma", 0.0);
  trials_per_episode_ = reader.get_int("trials_per_episode", 0);
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
  if (!std::isfinite(sigma) || sigma < 0) {
    throw InvalidArgumentError(context + ": 'sigma' must be a finite non-negative number, got " +
                               nlohmann::json(sigma).dump());
  }
  if (trials_per_episode_ < 0) {
    throw InvalidArgumentError(context + ": 'trials_per_episode' must be 0 (endless trials) or " +
                               "positive, got " + std::to_string(trials_per_episode_));
  }
  noise_std_ = sigma / std::sqrt(dt);

  const auto n = initial_p_.size();
  const double inf = std::numeric_limits<double>::infinity();
  const double low = std::min(0.0, *std::min_element(rewards_.begin(), rewards_.end()));
  const double high = std::max(1.0, *std::max_element(rewards_.begin(), rewards_.end()));
  const bool noisy = noise_std_ > 0;
  set_observation_space(std::make_shared<Box>(noisy ? -inf : low, noisy ? inf : high,
                                              Shape{static_cast<std::int64_t>(1 + n)},
                                              DType::kFloat32));
  set_action_space(std::make_shared<Discrete>(static_cast<std::int64_t>(n)));
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
  const auto noise = [this] { return noise_std_ > 0 ? noise_std_ * rng_->standard_normal() : 0.0; };
  obs[0] = static_cast<float>(reward + noise());
  for (std::size_t i = 1; i < obs.size(); ++i) {
    const double pulled = static_cast<std::int64_t>(i - 1) == arm ? 1.0 : 0.0;
    obs[i] = static_cast<float>(pulled + noise());
  }
}

void ReversalBanditEnv::reset_impl(std::optional<std::uint64_t> seed, const Kwargs& options,
                                   std::span<std::byte> observation, Info& info) {
  if (!options.empty()) {
    TaskKwargs reader(options, "ReversalBandit.reset options");
    reader.finish();  // there are none
  }
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
}

StepOutcome ReversalBanditEnv::step_impl(std::span<const std::byte> action,
                                         std::span<std::byte> observation, Info& info) {
  const std::int64_t arm = as_span<const std::int64_t>(action)[0];
  const auto a = static_cast<std::size_t>(arm);
  const bool rewarded = rng_->random() < p_[a];
  const double reward = rewarded ? rewards_[a] : 0.0;
  const bool correct = p_[a] == p_[static_cast<std::size_t>(best_arm_)];

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
  return {reward, terminated, false};
}

}  // namespace locus::envs
