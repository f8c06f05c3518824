// Env::save_state / restore_state: a restored env steps exactly as the one it was saved from, for
// every registered C++ env and Gymnasium wrapper; bad states are refused with a message naming the
// field, and leave the env unchanged.

#include <catch2/catch.hpp>
#include <set>

#include "envs/classic_control/cartpole.hpp"
#include "envs/classic_control/mountain_car.hpp"
#include "envs/cognitive/trial_env.hpp"
#include "envs/registry.hpp"
#include "envs/wrappers/wrappers.hpp"
#include "tests/envs/env_state_test_util.hpp"

using namespace locus::envs;
using namespace locus::envs::state_test;
using nlohmann::json;

namespace {

constexpr std::uint64_t kSeed = 7;
constexpr std::uint64_t kActionSeed = 11;

struct Case {
  std::string id;
  Kwargs kwargs = Kwargs::object();
  int steps_before = 25;             // steps before the save
  bool save_at_episode_end = false;  // stop at the first episode end within steps_before
};

// Saves `a` (already advanced), restores into `b`, and checks that both then step alike and that
// `b` saves the very same state.
void check_same_continuation(Env& a, Env& b, int steps_after) {
  const json state = a.save_state();
  b.restore_state(state);
  // A round trip through text, as a checkpoint file holds it.
  REQUIRE(json::parse(b.save_state().dump()) == json::parse(state.dump()));
  const std::string expected = play(a, kActionSeed + 1, steps_after);
  REQUIRE(play(b, kActionSeed + 1, steps_after) == expected);
}

void check_case(const Case& c) {
  INFO(c.id << " " << c.kwargs.dump() << " after " << c.steps_before << " steps"
            << (c.save_at_episode_end ? " (or the first episode end)" : ""));
  auto a = make(c.id, c.kwargs);
  auto b = make(c.id, c.kwargs);
  REQUIRE(a->supports_state());
  a->reset(kSeed);
  const int taken = advance(*a, kActionSeed, c.steps_before, c.save_at_episode_end);
  if (c.save_at_episode_end) REQUIRE(a->episode_over());
  // The continuation depends on the state saved: a fresh env seeded alike plays otherwise.
  auto fresh = make(c.id, c.kwargs);
  fresh->reset(kSeed);
  const bool state_matters = taken > 0;
  check_same_continuation(*a, *b, 60);
  if (state_matters) {
    auto a2 = make(c.id, c.kwargs);
    a2->reset(kSeed);
    advance(*a2, kActionSeed, c.steps_before, c.save_at_episode_end);
    REQUIRE(play(*fresh, kActionSeed + 1, 60) != play(*a2, kActionSeed + 1, 60));
  }
}

// Ids that the tests themselves register (their envs keep the default: no state).
const std::set<std::string> kTestOnlyIds = {"seqtest/TrialCounter-v0", "Corridor-v0"};

// A test env that does not support state.
class PlainEnv final : public Env {
 public:
  PlainEnv() {
    set_observation_space(std::make_shared<Discrete>(3));
    set_action_space(std::make_shared<Discrete>(2));
  }
  std::string name() const override { return "PlainEnv"; }

 protected:
  void reset_impl(const std::optional<Seed>&, const Kwargs&, std::span<std::byte> observation,
                  Info&) override {
    as_span<std::int64_t>(observation)[0] = 0;
  }
  StepOutcome step_impl(std::span<const std::byte>, std::span<std::byte> observation,
                        Info&) override {
    as_span<std::int64_t>(observation)[0] = 1;
    return {};
  }
};

// A wrapper written without state support.
class PlainWrapper final : public Wrapper {
 public:
  using Wrapper::Wrapper;
  std::string name() const override { return "PlainWrapper"; }
};

}  // namespace

TEST_CASE("Every registered C++ env continues exactly after restore_state", "[env_state]") {
  std::vector<std::string> tested;
  for (const auto& spec : Registry::global().all()) {
    INFO(spec->id);
    if (kTestOnlyIds.count(spec->id) != 0) {
      auto env = make(spec->id);
      REQUIRE_FALSE(env->supports_state());
      continue;
    }
    auto env = make(spec->id);  // every built-in env makes with its defaults (no plugin, no file)
    REQUIRE(env->supports_state());
    check_case({spec->id});
    check_case({spec->id, Kwargs::object(), 0});  // right after the seeded reset
    // Right after an episode end: time limits end every episode within 1000 steps.
    if (spec->max_episode_steps) check_case({spec->id, Kwargs::object(), 1000, true});
    tested.push_back(spec->id);
  }
  // The families this issue covers are all there.
  for (const char* id : {"CartPole-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Acrobot-v1",
                         "Pendulum-v1", "GoNoGo-v0", "SetShiftGoNoGo-v0", "ReversalBandit-v0",
                         "PerceptualDecisionMaking-v0", "DelayMatchSample-v0",
                         "ContextDecisionMaking-v0", "FashionMNISTBandit-v0", "TaskSequence-v0"}) {
    REQUIRE(std::find(tested.begin(), tested.end(), id) != tested.end());
  }
}

TEST_CASE("Cognitive tasks: saves mid-trial, at a trial's end and with every option",
          "[env_state]") {
  const std::vector<Case> cases = {
      // GoNoGo's default endless mode: step 7 is in the delay period of the first trial.
      {"GoNoGo-v0", Kwargs::object(), 7},
      {"GoNoGo-v0", Kwargs::object(), 15},  // the first trial's last step (no response ends it)
      {"GoNoGo-v0", {{"trials_per_episode", 1}}, 40, true},
      {"GoNoGo-v0", {{"render_mode", "ansi"}, {"sigma", 0.5}}, 9},
      {"SetShiftGoNoGo-v0", {{"switch_after_trials", 2}, {"render_mode", "ansi"}}, 50},
      {"SetShiftGoNoGo-v0", {{"switch_after_correct", 1}, {"shift", "extradimensional"}}, 33},
      {"PerceptualDecisionMaking-v0", {{"sigma", 1.0}, {"abort", true}}, 13},
      {"DelayMatchSample-v0", {{"sigma", 0.3}, {"trials_per_episode", 2}}, 100, true},
      {"ContextDecisionMaking-v0", {{"use_expl_context", true}, {"render_mode", "ansi"}}, 21},
      {"ContextDecisionMaking-v0", json::parse(R"({"timing": {"stimulus": ["uniform", [200, 800]]},
                                                   "impl_context_modality": 1})"),
       17},
      {"ReversalBandit-v0", {{"block_length", 3}, {"block_length_max", 6}, {"sigma", 0.1}}, 20},
      {"ReversalBandit-v0", {{"block_length", 2}, {"render_mode", "ansi"}}, 5},
      {"ReversalBandit-v0", {{"trials_per_episode", 4}}, 10, true},
  };
  for (const Case& c : cases) check_case(c);

  SECTION("queued trial conditions are part of the state") {
    auto a = make("GoNoGo-v0");
    auto b = make("GoNoGo-v0");
    a->reset(kSeed);
    auto& task = dynamic_cast<TrialEnv&>(a->unwrapped());
    for (int i = 0; i < 6; ++i) task.queue_trial({{"ground_truth", i % 2}});
    check_same_continuation(*a, *b, 80);
    REQUIRE(dynamic_cast<TrialEnv&>(b->unwrapped()).queued_trials() ==
            dynamic_cast<TrialEnv&>(a->unwrapped()).queued_trials());
  }
}

TEST_CASE("Task sequences and classic control with other settings", "[env_state]") {
  const std::vector<Case> cases = {
      {"TaskSequence-v0",
       {{"tasks", {"GoNoGo-v0", "PerceptualDecisionMaking-v0"}}, {"schedule", "random"}},
       37},
      {"TaskSequence-v0", json::parse(R"({"schedule": {"type": "explicit", "repeat": false,
          "blocks": [{"task": 1, "episodes": 1}, {"task": 2, "steps": 5}]}})"),
       300, true},
      {"CartPoleDomainShift-v1", {{"length", 1.5}}, 12},
      {"Pendulum-v1", Kwargs::object(), 199},  // one step before the time limit
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("Gymnasium's wrappers save their own fields with the env's", "[env_state]") {
  const auto wrapped = [](const std::string& which) -> std::unique_ptr<Env> {
    std::unique_ptr<Env> env = make("CartPole-v1", Kwargs::object(), {.max_episode_steps = 30});
    if (which == "frame_stack") return std::make_unique<FrameStackObservation>(std::move(env), 3);
    if (which == "frame_stack_zero") {
      return std::make_unique<FrameStackObservation>(std::move(env), 4, "zero");
    }
    if (which == "normalize") return std::make_unique<NormalizeObservation>(std::move(env));
    return std::make_unique<RecordEpisodeStatistics>(std::move(env), 3);
  };
  for (const std::string which : {"frame_stack", "frame_stack_zero", "normalize", "stats"}) {
    for (const bool at_end : {false, true}) {
      INFO(which << (at_end ? " at an episode end" : ""));
      auto a = wrapped(which);
      auto b = wrapped(which);
      REQUIRE(a->supports_state());
      a->reset(kSeed);
      advance(*a, kActionSeed, at_end ? 200 : 45, at_end);
      const json state = a->save_state();
      b->restore_state(state);
      const std::string expected = play(*a, 3, 120);  // several episodes, queues overflowing
      REQUIRE(play(*b, 3, 120) == expected);
    }
  }
  SECTION("RecordEpisodeStatistics' queues and running episode") {
    auto a = std::make_unique<RecordEpisodeStatistics>(make("CartPole-v1"), 2);
    auto b = std::make_unique<RecordEpisodeStatistics>(make("CartPole-v1"), 2);
    a->reset(kSeed);
    advance(*a, kActionSeed, 90, false);
    b->restore_state(a->save_state());
    REQUIRE(b->return_queue() == a->return_queue());
    REQUIRE(b->length_queue() == a->length_queue());
    REQUIRE(b->time_queue() == a->time_queue());
    REQUIRE(b->episode_length() == a->episode_length());
    REQUIRE(b->episode_count() == a->episode_count());
  }
}

TEST_CASE("Info states round-trip every value type exactly", "[env_state]") {
  Info info;
  info.set("flag", true);
  info.set("count", std::int64_t{-3});
  info.set("x", -0.0);
  info.set("nan", std::numeric_limits<double>::quiet_NaN());
  info.set("inf", -std::numeric_limits<double>::infinity());
  info.set("tiny", 5e-324);
  info.set("third", 1.0 / 3.0);
  info.set("text", "correct_rejection");
  info.set("obs", Array::from_vector(std::vector<float>{1.5F, -2.25F, 1e-30F}, Shape{3}));
  info.set("empty", Array(DType::kUInt8, Shape{0, 4}));
  Info& nested = info.nested("episode");
  nested.set("r", 12.5);
  nested.nested("deeper").set("l", std::int64_t{4});
  const json saved = {{"info", state_json::from_info(info)}};
  const Info read = StateReader(json::parse(saved.dump()), "test").get_info("info");
  REQUIRE(state_json::from_info(read).dump() == saved["info"].dump());
  REQUIRE(std::signbit(read.get_double("x")));
  REQUIRE(std::isnan(read.get_double("nan")));
  REQUIRE(read.get_array("obs") == info.get_array("obs"));
  REQUIRE(read.get_array("empty").shape() == Shape{0, 4});
  REQUIRE(read.get_info("episode").get_info("deeper").get_int("l") == 4);
  // Insertion order is kept.
  REQUIRE(read.entries()[0].key == "flag");
  REQUIRE(read.entries()[9].key == "empty");

  const auto bad = [](json entries) {
    return StateReader(json{{"info", std::move(entries)}}, "test").get_info("info");
  };
  REQUIRE_THROWS_WITH(bad({{"a", "complex", 1}}), Catch::Contains("'info[0].type'"));
  REQUIRE_THROWS_WITH(bad({{"a", "int", 1.5}}),
                      Catch::Contains("'info[0].value' must be an integer"));
  REQUIRE_THROWS_WITH(
      bad({{"a", "array", {{"dtype", "float32"}, {"shape", {2}}, {"data", "AAAA"}}}}),
      Catch::Contains("holds 3 bytes, the env's layout needs 8"));
  REQUIRE_THROWS_WITH(bad({{"a", "int", 1}, {"a", "int", 2}}), Catch::Contains("twice"));
}

namespace {

// The fields of the innermost env of a saved wrapper stack.
json& innermost_fields(json& state) {
  json* fields = &state["fields"];
  while (fields->contains("env")) fields = &(*fields)["env"]["fields"];
  return *fields;
}

// restore_state(state) throws InvalidArgumentError whose message holds `message`, and `env`
// still saves `before` and steps as `twin` (restored from `before`) does.
void check_refused(Env& env, const json& state, const std::string& message, const json& before,
                   Env& twin) {
  INFO(message);
  REQUIRE_THROWS_AS(env.restore_state(state), InvalidArgumentError);
  REQUIRE_THROWS_WITH(env.restore_state(state), Catch::Contains(message));
  REQUIRE(env.save_state() == before);
  twin.restore_state(before);
  REQUIRE(play(env, 5, 40) == play(twin, 5, 40));
  env.restore_state(before);
}

}  // namespace

TEST_CASE("Bad states are refused with the field named, and change nothing", "[env_state]") {
  auto env = make("CartPole-v1");
  auto twin = make("CartPole-v1");
  env->reset(kSeed);
  advance(*env, kActionSeed, 5, false);
  const json before = env->save_state();
  const auto edited = [&](const auto& edit) {
    json state = before;
    edit(state);
    return state;
  };

  check_refused(*env, json(3), "the state must be a JSON object", before, *twin);
  check_refused(*env, make("MountainCar-v0")->save_state(),
                "'id' is \"MountainCar-v0\": a state of another env id", before, *twin);
  check_refused(*env, edited([](json& s) { innermost_fields(s).erase("state"); }),
                "CartPoleEnv state: 'fields.state' is missing", before, *twin);
  check_refused(*env, edited([](json& s) { innermost_fields(s)["state"] = "upright"; }),
                "CartPoleEnv state: 'fields.state' must be an array of 4 numbers", before, *twin);
  check_refused(*env, edited([](json& s) { innermost_fields(s)["state"][1] = true; }),
                "'fields.state' must be a number", before, *twin);
  check_refused(*env, edited([](json& s) { innermost_fields(s)["steps_beyond_terminated"] = -2; }),
                "'fields.steps_beyond_terminated' is -2, outside [-1, ", before, *twin);
  check_refused(*env, edited([](json& s) { s["fields"]["elapsed_steps"] = -1; }),
                "TimeLimit state: 'fields.elapsed_steps' is -1, outside [0, ", before, *twin);
  check_refused(*env, edited([](json& s) { s["has_reset"] = "yes"; }),
                "TimeLimit state: 'has_reset' must be true or false", before, *twin);
  // Set after the outer layers' fields were applied: the rollback undoes them.
  check_refused(*env, edited([](json& s) {
    s["has_reset"] = false;
    s["fields"]["elapsed_steps"] = 3;
    s["fields"]["env"]["fields"]["env"]["fields"]["checked_step"] = false;
    innermost_fields(s)["state"] = json::array({0, 0, 0});
  }),
                "'fields.state' must be an array of 4 numbers", before, *twin);
  const auto rng_of_innermost = [](json& s) -> json& {
    json* state = &s;
    while ((*state)["fields"].contains("env")) state = &(*state)["fields"]["env"];
    return (*state)["np_random"];
  };
  check_refused(*env, edited([&](json& s) { rng_of_innermost(s)["state"]["inc"] = "0x2"; }),
                "'np_random.state.inc' must be odd", before, *twin);
  check_refused(*env, edited([&](json& s) { rng_of_innermost(s)["bit_generator"] = "MT19937"; }),
                "'np_random.bit_generator' must be \"PCG64\"", before, *twin);

  SECTION("a state of another env class") {
    CartPoleEnv cartpole;
    MountainCarEnv car;
    cartpole.reset(kSeed);
    REQUIRE_THROWS_WITH(cartpole.restore_state(car.save_state()),
                        Catch::Contains("CartPoleEnv state: 'class' is \"MountainCarEnv\""));
  }
  SECTION("values out of the task's range") {
    auto task = make("GoNoGo-v0");
    auto task_twin = make("GoNoGo-v0");
    task->reset(kSeed);
    advance(*task, kActionSeed, 4, false);
    const json saved = task->save_state();
    json state = saved;
    innermost_fields(state)["ground_truth"] = 2;
    check_refused(*task, state, "GoNoGoEnv state: 'fields.ground_truth' is 2, outside [0, 1]",
                  saved, *task_twin);
    state = saved;
    innermost_fields(state)["timeline"]["ends"] = json::array({0, 5, 9, 15});
    check_refused(*task, state, "its fixed duration is 5 steps", saved, *task_twin);
    state = saved;
    innermost_fields(state)["queued"] = json::array({{{"ground_truth", 3}}});
    check_refused(*task, state, "'fields.queued' holds trial conditions", saved, *task_twin);
  }
  SECTION("a task sequence refused at its second task puts its first task back") {
    const Kwargs kwargs = {{"tasks", {"GoNoGo-v0", "PerceptualDecisionMaking-v0"}}};
    auto sequence = make("TaskSequence-v0", kwargs);
    auto sequence_twin = make("TaskSequence-v0", kwargs);
    sequence->reset(kSeed);
    advance(*sequence, kActionSeed, 40, false);
    const json saved = sequence->save_state();
    auto other = make("TaskSequence-v0", kwargs);
    other->reset(kSeed + 1);
    advance(*other, kActionSeed, 23, false);
    json state = other->save_state();
    innermost_fields(state)["tasks"][1]["env"]["fields"]["elapsed_steps"] = "many";
    check_refused(*sequence, state, "'fields.elapsed_steps' must be an integer", saved,
                  *sequence_twin);
  }
}

TEST_CASE("Envs without state support say so", "[env_state]") {
  PlainEnv plain;
  plain.reset(kSeed);
  REQUIRE_FALSE(plain.supports_state());
  REQUIRE_THROWS_AS(plain.save_state(), UnsupportedStateError);
  REQUIRE_THROWS_WITH(plain.save_state(), Catch::Contains("PlainEnv.save_state: this env cannot"));
  REQUIRE_THROWS_AS(plain.restore_state(json::object()), UnsupportedStateError);

  TimeLimit limited(std::make_unique<PlainEnv>(), 10);
  REQUIRE_FALSE(limited.supports_state());
  REQUIRE_THROWS_AS(limited.save_state(), UnsupportedStateError);
  // A wrapper that does not declare its own fields saved cannot be trusted with them.
  PlainWrapper wrapper(make("CartPole-v1"));
  REQUIRE_FALSE(wrapper.supports_state());
  REQUIRE_THROWS_AS(wrapper.save_state(), UnsupportedStateError);
  // Unsupported, and so is a sequence holding it.
  REQUIRE_FALSE(make("seqtest/TrialCounter-v0")->supports_state());
  REQUIRE_FALSE(make("TaskSequence-v0", {{"tasks", {"GoNoGo-v0", "seqtest/TrialCounter-v0"}}})
                    ->supports_state());
}
