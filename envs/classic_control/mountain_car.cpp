#include "envs/classic_control/mountain_car.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "envs/classic_control/cartpole.hpp"

namespace locus::envs {

MountainCarBase::MountainCarBase(const Kwargs& kwargs, const char* context, double goal_position)
    : context_(context), goal_position_(goal_position) {
  KwargsReader reader(kwargs, context);
  goal_velocity_ = reader.get<double>("goal_velocity", 0.0);
  render_mode_ = reader.get<std::string>("render_mode", "");
  reader.finish();

  set_observation_space(std::make_shared<Box>(
      std::vector<double>{-1.2, -0.07}, std::vector<double>{0.6, 0.07}, Shape{2}, DType::kFloat32));
  metadata_.render_modes = {"ansi"};
  metadata_.render_fps = 30;
}

void MountainCarBase::apply_render_mode() {
  if (!render_mode_.empty()) set_render_mode(render_mode_);
}

void MountainCarBase::reset_car(const Kwargs& options, std::span<std::byte> observation) {
  const auto [low, high] = parse_reset_bounds(options, -0.6, -0.4, context_);
  state_ = {np_random().uniform(low, high), 0.0};
  write_observation(observation);
}

void MountainCarBase::write_observation(std::span<std::byte> observation) const {
  auto obs = as_span<float>(observation);
  obs[0] = static_cast<float>(state_[0]);
  obs[1] = static_cast<float>(state_[1]);
}

// One row: the track from -1.2 to 0.6 with the car 'C' and the goal flag 'F'.
std::string MountainCarBase::render() {
  constexpr int kWidth = 37;
  auto column_of = [](double position) {
    const int c = static_cast<int>(std::lround((position + 1.2) / 1.8 * (kWidth - 1)));
    return static_cast<std::size_t>(std::clamp(c, 0, kWidth - 1));
  };
  std::string row(kWidth, '_');
  row[column_of(goal_position_)] = 'F';
  row[column_of(state_[0])] = 'C';
  std::ostringstream out;
  out.precision(4);
  out << '[' << row << "] position=" << state_[0] << " velocity=" << state_[1] << '\n';
  return out.str();
}

MountainCarEnv::MountainCarEnv(const Kwargs& kwargs)
    : MountainCarBase(kwargs, "MountainCar", kGoalPosition) {
  set_action_space(std::make_shared<Discrete>(3));
  apply_render_mode();
}

void MountainCarEnv::reset_impl(const std::optional<Seed>& /*seed*/, const Kwargs& options,
                                std::span<std::byte> observation, Info& /*info*/) {
  reset_car(options, observation);
}

StepOutcome MountainCarEnv::step_impl(std::span<const std::byte> action,
                                      std::span<std::byte> observation, Info& /*info*/) {
  auto [position, velocity] = state_;
  const auto push = static_cast<double>(as_span<std::int64_t>(action)[0] - 1);
  velocity += push * kForce + std::cos(3 * position) * -kGravity;
  velocity = std::min(std::max(velocity, -kMaxSpeed), kMaxSpeed);
  position += velocity;
  position = std::min(std::max(position, kMinPosition), kMaxPosition);
  // The left wall is inelastic.
  if (position == kMinPosition && velocity < 0) velocity = 0;
  const bool terminated = position >= kGoalPosition && velocity >= goal_velocity_;
  state_ = {position, velocity};
  write_observation(observation);
  return {-1.0, terminated, false};
}

ContinuousMountainCarEnv::ContinuousMountainCarEnv(const Kwargs& kwargs)
    : MountainCarBase(kwargs, "MountainCarContinuous", kGoalPosition) {
  set_action_space(std::make_shared<Box>(kMinAction, kMaxAction, Shape{1}, DType::kFloat32));
  // Gymnasium's env clips the force itself (min/max), whatever was asked.
  take_raw_box_actions();
  apply_render_mode();
}

void ContinuousMountainCarEnv::reset_impl(const std::optional<Seed>& /*seed*/,
                                          const Kwargs& options, std::span<std::byte> observation,
                                          Info& /*info*/) {
  state_is_float32_ = false;
  reset_car(options, observation);
}

bool ContinuousMountainCarEnv::advance(NumpyScalar force) {
  // Gymnasium's step line by line, each value with its numpy kind (numpy_scalar.hpp): the state's
  // dtype (float64 after reset, float32 after a step), the force's (the action's dtype, or a
  // Python float where min/max returned a bound) and Python floats for the constants.
  using S = NumpyScalar;
  const auto state_value = [this](double v) {
    return state_is_float32_ ? S::float32(v) : S::float64(v);
  };
  const S position0 = state_value(state_[0]);
  const S velocity0 = state_value(state_[1]);
  // math.cos takes a Python float: 3 * position is rounded in the state's dtype first.
  const S pulled = S::python(kGravity * std::cos((S::python(3) * position0).value));
  S velocity = velocity0 + (force * S::python(kPower) - pulled);
  if (velocity > S::python(kMaxSpeed)) velocity = S::python(kMaxSpeed);
  if (velocity < S::python(-kMaxSpeed)) velocity = S::python(-kMaxSpeed);
  S position = position0 + velocity;
  if (position > S::python(kMaxPosition)) position = S::python(kMaxPosition);
  if (position < S::python(kMinPosition)) position = S::python(kMinPosition);
  // The left wall is inelastic.
  if (position == S::python(kMinPosition) && velocity < S::python(0.0)) velocity = S::python(0.0);
  const bool terminated =
      position >= S::python(kGoalPosition) && velocity >= S::python(goal_velocity_);
  state_ = {static_cast<float>(position.value), static_cast<float>(velocity.value)};
  state_is_float32_ = true;
  return terminated;
}

StepOutcome ContinuousMountainCarEnv::step_impl(std::span<const std::byte> action,
                                                std::span<std::byte> observation, Info& /*info*/) {
  NumpyScalar requested;
  switch (action_form()) {
    case ActionForm::kPacked:
      requested = NumpyScalar::float32(as_span<const float>(action)[0]);
      break;
    case ActionForm::kFloat64:
      requested = NumpyScalar::float64(as_span<const double>(action)[0]);
      break;
    case ActionForm::kPythonFloats:
      requested = NumpyScalar::python(as_span<const double>(action)[0]);
      break;
  }
  // min(max(action[0], min_action), max_action): out-of-range actions are clipped, not refused.
  const NumpyScalar force = python_min(python_max(requested, NumpyScalar::python(kMinAction)),
                                       NumpyScalar::python(kMaxAction));
  const bool terminated = advance(force);
  // The cost uses the requested action, not the clipped force, as Gymnasium does.
  const double a = requested.value;
  const double reward = (terminated ? 100.0 : 0.0) - (a * a) * 0.1;
  write_observation(observation);
  return {reward, terminated, false};
}

}  // namespace locus::envs
