#include "envs/classic_control/mountain_car.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "envs/classic_control/cartpole.hpp"

namespace locus::envs {

namespace {

SpacePtr car_observation_space() {
  return std::make_shared<Box>(std::vector<double>{-1.2, -0.07}, std::vector<double>{0.6, 0.07},
                               Shape{2}, DType::kFloat32);
}

void write_car_observation(const std::array<double, 2>& state, std::span<std::byte> observation) {
  auto obs = as_span<float>(observation);
  obs[0] = static_cast<float>(state[0]);
  obs[1] = static_cast<float>(state[1]);
}

// One row: the track from -1.2 to 0.6 with the car 'C' and the goal flag 'F'.
std::string render_car(const std::array<double, 2>& state, double goal_position) {
  constexpr int kWidth = 37;
  auto column_of = [](double position) {
    const int c = static_cast<int>(std::lround((position + 1.2) / 1.8 * (kWidth - 1)));
    return static_cast<std::size_t>(std::clamp(c, 0, kWidth - 1));
  };
  std::string row(kWidth, '_');
  row[column_of(goal_position)] = 'F';
  row[column_of(state[0])] = 'C';
  std::ostringstream out;
  out.precision(4);
  out << '[' << row << "] position=" << state[0] << " velocity=" << state[1] << '\n';
  return out.str();
}

}  // namespace

MountainCarEnv::MountainCarEnv(const Kwargs& kwargs) {
  KwargsReader reader(kwargs, "MountainCar");
  goal_velocity_ = reader.get_double("goal_velocity", 0.0);
  const std::string render_mode = reader.get_string("render_mode", "");
  reader.finish();

  set_observation_space(car_observation_space());
  set_action_space(std::make_shared<Discrete>(3));
  metadata_.render_modes = {"ansi"};
  metadata_.render_fps = 30;
  if (!render_mode.empty()) set_render_mode(render_mode);
}

void MountainCarEnv::reset_impl(const std::optional<Seed>& /*seed*/, const Kwargs& options,
                                std::span<std::byte> observation, Info& /*info*/) {
  const auto [low, high] = parse_reset_bounds(options, -0.6, -0.4, "MountainCar");
  state_ = {np_random().uniform(low, high), 0.0};
  write_car_observation(state_, observation);
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
  write_car_observation(state_, observation);
  return {-1.0, terminated, false};
}

std::string MountainCarEnv::render() {
  return render_car(state_, kGoalPosition);
}

ContinuousMountainCarEnv::ContinuousMountainCarEnv(const Kwargs& kwargs) {
  KwargsReader reader(kwargs, "MountainCarContinuous");
  goal_velocity_ = reader.get_double("goal_velocity", 0.0);
  const std::string render_mode = reader.get_string("render_mode", "");
  reader.finish();

  set_observation_space(car_observation_space());
  set_action_space(std::make_shared<Box>(kMinAction, kMaxAction, Shape{1}, DType::kFloat32));
  metadata_.render_modes = {"ansi"};
  metadata_.render_fps = 30;
  if (!render_mode.empty()) set_render_mode(render_mode);
}

void ContinuousMountainCarEnv::reset_impl(const std::optional<Seed>& /*seed*/,
                                          const Kwargs& options, std::span<std::byte> observation,
                                          Info& /*info*/) {
  const auto [low, high] = parse_reset_bounds(options, -0.6, -0.4, "MountainCarContinuous");
  state_ = {np_random().uniform(low, high), 0.0};
  state_is_float32_ = false;
  write_car_observation(state_, observation);
}

template <class T>
bool ContinuousMountainCarEnv::advance(float force) {
  // Gymnasium mixes numpy scalars of the state's dtype T with Python floats (its constants, and
  // the values it assigns when clipping). Under numpy 2's promotion rules (NEP 50) a Python float
  // is cast to T before numpy combines or compares it with a T, while two Python floats compare
  // in float64. A Num records which of the two a value is.
  struct Num {
    double value;
    bool python_float;
  };
  auto as_t = [](double x) { return static_cast<double>(static_cast<T>(x)); };
  auto greater = [&](Num x, double c) { return x.python_float ? x.value > c : x.value > as_t(c); };
  auto less = [&](Num x, double c) { return x.python_float ? x.value < c : x.value < as_t(c); };
  auto equal = [&](Num x, double c) { return x.python_float ? x.value == c : x.value == as_t(c); };
  auto greater_equal = [&](Num x, double c) {
    return x.python_float ? x.value >= c : x.value >= as_t(c);
  };

  const auto position0 = static_cast<T>(state_[0]);
  const auto velocity0 = static_cast<T>(state_[1]);
  // force is a numpy float32, so force * power and the difference with the Python float from
  // math.cos are float32 whatever T is.
  const float pushed = force * static_cast<float>(kPower);
  const auto scaled = static_cast<double>(static_cast<T>(3) * position0);
  const double pulled = kGravity * std::cos(scaled);
  const float acceleration = pushed - static_cast<float>(pulled);

  Num velocity{static_cast<double>(velocity0 + static_cast<T>(acceleration)), false};
  if (greater(velocity, kMaxSpeed)) velocity = {kMaxSpeed, true};
  if (less(velocity, -kMaxSpeed)) velocity = {-kMaxSpeed, true};
  Num position{static_cast<double>(position0 + static_cast<T>(velocity.value)), false};
  if (greater(position, kMaxPosition)) position = {kMaxPosition, true};
  if (less(position, kMinPosition)) position = {kMinPosition, true};
  // The left wall is inelastic.
  if (equal(position, kMinPosition) && less(velocity, 0.0)) velocity = {0.0, true};
  const bool terminated =
      greater_equal(position, kGoalPosition) && greater_equal(velocity, goal_velocity_);
  state_ = {static_cast<float>(position.value), static_cast<float>(velocity.value)};
  state_is_float32_ = true;
  return terminated;
}

StepOutcome ContinuousMountainCarEnv::step_impl(std::span<const std::byte> action,
                                                std::span<std::byte> observation, Info& /*info*/) {
  const float requested = as_span<float>(action)[0];
  // The action space already keeps the force in [-1, 1]; the clamp is Gymnasium's own guard.
  const float force =
      std::min(std::max(requested, static_cast<float>(kMinAction)), static_cast<float>(kMaxAction));
  const bool terminated = state_is_float32_ ? advance<float>(force) : advance<double>(force);
  // The cost uses the requested action, not the clamped force, as Gymnasium does.
  const auto a = static_cast<double>(requested);
  const double reward = (terminated ? 100.0 : 0.0) - (a * a) * 0.1;
  write_car_observation(state_, observation);
  return {reward, terminated, false};
}

std::string ContinuousMountainCarEnv::render() {
  return render_car(state_, kGoalPosition);
}

}  // namespace locus::envs
