#include "envs/env.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <iostream>

#include "envs/registry.hpp"

namespace locus::envs {

namespace {
std::atomic<void (*)(const std::string&)> g_warning_handler{nullptr};
}  // namespace

void warn(const std::string& message) {
  if (auto* handler = g_warning_handler.load()) {
    handler(message);
  } else {
    std::cerr << "locus: WARN: " << message << '\n';
  }
}

void set_warning_handler(void (*handler)(const std::string& message)) {
  g_warning_handler.store(handler);
}

void Env::throw_buffer_error(std::size_t got, std::size_t expected, const char* what) const {
  throw BufferError(name() + ": the " + what + " buffer has " + std::to_string(got) +
                    " bytes, the space's packed layout needs " + std::to_string(expected));
}

void Env::throw_invalid_action(std::span<const std::byte> action) const {
  throw InvalidActionError(name() + ": action " + action_space_->unpack(action).to_string() +
                           " is not in the action space " + action_space_->to_string());
}

void Env::reset(std::span<std::byte> observation, Info& info, std::optional<std::uint64_t> seed,
                const Kwargs& options) {
  if (observation.size() != observation_bytes_) {
    throw_buffer_error(observation.size(), observation_bytes_, "observation");
  }
  if (!options.is_null() && !options.is_object()) {
    throw InvalidArgumentError(name() + ".reset: options must be a JSON object (a dict), got " +
                               options.dump());
  }
  if (seed) np_random_ = std::make_unique<Rng>(*seed);
  info.clear();
  // A shared empty object: building one per reset would allocate on every autoreset.
  static const Kwargs kNoOptions = Kwargs::object();
  reset_impl(seed, options.is_null() ? kNoOptions : options, observation, info);
  has_reset_ = true;
  episode_over_ = false;
  warned_step_after_end_ = false;
}

void Env::throw_step_error(std::span<const std::byte> action,
                           std::span<std::byte> observation) const {
  // In the order a caller fixes them: the buffers, then the call order.
  if (action.size() != action_bytes_) throw_buffer_error(action.size(), action_bytes_, "action");
  if (observation.size() != observation_bytes_) {
    throw_buffer_error(observation.size(), observation_bytes_, "observation");
  }
  throw ResetNeededError(name() + ": cannot call step() before calling reset()");
}

void Env::warn_step_after_end() {
  warned_step_after_end_ = true;
  warn(name() +
       ": step() called after the episode ended (terminated or truncated); call reset() "
       "first, any further steps are undefined behavior");
}

ResetResult Env::reset(std::optional<std::uint64_t> seed, const Kwargs& options) {
  std::vector<std::byte> obs(observation_space_->packed_bytes());
  ResetResult result;
  reset(obs, result.info, seed, options);
  result.observation = observation_space_->unpack(obs);
  return result;
}

StepResult Env::step(const Value& action) {
  if (!action_space_->contains(action)) {
    throw InvalidActionError(name() + ": action " + action.to_string() +
                             " is not in the action space " + action_space_->to_string());
  }
  scratch_action_.resize(action_space_->packed_bytes());
  action_space_->pack(action, scratch_action_);
  std::vector<std::byte> obs(observation_space_->packed_bytes());
  StepResult result;
  const StepOutcome outcome = step(scratch_action_, obs, result.info);
  result.observation = observation_space_->unpack(obs);
  result.reward = outcome.reward;
  result.terminated = outcome.terminated;
  result.truncated = outcome.truncated;
  return result;
}

std::string Env::render() {
  throw InvalidArgumentError(name() + " has no text rendering (render modes: " +
                             (metadata_.render_modes.empty()
                                  ? std::string("none")
                                  : [&] {
                                      std::string s;
                                      for (const auto& m : metadata_.render_modes)
                                        s += (s.empty() ? "" : ", ") + m;
                                      return s;
                                    }()) +
                             ")");
}

Rng& Env::np_random() {
  if (!np_random_) np_random_ = std::make_unique<Rng>();
  return *np_random_;
}

std::string Env::to_string() const {
  // Built with append: GCC 12 reports a false -Wrestrict on "<" + std::string temporaries.
  std::string out = "<";
  out.append(name());
  if (spec_) out.append("<").append(spec_->id).append(">");
  out.append(">");
  return out;
}

void Env::set_render_mode(std::optional<std::string> mode) {
  if (mode && std::find(metadata_.render_modes.begin(), metadata_.render_modes.end(), *mode) ==
                  metadata_.render_modes.end()) {
    std::string modes;
    for (const auto& m : metadata_.render_modes) modes += (modes.empty() ? "" : ", ") + m;
    throw InvalidArgumentError(name() + ": render_mode '" + *mode + "' is not supported (" +
                               (modes.empty() ? "no render modes" : "supported: " + modes) + ")");
  }
  render_mode_ = std::move(mode);
}

KwargsReader::KwargsReader(const Kwargs& kwargs, std::string context)
    : kwargs_(kwargs), context_(std::move(context)) {
  if (!kwargs_.is_null() && !kwargs_.is_object()) {
    throw InvalidArgumentError(context_ + ": arguments must be a JSON object, got " +
                               kwargs_.dump());
  }
}

const Kwargs* KwargsReader::lookup(const std::string& key) {
  known_.push_back(key);
  if (!kwargs_.is_object()) return nullptr;
  auto it = kwargs_.find(key);
  return it == kwargs_.end() || it->is_null() ? nullptr : &*it;
}

double KwargsReader::get_double(const std::string& key, double fallback) {
  return get_optional_double(key).value_or(fallback);
}

std::optional<double> KwargsReader::get_optional_double(const std::string& key) {
  const Kwargs* v = lookup(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    throw InvalidArgumentError(context_ + ": '" + key + "' must be a number, got " + v->dump());
  }
  const double d = v->get<double>();
  // NaN or infinity reach here from Python floats (JSON text cannot hold them); no env setting
  // means anything by them, and they would silently poison every step.
  if (!std::isfinite(d)) {
    throw InvalidArgumentError(context_ + ": '" + key + "' must be a finite number, got " +
                               v->dump());
  }
  return d;
}

std::int64_t KwargsReader::get_int(const std::string& key, std::int64_t fallback) {
  const Kwargs* v = lookup(key);
  if (v == nullptr) return fallback;
  const auto out_of_range = [&] {
    return InvalidArgumentError(context_ + ": '" + key + "' is " + v->dump() +
                                ", outside the integers this setting holds ([-2^63, 2^63 - 1])");
  };
  if (v->is_number_unsigned()) {
    if (v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) throw out_of_range();
    return static_cast<std::int64_t>(v->get<std::uint64_t>());
  }
  if (v->is_number_integer()) return v->get<std::int64_t>();
  if (v->is_number_float()) {
    const double d = v->get<double>();
    // Casting a double outside int64's range is undefined, so the range is checked first:
    // [-2^63, 2^63) holds exactly the doubles that convert.
    constexpr double kTwo63 = 9223372036854775808.0;
    if (std::isfinite(d) && std::trunc(d) == d) {
      if (d < -kTwo63 || d >= kTwo63) throw out_of_range();
      return static_cast<std::int64_t>(d);
    }
  }
  throw InvalidArgumentError(context_ + ": '" + key + "' must be an integer, got " + v->dump());
}

bool KwargsReader::get_bool(const std::string& key, bool fallback) {
  const Kwargs* v = lookup(key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) {
    throw InvalidArgumentError(context_ + ": '" + key + "' must be true or false, got " +
                               v->dump());
  }
  return v->get<bool>();
}

std::string KwargsReader::get_string(const std::string& key, const std::string& fallback) {
  const Kwargs* v = lookup(key);
  if (v == nullptr) return fallback;
  if (!v->is_string()) {
    throw InvalidArgumentError(context_ + ": '" + key + "' must be a string, got " + v->dump());
  }
  return v->get<std::string>();
}

void KwargsReader::finish() const {
  if (!kwargs_.is_object()) return;
  for (const auto& [key, value] : kwargs_.items()) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
      std::string accepted;
      for (const auto& k : known_) accepted += (accepted.empty() ? "" : ", ") + k;
      throw InvalidArgumentError(context_ + ": unknown argument '" + key +
                                 "' (accepted: " + (accepted.empty() ? "none" : accepted) + ")");
    }
  }
}

}  // namespace locus::envs
