// save_state/restore_state of the base Wrapper and of Gymnasium's wrappers: each wrapper's own
// fields next to "env", the state of the env it wraps.
//
// Each reads and checks its own fields first and restores the wrapped env last, so that a bad
// field is found before anything changes (Env::restore_state rolls back the rest).

#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>

#include "envs/state_json.hpp"
#include "envs/wrappers/wrappers.hpp"

namespace locus::envs {

nlohmann::json Wrapper::save_state_impl() const {
  return {{"env", env_->save_state()}};
}

void Wrapper::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  env_->restore_state(reader.at("env"));
}

// ---- TimeLimit ----

nlohmann::json TimeLimit::save_state_impl() const {
  nlohmann::json out = Wrapper::save_state_impl();
  out["elapsed_steps"] = elapsed_steps_;
  return out;
}

void TimeLimit::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  // Past the limit only when stepped after the truncation (which Env::step warns about).
  const std::int64_t elapsed = reader.get_int("elapsed_steps", 0);
  Wrapper::restore_state_impl(fields);
  elapsed_steps_ = elapsed;
}

// ---- PassiveEnvChecker ----

nlohmann::json PassiveEnvChecker::save_state_impl() const {
  nlohmann::json out = Wrapper::save_state_impl();
  out["checked_reset"] = checked_reset_;
  out["checked_step"] = checked_step_;
  out["checked_render"] = checked_render_;
  return out;
}

void PassiveEnvChecker::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  const bool checked_reset = reader.get_bool("checked_reset");
  const bool checked_step = reader.get_bool("checked_step");
  const bool checked_render = reader.get_bool("checked_render");
  Wrapper::restore_state_impl(fields);
  checked_reset_ = checked_reset;
  checked_step_ = checked_step;
  checked_render_ = checked_render;
}

// ---- FrameStackObservation ----

nlohmann::json FrameStackObservation::save_state_impl() const {
  nlohmann::json out = Wrapper::save_state_impl();
  out["frames"] = state_json::from_bytes(frames_);
  out["oldest"] = oldest_;
  return out;
}

void FrameStackObservation::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  std::vector<std::byte> frames = reader.get_bytes("frames", frames_.size());
  const auto oldest = static_cast<std::size_t>(reader.get_int("oldest", 0, stack_size_ - 1));
  Wrapper::restore_state_impl(fields);
  frames_ = std::move(frames);
  oldest_ = oldest;
}

// ---- NormalizeObservation ----

nlohmann::json NormalizeObservation::save_state_impl() const {
  nlohmann::json out = Wrapper::save_state_impl();
  out["update_running_mean"] = update_running_mean_;
  out["stats_float32"] = stats_float32_;
  out["mean"] = state_json::from_doubles(mean_);
  out["var"] = state_json::from_doubles(var_);
  out["count"] = state_json::from_double(count_);
  return out;
}

void NormalizeObservation::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  const bool update = reader.get_bool("update_running_mean");
  const bool stats_float32 = reader.get_bool("stats_float32");
  std::vector<double> mean = reader.get_doubles("mean", mean_.size());
  std::vector<double> var = reader.get_doubles("var", var_.size());
  for (std::size_t i = 0; i < var.size(); ++i) {
    if (!(var[i] >= 0)) {
      reader.fail("var", "must hold variances >= 0; element " + std::to_string(i) + " is " +
                             state_json::from_double(var[i]).dump());
    }
  }
  const double count = reader.get_double("count", 0.0, std::numeric_limits<double>::infinity());
  if (!(count > 0))
    reader.fail("count", "must be > 0, got " + state_json::from_double(count).dump());
  Wrapper::restore_state_impl(fields);
  update_running_mean_ = update;
  stats_float32_ = stats_float32;
  mean_ = std::move(mean);
  var_ = std::move(var);
  count_ = count;
}

// ---- RecordEpisodeStatistics ----

nlohmann::json RecordEpisodeStatistics::save_state_impl() const {
  nlohmann::json out = Wrapper::save_state_impl();
  out["episode_count"] = episode_count_;
  out["episode_return"] = state_json::from_double(episode_return_);
  out["episode_length"] = episode_length_;
  // The running episode's duration so far: a restored env counts on from it (its "t" is wall
  // time, which no restore can reproduce exactly).
  const std::chrono::duration<double> running = Clock::now() - episode_start_;
  out["episode_seconds"] = running.count();
  out["return_queue"] =
      state_json::from_doubles(std::vector<double>(return_queue_.begin(), return_queue_.end()));
  out["length_queue"] = std::vector<std::int64_t>(length_queue_.begin(), length_queue_.end());
  out["time_queue"] =
      state_json::from_doubles(std::vector<double>(time_queue_.begin(), time_queue_.end()));
  return out;
}

void RecordEpisodeStatistics::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  const std::int64_t count = reader.get_int("episode_count", 0);
  const double episode_return = reader.get_double("episode_return");
  const std::int64_t length = reader.get_int("episode_length", 0);
  // Up to about 30 years, so that the clock arithmetic below cannot overflow.
  const double seconds = reader.get_double("episode_seconds", 0.0, 1e9);
  const auto size = reader.at("return_queue").size();
  if (size > static_cast<std::size_t>(buffer_length_)) {
    reader.fail("return_queue", "holds " + std::to_string(size) +
                                    " episodes, more than buffer_length " +
                                    std::to_string(buffer_length_));
  }
  const std::vector<double> returns = reader.get_doubles("return_queue", size);
  const std::vector<std::int64_t> lengths = reader.get_ints("length_queue", size, 0, INT64_MAX);
  const std::vector<double> times = reader.get_doubles("time_queue", size);
  Wrapper::restore_state_impl(fields);
  episode_count_ = count;
  episode_return_ = episode_return;
  episode_length_ = length;
  episode_start_ = Clock::now() - std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds));
  return_queue_.assign(returns.begin(), returns.end());
  length_queue_.assign(lengths.begin(), lengths.end());
  time_queue_.assign(times.begin(), times.end());
}

}  // namespace locus::envs
