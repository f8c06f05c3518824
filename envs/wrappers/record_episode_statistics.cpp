#include "envs/wrappers/record_episode_statistics.hpp"

#include <cmath>

namespace locus::envs {

RecordEpisodeStatistics::RecordEpisodeStatistics(std::unique_ptr<Env> env,
                                                 std::int64_t buffer_length, std::string stats_key)
    : Wrapper(std::move(env)),
      buffer_length_(buffer_length),
      stats_key_(std::move(stats_key)),
      episode_start_(Clock::now()) {
  if (buffer_length_ <= 0) {
    throw InvalidArgumentError("RecordEpisodeStatistics: buffer_length must be positive, got " +
                               std::to_string(buffer_length_));
  }
  if (stats_key_.empty()) {
    throw InvalidArgumentError("RecordEpisodeStatistics: stats_key must be a non-empty string");
  }
}

template <class T>
void RecordEpisodeStatistics::push(std::deque<T>& queue, T value) {
  // A deque with maxlen, as Gymnasium's: the oldest episode drops out.
  if (static_cast<std::int64_t>(queue.size()) == buffer_length_) queue.pop_front();
  queue.push_back(value);
}

void RecordEpisodeStatistics::reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                                         std::span<std::byte> observation, Info& info) {
  Wrapper::reset_impl(seed, options, observation, info);
  // After the inner reset, as Gymnasium does, so that the reset's own cost is not counted.
  episode_start_ = Clock::now();
  episode_return_ = 0.0;
  episode_length_ = 0;
}

StepOutcome RecordEpisodeStatistics::step_impl(std::span<const std::byte> action,
                                               std::span<std::byte> observation, Info& info) {
  const StepOutcome outcome = Wrapper::step_impl(action, observation, info);
  episode_return_ += outcome.reward;
  ++episode_length_;
  if (outcome.terminated || outcome.truncated) {
    if (info.contains(stats_key_)) {
      throw InvalidArgumentError("RecordEpisodeStatistics: the info of " + env_->name() +
                                 " already has the key '" + stats_key_ +
                                 "' (is the env wrapped twice?); pass another stats_key");
    }
    const std::chrono::duration<double> elapsed = Clock::now() - episode_start_;
    // Gymnasium rounds to 6 decimals.
    const double seconds = std::round(elapsed.count() * 1e6) / 1e6;
    Info& stats = info.nested(stats_key_);
    stats.set("r", episode_return_);
    stats.set("l", episode_length_);
    stats.set("t", seconds);
    push(time_queue_, seconds);
    push(return_queue_, episode_return_);
    push(length_queue_, episode_length_);
    ++episode_count_;
    episode_start_ = Clock::now();
  }
  return outcome;
}

}  // namespace locus::envs
