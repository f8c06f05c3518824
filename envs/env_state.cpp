// Env::save_state and Env::restore_state: the base class's part of an env's state and the checks
// and rollback around an env's own fields.
//
// The state of an env:
//   {"class": name(), "id": the spec's id or null, "has_reset", "episode_over",
//    "warned_step_after_end", "np_random": numpy's PCG64 state or null (never drawn from),
//    "fields": what save_state_impl() returns}

#include <nlohmann/json.hpp>

#include "envs/env.hpp"
#include "envs/registry.hpp"
#include "envs/state_json.hpp"

namespace locus::envs {

void Env::throw_unsupported_state(const char* what) const {
  throw UnsupportedStateError(
      name() + "." + what +
      ": this env cannot save and restore its state (supports_state() is false: a Python env, a "
      "plugin's env, or a wrapper of one); keep it running, or reset it where a run resumes");
}

nlohmann::json Env::save_state_impl() const {
  throw_unsupported_state("save_state");
}

void Env::restore_state_impl(const nlohmann::json& /*fields*/) {
  throw_unsupported_state("restore_state");
}

nlohmann::json Env::save_state() const {
  if (!supports_state()) throw_unsupported_state("save_state");
  nlohmann::json state = nlohmann::json::object();
  state["class"] = name();
  state["id"] = spec_ ? nlohmann::json(spec_->id) : nlohmann::json();
  state["has_reset"] = has_reset_;
  state["episode_over"] = episode_over_;
  state["warned_step_after_end"] = warned_step_after_end_;
  state["np_random"] =
      np_random_ ? state_json::from_rng(np_random_->bit_generator().state()) : nlohmann::json();
  state["fields"] = save_state_impl();
  return state;
}

void Env::restore_state(const nlohmann::json& state) {
  if (!supports_state()) throw_unsupported_state("restore_state");
  const StateReader reader(state, name());
  const std::string saved_class = reader.get_string("class");
  if (saved_class != name()) {
    reader.fail("class", "is \"" + saved_class + "\": a state of another env class cannot be " +
                             "restored into a " + name());
  }
  const nlohmann::json& saved_id = reader.at("id");
  if (!saved_id.is_null() && !saved_id.is_string()) {
    reader.fail("id", "must be an env id or null, got " + saved_id.dump());
  }
  if (saved_id.is_string() && spec_ && saved_id.get<std::string>() != spec_->id) {
    reader.fail("id", "is " + saved_id.dump() +
                          ": a state of another env id cannot be restored "
                          "into " +
                          spec_->id);
  }
  state_json::apply_or_roll_back(state, save_state(),
                                 [this](const nlohmann::json& s) { apply_state(s); });
}

void Env::apply_state(const nlohmann::json& state) {
  const StateReader reader(state, name());
  const bool has_reset = reader.get_bool("has_reset");
  const bool episode_over = reader.get_bool("episode_over");
  const bool warned = reader.get_bool("warned_step_after_end");
  std::optional<Pcg64::State> rng;
  if (!reader.at("np_random").is_null()) rng = reader.get_rng("np_random");
  const nlohmann::json& fields = reader.at("fields");

  has_reset_ = has_reset;
  episode_over_ = episode_over;
  warned_step_after_end_ = warned;
  if (rng) {
    // In place: an env may hold a pointer to its generator (TrialEnv's rng_).
    if (!np_random_) np_random_ = std::make_unique<Rng>(std::uint64_t{0});
    np_random_->bit_generator().set_state(*rng);
  } else {
    np_random_.reset();
  }
  restore_state_impl(fields);
}

}  // namespace locus::envs
