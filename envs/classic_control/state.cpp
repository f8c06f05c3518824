// save_state/restore_state of the classic-control envs: the physical state, and the flags that
// say in which precision Gymnasium holds it. Settings made at construction (physics, goal
// velocity, g) come from the kwargs of the env restored into, as Env::restore_state requires.

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "envs/classic_control/acrobot.hpp"
#include "envs/classic_control/cartpole.hpp"
#include "envs/classic_control/mountain_car.hpp"
#include "envs/classic_control/pendulum.hpp"
#include "envs/state_json.hpp"

namespace locus::envs {

namespace {

template <std::size_t N>
std::array<double, N> read_state(const StateReader& reader) {
  const std::vector<double> values = reader.get_doubles("state", N);
  std::array<double, N> out{};
  std::copy(values.begin(), values.end(), out.begin());
  return out;
}

}  // namespace

nlohmann::json CartPoleEnv::save_state_impl() const {
  return {{"state", state_json::from_doubles(state_)},
          {"steps_beyond_terminated", steps_beyond_terminated_}};
}

void CartPoleEnv::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  const auto state = read_state<4>(reader);
  steps_beyond_terminated_ =
      static_cast<int>(reader.get_int("steps_beyond_terminated", -1, INT32_MAX));
  state_ = state;
}

nlohmann::json MountainCarEnv::save_state_impl() const {
  return {{"state", state_json::from_doubles(state_)}};
}

void MountainCarEnv::restore_state_impl(const nlohmann::json& fields) {
  state_ = read_state<2>(StateReader(fields, name(), "fields"));
}

nlohmann::json ContinuousMountainCarEnv::save_state_impl() const {
  return {{"state", state_json::from_doubles(state_)}, {"state_is_float32", state_is_float32_}};
}

void ContinuousMountainCarEnv::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  const auto state = read_state<2>(reader);
  state_is_float32_ = reader.get_bool("state_is_float32");
  state_ = state;
}

nlohmann::json AcrobotEnv::save_state_impl() const {
  // dt, torque_noise_max and book_or_nips are attributes a user may change after make(), so the
  // state carries them.
  return {{"state", state_json::from_doubles(state_)},
          {"state_is_float32", state_is_float32_},
          {"dt", state_json::from_double(dt_)},
          {"torque_noise_max", state_json::from_double(torque_noise_max_)},
          {"dynamics", dynamics_ == AcrobotDynamics::kBook ? "book" : "nips"}};
}

void AcrobotEnv::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  const auto state = read_state<4>(reader);
  const bool is_float32 = reader.get_bool("state_is_float32");
  const double dt = reader.get_double("dt", 0.0, std::numeric_limits<double>::max());
  if (!(dt > 0)) reader.fail("dt", "must be positive, got 0");
  const double noise =
      reader.get_double("torque_noise_max", 0.0, std::numeric_limits<double>::max());
  static constexpr std::string_view kDynamics[] = {"book", "nips"};
  const std::size_t dynamics = reader.get_choice("dynamics", kDynamics);
  state_ = state;
  state_is_float32_ = is_float32;
  dt_ = dt;
  torque_noise_max_ = noise;
  dynamics_ = dynamics == 0 ? AcrobotDynamics::kBook : AcrobotDynamics::kNips;
}

nlohmann::json PendulumEnv::save_state_impl() const {
  return {{"state", state_json::from_doubles(state_)},
          {"last_u", last_u_ ? state_json::from_double(*last_u_) : nlohmann::json()}};
}

void PendulumEnv::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  const auto state = read_state<2>(reader);
  std::optional<double> last_u;
  if (!reader.at("last_u").is_null()) last_u = reader.get_double("last_u");
  state_ = state;
  last_u_ = last_u;
}

}  // namespace locus::envs
