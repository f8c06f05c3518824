#pragma once
// RecordEpisodeStatistics: at the end of each episode (terminated or truncated) puts
// info["episode"] = {"r": return (double), "l": length (int64), "t": seconds since the episode
// started (double, rounded to microseconds)}, and keeps the last buffer_length episodes' values in
// return_queue, length_queue and time_queue (Gymnasium 1.x's RecordEpisodeStatistics).

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>

#include "envs/wrapper.hpp"

namespace locus::envs {

class RecordEpisodeStatistics final : public Wrapper {
 public:
  // Throws InvalidArgumentError unless buffer_length > 0 and stats_key is non-empty.
  explicit RecordEpisodeStatistics(std::unique_ptr<Env> env, std::int64_t buffer_length = 100,
                                   std::string stats_key = "episode");
  std::string name() const override { return "RecordEpisodeStatistics"; }

  const std::deque<double>& return_queue() const { return return_queue_; }
  const std::deque<std::int64_t>& length_queue() const { return length_queue_; }
  const std::deque<double>& time_queue() const { return time_queue_; }
  std::int64_t episode_count() const { return episode_count_; }
  // The running episode's return and length so far.
  double episode_return() const { return episode_return_; }
  std::int64_t episode_length() const { return episode_length_; }
  std::int64_t buffer_length() const { return buffer_length_; }
  const std::string& stats_key() const { return stats_key_; }

 protected:
  bool saves_own_state() const override { return true; }
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  using Clock = std::chrono::steady_clock;  // monotonic, as Python's perf_counter
  template <class T>
  void push(std::deque<T>& queue, T value);

  std::int64_t buffer_length_;
  std::string stats_key_;
  std::int64_t episode_count_ = 0;
  double episode_return_ = 0.0;
  std::int64_t episode_length_ = 0;
  Clock::time_point episode_start_;
  std::deque<double> return_queue_;
  std::deque<std::int64_t> length_queue_;
  std::deque<double> time_queue_;
};

}  // namespace locus::envs
