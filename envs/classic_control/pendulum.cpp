#include "envs/classic_control/pendulum.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "envs/classic_control/numpy_square.hpp"

namespace locus::envs {

double angle_normalize(double x) {
  // numpy's remainder: fmod, then shifted into the divisor's sign (Python's % semantics).
  const double shifted = x + PendulumEnv::kPi;
  const double divisor = 2 * PendulumEnv::kPi;
  double mod = std::fmod(shifted, divisor);
  if (mod != 0) {
    if ((divisor < 0) != (mod < 0)) mod += divisor;
  } else {
    mod = std::copysign(0.0, divisor);
  }
  return mod - PendulumEnv::kPi;
}

PendulumEnv::PendulumEnv(const Kwargs& kwargs) {
  KwargsReader reader(kwargs, "Pendulum");
  g_ = reader.get<double>("g", 10.0);
  const std::string render_mode = reader.get<std::string>("render_mode", "");
  reader.finish();
  if (!std::isfinite(g_)) {
    throw InvalidArgumentError("Pendulum: g must be finite, got " + std::to_string(g_));
  }

  const std::vector<double> high = {1.0, 1.0, kMaxSpeed};
  const std::vector<double> low = {-1.0, -1.0, -kMaxSpeed};
  set_observation_space(std::make_shared<Box>(low, high, Shape{3}, DType::kFloat32));
  set_action_space(std::make_shared<Box>(-kMaxTorque, kMaxTorque, Shape{1}, DType::kFloat32));
  // Gymnasium's Pendulum clips the torque itself (np.clip), whatever was asked.
  take_raw_box_actions();
  metadata_.render_modes = {"ansi"};
  metadata_.render_fps = 30;
  if (!render_mode.empty()) set_render_mode(render_mode);
}

void PendulumEnv::write_observation(std::span<std::byte> observation) const {
  auto obs = as_span<float>(observation);
  obs[0] = static_cast<float>(std::cos(state_[0]));
  obs[1] = static_cast<float>(std::sin(state_[0]));
  obs[2] = static_cast<float>(state_[1]);
}

void PendulumEnv::reset_impl(const std::optional<Seed>& /*seed*/, const Kwargs& options,
                             std::span<std::byte> observation, Info& /*info*/) {
  KwargsReader reader(options, "Pendulum.reset options");
  const double x = reader.get<double>("x_init", kDefaultX);
  const double y = reader.get<double>("y_init", kDefaultY);
  // No reader.finish(): unknown keys are ignored, as Gymnasium's Pendulum ignores them.
  // numpy's uniform(-high, high) rejects a negative or non-finite range; checked here so the
  // error names the option.
  for (const auto& [key, value] : {std::pair{"x_init", x}, std::pair{"y_init", y}}) {
    if (!(value >= 0) || !std::isfinite(value)) {
      throw InvalidArgumentError(std::string("Pendulum.reset: ") + key +
                                 " must be a finite number >= 0, got " + std::to_string(value));
    }
  }
  state_[0] = np_random().uniform(-x, x);
  state_[1] = np_random().uniform(-y, y);
  last_u_.reset();
  write_observation(observation);
}

StepOutcome PendulumEnv::step_impl(std::span<const std::byte> action,
                                   std::span<std::byte> observation, Info& /*info*/) {
  // Gymnasium computes with the action's dtype: a float32 array keeps float32 products, a float64
  // one (or a list of Python numbers, which np.clip makes float64) float64 ones.
  const StepOutcome outcome = action_form() == ActionForm::kPacked
                                  ? advance(as_span<const float>(action)[0])
                                  : advance(as_span<const double>(action)[0]);
  write_observation(observation);
  return outcome;
}

template <class U>
StepOutcome PendulumEnv::advance(U requested) {
  const auto [th, thdot] = state_;
  // np.clip keeps the torque a numpy U, so Gymnasium's u**2, 0.001 * u**2 and 3.0 * u are U
  // products (a Python float takes a numpy scalar's dtype under NEP 50); sums with the float64
  // state are float64.
  const U u =
      std::min(std::max(requested, static_cast<U>(-kMaxTorque)), static_cast<U>(kMaxTorque));
  last_u_ = static_cast<double>(u);
  const double normalized = angle_normalize(th);
  const U torque_cost = static_cast<U>(0.001) * numpy_square(u);
  const double costs =
      numpy_square(normalized) + 0.1 * numpy_square(thdot) + static_cast<double>(torque_cost);
  const U torque_term = static_cast<U>(3.0 / (kMass * (kLength * kLength))) * u;
  double newthdot =
      thdot + (3 * g_ / (2 * kLength) * std::sin(th) + static_cast<double>(torque_term)) * kDt;
  newthdot = std::min(std::max(newthdot, -kMaxSpeed), kMaxSpeed);
  const double newth = th + newthdot * kDt;
  state_ = {newth, newthdot};
  return {-costs, false, false};
}

std::string PendulumEnv::render() {
  // One row: the angle from -pi to pi, with upright (0) marked by '|' and the rod by 'o'.
  constexpr int kWidth = 41;
  const double theta = angle_normalize(state_[0]);
  auto column_of = [](double angle) {
    const int c = static_cast<int>(std::lround((angle + kPi) / (2 * kPi) * (kWidth - 1)));
    return static_cast<std::size_t>(std::clamp(c, 0, kWidth - 1));
  };
  std::string row(kWidth, '-');
  row[column_of(0.0)] = '|';
  row[column_of(theta)] = 'o';
  std::ostringstream out;
  out.precision(3);
  out << '[' << row << "] theta=" << theta << " theta_dot=" << state_[1];
  if (last_u_) out << " u=" << *last_u_;
  out << '\n';
  return out.str();
}

}  // namespace locus::envs
