#include "envs/env.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
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
  if (raw_box_actions_) {
    throw InvalidActionError(name() + ": action " + action_space_->unpack(action).to_string() +
                             " contains NaN (values outside the action space " +
                             action_space_->to_string() + " are clipped, NaN is refused)");
  }
  throw InvalidActionError(name() + ": action " + action_space_->unpack(action).to_string() +
                           " is not in the action space " + action_space_->to_string());
}

namespace {

const Box* float32_box(const Space& space) {
  const auto* box = dynamic_cast<const Box*>(&space);
  return box != nullptr && box->dtype() == DType::kFloat32 ? box : nullptr;
}

// Restores ActionForm::kPacked when a step ends, exceptions included.
struct ActionFormScope {
  ActionForm& slot;
  ~ActionFormScope() { slot = ActionForm::kPacked; }
};

}  // namespace

void Env::take_raw_box_actions() {
  if (!action_space_ || float32_box(*action_space_) == nullptr) {
    throw InvalidArgumentError(name() + ": raw Box actions need a float32 Box action space, got " +
                               (action_space_ ? action_space_->to_string() : "none"));
  }
  raw_box_actions_ = true;
}

bool Env::has_nan_float32(std::span<const std::byte> action) {
  for (std::size_t at = 0; at + sizeof(float) <= action.size(); at += sizeof(float)) {
    float value;
    std::memcpy(&value, action.data() + at, sizeof value);
    if (std::isnan(value)) return true;
  }
  return false;
}

StepOutcome Env::step_float64(std::span<const double> action, ActionForm form,
                              std::span<std::byte> observation, Info& info) {
  const Box* box = action_space_ ? float32_box(*action_space_) : nullptr;
  if (box == nullptr || form == ActionForm::kPacked ||
      action.size() != action_bytes_ / sizeof(float)) {
    throw InvalidActionError(name() + ": a float64 action of " + std::to_string(action.size()) +
                             " elements does not fit the action space " +
                             action_space_->to_string() +
                             (box == nullptr ? " (float64 actions are for a float32 Box)" : ""));
  }
  if (raw_box_actions_) return step_raw_float64(std::as_bytes(action), form, observation, info);
  // numpy's astype(float32): round to nearest; the usual checks then apply.
  scratch_action_.resize(action_bytes_);
  auto rounded = as_span<float>(std::span<std::byte>(scratch_action_));
  for (std::size_t i = 0; i < action.size(); ++i) rounded[i] = static_cast<float>(action[i]);
  return step(scratch_action_, observation, info);
}

StepOutcome Env::step_raw_float64(std::span<const std::byte> action, ActionForm form,
                                  std::span<std::byte> observation, Info& info) {
  if (!raw_box_actions_ || action.size() != 2 * action_bytes_) {
    throw InvalidActionError(
        name() + ": a float64 action of " + std::to_string(action.size() / sizeof(double)) +
        " elements does not fit the action space " + action_space_->to_string());
  }
  if (observation.size() != observation_bytes_) {
    throw_buffer_error(observation.size(), observation_bytes_, "observation");
  }
  if (!has_reset_) throw ResetNeededError(name() + ": cannot call step() before calling reset()");
  for (std::size_t at = 0; at + sizeof(double) <= action.size(); at += sizeof(double)) {
    double value;
    std::memcpy(&value, action.data() + at, sizeof value);
    if (std::isnan(value)) {
      throw InvalidActionError(name() + ": the float64 action contains NaN (values outside the " +
                               "action space " + action_space_->to_string() +
                               " are clipped, NaN is refused)");
    }
  }
  if (episode_over_ && !warned_step_after_end_) warn_step_after_end();
  action_form_ = form;
  const ActionFormScope restore{action_form_};
  return step_validated(action, observation, info);
}

void Env::reset(std::span<std::byte> observation, Info& info, const std::optional<Seed>& seed,
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

ResetResult Env::reset(const std::optional<Seed>& seed, const Kwargs& options) {
  std::vector<std::byte> obs(observation_space_->packed_bytes());
  ResetResult result;
  reset(obs, result.info, seed, options);
  result.observation = observation_space_->unpack(obs);
  return result;
}

StepResult Env::step(const Value& action) {
  std::vector<std::byte> obs(observation_space_->packed_bytes());
  StepResult result;
  const StepOutcome outcome = step_value(action, obs, result.info);
  result.observation = observation_space_->unpack(obs);
  result.reward = outcome.reward;
  result.terminated = outcome.terminated;
  result.truncated = outcome.truncated;
  return result;
}

StepOutcome Env::step_value(const Value& action, std::span<std::byte> observation, Info& info) {
  // A float32 Box takes a float64, integer or bool array of its shape too, as Gymnasium's envs
  // do; an env that clips its actions itself takes values outside the Box.
  const Box* box = float32_box(*action_space_);
  if (box != nullptr && action.is_array() && action.array().shape() == box->shape()) {
    const Array& array = action.array();
    if (array.dtype() != DType::kFloat32) {
      std::vector<double> values(static_cast<std::size_t>(array.size()));
      for (std::int64_t i = 0; i < array.size(); ++i) {
        values[static_cast<std::size_t>(i)] = array.get_double(i);
      }
      return step_float64(values, ActionForm::kFloat64, observation, info);
    }
    if (raw_box_actions_) {
      scratch_action_.assign(array.bytes().begin(), array.bytes().end());
      return step(scratch_action_, observation, info);
    }
  }
  if (!action_space_->contains(action)) {
    throw InvalidActionError(name() + ": action " + action.to_string() +
                             " is not in the action space " + action_space_->to_string());
  }
  scratch_action_.resize(action_space_->packed_bytes());
  action_space_->pack(action, scratch_action_);
  return step(scratch_action_, observation, info);
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
    throw UnsupportedRenderModeError(name() + ": render_mode '" + *mode + "' is not supported (" +
                                     (modes.empty() ? "no render modes" : "supported: " + modes) +
                                     ")");
  }
  render_mode_ = std::move(mode);
}

KwargsReader::KwargsReader(const Kwargs& kwargs, std::string context)
    : config::Reader(kwargs, std::move(context),
                     {.key_noun = "argument", .raise = &config::raise_as<InvalidArgumentError>}) {}

}  // namespace locus::envs
