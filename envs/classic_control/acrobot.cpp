#include "envs/classic_control/acrobot.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "envs/classic_control/cartpole.hpp"
#include "envs/classic_control/numpy_float32_trig.hpp"
#include "envs/classic_control/numpy_square.hpp"

namespace locus::envs {

namespace {

// Gymnasium's wrap(): shifts by whole turns rather than taking fmod, which can round differently.
double wrap(double x, double m, double big_m) {
  const double diff = big_m - m;
  while (x > big_m) x = x - diff;
  while (x < m) x = x + diff;
  return x;
}

// Gymnasium's bound(): Python's min(max(x, m), M), which keeps x unless a bound is strictly
// beyond it.
double bound(double x, double m, double big_m) {
  const double lower = m > x ? m : x;
  return big_m < lower ? big_m : lower;
}

}  // namespace

AcrobotEnv::AcrobotEnv(const Kwargs& kwargs) {
  KwargsReader reader(kwargs, "Acrobot");
  const std::string render_mode = reader.get<std::string>("render_mode", "");
  reader.finish();

  const std::vector<double> high = {1.0, 1.0, 1.0, 1.0, kMaxVel1, kMaxVel2};
  std::vector<double> low(high.size());
  for (std::size_t i = 0; i < high.size(); ++i) low[i] = -high[i];
  set_observation_space(std::make_shared<Box>(low, high, Shape{6}, DType::kFloat32));
  set_action_space(std::make_shared<Discrete>(3));
  metadata_.render_modes = {"ansi"};
  metadata_.render_fps = 15;
  if (!render_mode.empty()) set_render_mode(render_mode);
}

void AcrobotEnv::set_dt(double dt) {
  if (!(dt > 0) || !std::isfinite(dt)) {
    throw InvalidArgumentError("Acrobot: dt must be a positive finite number, got " +
                               std::to_string(dt));
  }
  dt_ = dt;
}

void AcrobotEnv::set_torque_noise_max(double torque_noise_max) {
  if (!(torque_noise_max >= 0) || !std::isfinite(torque_noise_max)) {
    throw InvalidArgumentError(
        "Acrobot: torque_noise_max must be a non-negative finite number, got " +
        std::to_string(torque_noise_max));
  }
  torque_noise_max_ = torque_noise_max;
}

void AcrobotEnv::write_observation(std::span<std::byte> observation) const {
  auto obs = as_span<float>(observation);
  const auto [theta1, theta2, dtheta1, dtheta2] = state_;
  if (state_is_float32_) {
    const auto t1 = static_cast<float>(theta1);
    const auto t2 = static_cast<float>(theta2);
    obs[0] = numpy_cos_float32(t1);
    obs[1] = numpy_sin_float32(t1);
    obs[2] = numpy_cos_float32(t2);
    obs[3] = numpy_sin_float32(t2);
  } else {
    obs[0] = static_cast<float>(std::cos(theta1));
    obs[1] = static_cast<float>(std::sin(theta1));
    obs[2] = static_cast<float>(std::cos(theta2));
    obs[3] = static_cast<float>(std::sin(theta2));
  }
  obs[4] = static_cast<float>(dtheta1);
  obs[5] = static_cast<float>(dtheta2);
}

void AcrobotEnv::reset_impl(const std::optional<Seed>& /*seed*/, const Kwargs& options,
                            std::span<std::byte> observation, Info& /*info*/) {
  const auto [low, high] = parse_reset_bounds(options, -0.1, 0.1, "Acrobot");
  for (double& s : state_) s = static_cast<float>(np_random().uniform(low, high));
  state_is_float32_ = true;
  write_observation(observation);
}

AcrobotEnv::Augmented AcrobotEnv::dsdt(const Augmented& s) const {
  // Written term by term in Gymnasium's order, with its constants, so that the float64 results
  // agree to the last bit (the library is built with -ffp-contract=off).
  const double m1 = kLinkMass1;
  const double m2 = kLinkMass2;
  const double l1 = kLinkLength1;
  const double lc1 = kLinkComPos1;
  const double lc2 = kLinkComPos2;
  const double i1 = kLinkMoi;
  const double i2 = kLinkMoi;
  const double g = kGravity;
  const double a = s[4];
  const double theta1 = s[0];
  const double theta2 = s[1];
  const double dtheta1 = s[2];
  const double dtheta2 = s[3];
  const double d1 =
      m1 * (lc1 * lc1) + m2 * ((l1 * l1) + (lc2 * lc2) + 2 * l1 * lc2 * std::cos(theta2)) + i1 + i2;
  const double d2 = m2 * ((lc2 * lc2) + l1 * lc2 * std::cos(theta2)) + i2;
  const double phi2 = m2 * lc2 * g * std::cos(theta1 + theta2 - kPi / 2.0);
  const double phi1 = -m2 * l1 * lc2 * numpy_square(dtheta2) * std::sin(theta2) -
                      2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * std::sin(theta2) +
                      (m1 * lc1 + m2 * l1) * g * std::cos(theta1 - kPi / 2) + phi2;
  double ddtheta2;
  if (dynamics_ == AcrobotDynamics::kNips) {
    ddtheta2 = (a + d2 / d1 * phi1 - phi2) / (m2 * (lc2 * lc2) + i2 - numpy_square(d2) / d1);
  } else {
    ddtheta2 =
        (a + d2 / d1 * phi1 - m2 * l1 * lc2 * numpy_square(dtheta1) * std::sin(theta2) - phi2) /
        (m2 * (lc2 * lc2) + i2 - numpy_square(d2) / d1);
  }
  const double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  return {dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0};
}

AcrobotEnv::Augmented AcrobotEnv::rk4(const Augmented& y0) const {
  // Gymnasium's rk4 over the two sample times [0, dt]: one classic Runge-Kutta step.
  const double dt = dt_;
  const double dt2 = dt / 2.0;
  auto shifted = [&y0](double h, const Augmented& k) {
    Augmented y;
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = y0[i] + h * k[i];
    return y;
  };
  const Augmented k1 = dsdt(y0);
  const Augmented k2 = dsdt(shifted(dt2, k1));
  const Augmented k3 = dsdt(shifted(dt2, k2));
  const Augmented k4 = dsdt(shifted(dt, k3));
  const double h = dt / 6.0;
  Augmented y;
  for (std::size_t i = 0; i < y.size(); ++i) {
    y[i] = y0[i] + h * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  }
  return y;
}

bool AcrobotEnv::terminal() const {
  return -std::cos(state_[0]) - std::cos(state_[1] + state_[0]) > 1.0;
}

StepOutcome AcrobotEnv::step_impl(std::span<const std::byte> action,
                                  std::span<std::byte> observation, Info& /*info*/) {
  const auto index = static_cast<std::size_t>(as_span<std::int64_t>(action)[0]);
  double torque = kAvailTorque[index];
  // Drawn only when noise is on, as Gymnasium does, so the generator's stream is untouched by
  // default.
  if (torque_noise_max_ > 0) torque += np_random().uniform(-torque_noise_max_, torque_noise_max_);

  const Augmented next = rk4({state_[0], state_[1], state_[2], state_[3], torque});
  state_[0] = wrap(next[0], -kPi, kPi);
  state_[1] = wrap(next[1], -kPi, kPi);
  state_[2] = bound(next[2], -kMaxVel1, kMaxVel1);
  state_[3] = bound(next[3], -kMaxVel2, kMaxVel2);
  state_is_float32_ = false;

  const bool terminated = terminal();
  write_observation(observation);
  return {terminated ? 0.0 : -1.0, terminated, false};
}

std::string AcrobotEnv::render() {
  // One row: the height of the free end, from -2 (hanging) to 2 (straight up), with the goal
  // height 1 marked by '|'.
  constexpr int kWidth = 41;
  const double tip = -std::cos(state_[0]) - std::cos(state_[1] + state_[0]);
  auto column_of = [](double height) {
    const int c = static_cast<int>(std::lround((height + 2.0) / 4.0 * (kWidth - 1)));
    return static_cast<std::size_t>(std::clamp(c, 0, kWidth - 1));
  };
  std::string row(kWidth, '-');
  row[column_of(1.0)] = '|';
  row[column_of(tip)] = 'o';
  std::ostringstream out;
  out.precision(3);
  out << '[' << row << "] tip=" << tip << " theta1=" << state_[0] << " theta2=" << state_[1]
      << " dtheta1=" << state_[2] << " dtheta2=" << state_[3] << '\n';
  return out.str();
}

}  // namespace locus::envs
