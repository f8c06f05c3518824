#pragma once
// Acrobot-v1: Gymnasium's classic_control/acrobot.py (Sutton 1996; Sutton & Barto's book), step for
// step: the same RK4 over one 0.2 s step, the same angle wrapping and velocity bounds, and the same
// float32 rounding of the reset state, so that a seeded locus Acrobot and a seeded Gymnasium
// Acrobot produce the same trajectory.

#include <array>

#include "envs/env.hpp"

namespace locus::envs {

// Gymnasium's book_or_nips: the NeurIPS paper's equations lack one term of the book's, and the
// book's are the ones its experiments used.
enum class AcrobotDynamics { kBook, kNips };

class AcrobotEnv final : public Env {
 public:
  static constexpr double kPi = 3.14159265358979323846;
  static constexpr double kDt = 0.2;  // seconds per step, Gymnasium's default
  static constexpr double kLinkLength1 = 1.0;
  static constexpr double kLinkLength2 = 1.0;
  static constexpr double kLinkMass1 = 1.0;
  static constexpr double kLinkMass2 = 1.0;
  static constexpr double kLinkComPos1 = 0.5;
  static constexpr double kLinkComPos2 = 0.5;
  static constexpr double kLinkMoi = 1.0;
  static constexpr double kGravity = 9.8;
  static constexpr double kMaxVel1 = 4 * kPi;
  static constexpr double kMaxVel2 = 9 * kPi;
  static constexpr std::array<double, 3> kAvailTorque = {-1.0, 0.0, 1.0};

  // kwargs: render_mode ("ansi" or null). Gymnasium takes no other constructor argument; the
  // settings it exposes as attributes of the unwrapped env have the setters below.
  explicit AcrobotEnv(const Kwargs& kwargs = Kwargs::object());

  std::string name() const override { return "AcrobotEnv"; }
  bool supports_state() const override { return true; }
  std::string render() override;
  // (theta1, theta2, dtheta1, dtheta2) in float64; theta2 is relative to link 1.
  const std::array<double, 4>& state() const { return state_; }

  // Gymnasium's env.unwrapped.dt, .torque_noise_max and .book_or_nips.
  void set_dt(double dt);
  void set_torque_noise_max(double torque_noise_max);
  void set_dynamics(AcrobotDynamics dynamics) { dynamics_ = dynamics; }
  double dt() const { return dt_; }
  double torque_noise_max() const { return torque_noise_max_; }
  AcrobotDynamics dynamics() const { return dynamics_; }

 protected:
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  // The state augmented with the torque, as Gymnasium integrates it.
  using Augmented = std::array<double, 5>;
  Augmented dsdt(const Augmented& s) const;
  Augmented rk4(const Augmented& y0) const;
  bool terminal() const;
  void write_observation(std::span<std::byte> observation) const;

  std::array<double, 4> state_{};
  // Right after reset Gymnasium's state is a float32 array, so its first observation takes numpy's
  // float32 cos and sin (numpy_float32_trig.hpp); every step after that works in float64.
  bool state_is_float32_ = false;
  double dt_ = kDt;
  double torque_noise_max_ = 0.0;
  AcrobotDynamics dynamics_ = AcrobotDynamics::kBook;
};

}  // namespace locus::envs
