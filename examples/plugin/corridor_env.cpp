// A complete custom environment packaged as a locus plugin.
//
// Build it as a shared library linked to locus_envs (see CMakeLists.txt beside this file), then:
//   locus --plugin build/lib/liblocus_corridor_plugin.so check Corridor-v0
// The agent starts at a random cell of a corridor and must walk right to its end.

#include <algorithm>

#include "envs/registry.hpp"

namespace {

using namespace locus::envs;

// It keeps Env's default supports_state() (false): save_state() and restore_state() throw
// UnsupportedStateError. An env adds them by overriding supports_state(), save_state_impl() and
// restore_state_impl() (see envs/classic_control/state.cpp for short examples).
class CorridorEnv final : public Env {
 public:
  explicit CorridorEnv(const Kwargs& kwargs) {
    KwargsReader reader(kwargs, "Corridor");
    length_ = reader.get<std::int64_t>("length", 8);
    const std::string render_mode = reader.get<std::string>("render_mode", "");
    reader.finish();  // rejects unknown kwargs with the list of accepted ones
    if (length_ < 2) {
      throw InvalidArgumentError("Corridor: length must be at least 2, got " +
                                 std::to_string(length_));
    }
    set_observation_space(std::make_shared<Discrete>(length_));  // the agent's cell
    set_action_space(std::make_shared<Discrete>(2));             // 0 left, 1 right
    metadata_.render_modes = {"ansi"};
    metadata_.render_fps = 4;
    // make(id, {"render_mode": "ansi"}) passes it here, as Gymnasium passes render_mode to
    // __init__.
    if (!render_mode.empty()) set_render_mode(render_mode);
  }

  std::string name() const override { return "CorridorEnv"; }

  std::string render() override {
    std::string row(static_cast<std::size_t>(length_), '.');
    row.back() = 'G';
    row[static_cast<std::size_t>(position_)] = 'A';
    return row;
  }

 protected:
  void reset_impl(const std::optional<Seed>&, const Kwargs&, std::span<std::byte> observation,
                  Info& info) override {
    // np_random() was already seeded by reset(seed); draw the start cell from it.
    position_ = np_random().integers(length_ - 1);
    as_span<std::int64_t>(observation)[0] = position_;
    info.set("distance", length_ - 1 - position_);
  }

  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override {
    const bool right = as_span<const std::int64_t>(action)[0] == 1;
    position_ = std::clamp<std::int64_t>(position_ + (right ? 1 : -1), 0, length_ - 1);
    as_span<std::int64_t>(observation)[0] = position_;
    info.set("distance", length_ - 1 - position_);
    const bool at_goal = position_ == length_ - 1;
    return {at_goal ? 1.0 : 0.0, at_goal, false};
  }

 private:
  std::int64_t length_ = 8;
  std::int64_t position_ = 0;
};

}  // namespace

// One line registers the env; it runs when the plugin is loaded.
LOCUS_REGISTER_ENV(CorridorEnv, "Corridor-v0", .max_episode_steps = 100,
                   .description = "Walk right to the end of a corridor (example plugin)");
