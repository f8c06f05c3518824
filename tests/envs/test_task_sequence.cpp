// TaskSequence: schedules (NeuroGym's four and explicit ones), switching only at trial or episode
// ends, resuming paused tasks, the one-hot task input, scenario rules and space compatibility,
// determinism and the env checker; and the classic-control domain-shift family against Gymnasium.

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "envs/classic_control/cartpole.hpp"
#include "envs/registry.hpp"
#include "envs/sequences/task_sequence.hpp"
#include "envs/wrappers/env_checker.hpp"

using namespace locus::envs;

namespace {

// A task with trials of `trial_length` steps, reporting their ends NeuroGym's way (info
// "new_trial"). Observation [marker, step within the trial, a draw from np_random() per trial];
// reward = the action taken, so that tests see which action reached the task.
class TrialCounterEnv final : public Env {
 public:
  explicit TrialCounterEnv(const Kwargs& kwargs) {
    KwargsReader reader(kwargs, "TrialCounter");
    trial_length_ = reader.get<std::int64_t>("trial_length", 3);
    marker_ = reader.get<double>("marker", 0.0);
    episode_trials_ = reader.get<std::int64_t>("episode_trials", 0);
    const std::int64_t actions = reader.get<std::int64_t>("actions", 2);
    reader.finish();
    set_observation_space(std::make_shared<Box>(-10.0, 10.0, Shape{3}, DType::kFloat32));
    set_action_space(std::make_shared<Discrete>(actions));
  }
  std::string name() const override { return "TrialCounterEnv"; }

 protected:
  void reset_impl(const std::optional<Seed>&, const Kwargs&, std::span<std::byte> observation,
                  Info&) override {
    step_in_trial_ = 0;
    trials_ = 0;
    noise_ = np_random().random();
    write(observation);
  }
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override {
    const auto chosen = as_span<const std::int64_t>(action)[0];
    const bool trial_end = ++step_in_trial_ == trial_length_;
    info.set("new_trial", trial_end);
    info.set("trial", trials_);
    if (trial_end) {
      ++trials_;
      step_in_trial_ = 0;
      noise_ = np_random().random();
    }
    write(observation);
    return {static_cast<double>(chosen), episode_trials_ > 0 && trials_ >= episode_trials_, false};
  }

 private:
  void write(std::span<std::byte> observation) const {
    auto obs = as_span<float>(observation);
    obs[0] = static_cast<float>(marker_);
    obs[1] = static_cast<float>(step_in_trial_);
    obs[2] = static_cast<float>(noise_);
  }
  std::int64_t trial_length_ = 3;
  double marker_ = 0;
  std::int64_t episode_trials_ = 0;
  std::int64_t step_in_trial_ = 0;
  std::int64_t trials_ = 0;
  double noise_ = 0;
};

const bool registered = [] {
  register_env({.id = "seqtest/TrialCounter-v0",
                .entry_point =
                    [](const Kwargs& kwargs) {
                      return std::unique_ptr<Env>(std::make_unique<TrialCounterEnv>(kwargs));
                    },
                .description = "test task with fixed-length trials"});
  return true;
}();

Kwargs counter(double marker, std::int64_t trial_length = 3, Kwargs extra = Kwargs::object()) {
  Kwargs kwargs = {{"marker", marker}, {"trial_length", trial_length}};
  kwargs.update(extra);
  return {{"id", "seqtest/TrialCounter-v0"}, {"kwargs", kwargs}};
}

struct Seen {
  std::vector<int> task;  // marker of each observation: which task it came from
  std::vector<bool> boundary;
  std::vector<std::int64_t> step_in_trial;
};

float element(const Value& observation, std::size_t i) {
  return observation.array().as<float>()[i];
}

// Resets with `seed` and takes `steps` steps of action 0, recording each observation's task.
Seen run(Env& env, std::uint64_t seed, int steps) {
  Seen seen;
  auto record = [&](const Value& obs, const Info& info) {
    seen.task.push_back(static_cast<int>(element(obs, 0)));
    seen.boundary.push_back(info.get_bool("task_boundary"));
    seen.step_in_trial.push_back(static_cast<std::int64_t>(element(obs, 1)));
  };
  const auto [obs, info] = env.reset(seed);
  record(obs, info);
  for (int i = 0; i < steps; ++i) {
    const StepResult r = env.step(Array::scalar<std::int64_t>(0));
    record(r.observation, r.info);
    if (r.terminated || r.truncated) {
      const auto [again, again_info] = env.reset();
      record(again, again_info);
    }
  }
  return seen;
}

std::vector<bool> boundaries_of(const std::vector<int>& tasks) {
  std::vector<bool> out;
  for (std::size_t i = 0; i < tasks.size(); ++i) out.push_back(i == 0 || tasks[i] != tasks[i - 1]);
  return out;
}

}  // namespace

TEST_CASE("Sequential schedule: one trial per task, switching only at trial ends", "[sequence]") {
  TaskSequence env(Kwargs{{"tasks", {counter(0), counter(1)}}});
  REQUIRE(env.observation_space().to_string() == "Box(-10.0, 10.0, (3,), float32)");
  REQUIRE(env.action_space().to_string() == "Discrete(2)");
  const Seen seen = run(env, 1, 12);
  // Trials of 3 steps: the observation after a trial's last step is the next task's.
  REQUIRE(seen.task == std::vector<int>{0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0});
  REQUIRE(seen.boundary == boundaries_of(seen.task));
  // A task resumes where it was left: at the start of its next trial, never mid-trial.
  REQUIRE(seen.step_in_trial == std::vector<std::int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0});

  // The switching step's reward, flags and info are the old task's; "trial" counts continue
  // across the pause (the task is resumed, not reset).
  env.reset(1);
  std::vector<std::int64_t> trials_of_task0;
  for (int i = 0; i < 12; ++i) {
    const std::int64_t before = env.current_task();
    const StepResult r = env.step(Array::scalar<std::int64_t>(1));
    REQUIRE(r.reward == 1.0);
    REQUIRE(r.info.get_int("task_id") == env.current_task());
    if (before == 0 && r.info.get_bool("new_trial"))
      trials_of_task0.push_back(r.info.get_int("trial"));
  }
  REQUIRE(trials_of_task0 == std::vector<std::int64_t>{0, 1});
}

TEST_CASE("Block schedules, NeuroGym's SequentialBlock and RandomBlock", "[sequence]") {
  SECTION("sequential blocks of 2 and 1 trials") {
    TaskSequence env(
        Kwargs{{"tasks", {counter(0, 2), counter(1, 2)}},
               {"schedule", {{"type", "SequentialBlock"}, {"block_lengths", {2, 1}}}}});
    const Seen seen = run(env, 0, 12);
    REQUIRE(seen.task == std::vector<int>{0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0});
  }
  SECTION("random blocks: lengths kept, never the same task twice in a row") {
    TaskSequence env(
        Kwargs{{"tasks", {counter(0, 1), counter(1, 1), counter(2, 1)}},
               {"schedule", {{"type", "random_block"}, {"block_lengths", {1, 2, 3}}}}});
    const Seen seen = run(env, 4, 300);
    std::vector<std::pair<int, int>> blocks;  // (task, length in trials)
    for (const int task : seen.task) {
      if (blocks.empty() || blocks.back().first != task) {
        blocks.push_back({task, 0});
      }
      ++blocks.back().second;
    }
    blocks.pop_back();  // the last block may be cut short by the end of the run
    std::set<int> visited;
    for (const auto& [task, length] : blocks) {
      REQUIRE(length == task + 1);
      visited.insert(task);
    }
    REQUIRE(visited.size() == 3);
  }
}

TEST_CASE("Random schedule: reproducible per seed, never repeats a task", "[sequence]") {
  const Kwargs kwargs = {{"tasks", {counter(0, 1), counter(1, 1), counter(2, 1), counter(3, 1)}},
                         {"schedule", "random"}};
  TaskSequence a(kwargs);
  TaskSequence b(kwargs);
  const Seen first = run(a, 7, 200);
  REQUIRE(run(b, 7, 200).task == first.task);
  REQUIRE(run(b, 8, 200).task != first.task);
  for (std::size_t i = 1; i < first.task.size(); ++i) REQUIRE(first.task[i] != first.task[i - 1]);
  std::map<int, int> counts;
  for (const int t : first.task) ++counts[t];
  for (int t = 0; t < 4; ++t) REQUIRE(counts[t] > 30);
  // The first task is drawn from all of them.
  std::set<int> first_tasks;
  for (std::uint64_t seed = 0; seed < 40; ++seed) first_tasks.insert(run(a, seed, 0).task[0]);
  REQUIRE(first_tasks.size() == 4);
}

TEST_CASE("Explicit schedules in steps, trials and episodes", "[sequence]") {
  SECTION("a block of steps ends at the first trial end after its steps") {
    Kwargs kwargs = Kwargs::parse(R"({"schedule": {"type": "explicit", "blocks": [
        {"task": 0, "steps": 4}, {"task": 1, "trials": 1}]}})");
    kwargs["tasks"] = {counter(0, 3), counter(1, 3)};
    TaskSequence env(kwargs);
    const Seen seen = run(env, 0, 12);
    REQUIRE(seen.task == std::vector<int>{0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0});
  }
  SECTION("without repeat the last task stays") {
    Kwargs kwargs = Kwargs::parse(R"({"schedule": {"type": "explicit", "repeat": false, "blocks": [
        {"task": 1, "trials": 2}, {"task": 0, "trials": 1}]}})");
    kwargs["tasks"] = {counter(0, 1), counter(1, 1)};
    TaskSequence env(kwargs);
    const Seen seen = run(env, 0, 8);
    REQUIRE(seen.task == std::vector<int>{1, 1, 0, 0, 0, 0, 0, 0, 0});
    REQUIRE(env.block_index() == 1);
  }
  SECTION("episode blocks switch at episode ends, the new task showing at reset") {
    Kwargs kwargs = Kwargs::parse(R"({"schedule": {"type": "explicit", "blocks": [
        {"task": 0, "episodes": 1}, {"task": 1, "episodes": 2}]}})");
    kwargs["tasks"] = {counter(0, 2, {{"episode_trials", 2}}),
                       counter(1, 2, {{"episode_trials", 1}})};
    TaskSequence env(kwargs);
    // Episode of task 0: 4 steps (2 trials of 2), the 4th terminal with task 0's observation;
    // then two 2-step episodes of task 1, then task 0 again.
    const Seen seen = run(env, 0, 8);
    REQUIRE(seen.task == std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0});
    REQUIRE(seen.boundary == std::vector<bool>{true, false, false, false, false, true, false, false,
                                               false, false, false, true});
  }
}

TEST_CASE("Episode-based tasks switch between episodes: CartPole variants", "[sequence]") {
  TaskSequence env(Kwargs{
      {"tasks", {"CartPole-v1", "CartPoleLongPole-v1"}},
      {"schedule", {{"type", "sequential_block"}, {"block_lengths", 2}, {"unit", "episode"}}}});
  env.reset(3);
  std::vector<std::int64_t> task_per_episode;
  for (int episode = 0; episode < 6; ++episode) {
    task_per_episode.push_back(env.current_task());
    StepResult r;
    do {
      r = env.step(Array::scalar<std::int64_t>(1));
      REQUIRE(r.info.get_int("task_id") == task_per_episode.back());
    } while (!r.terminated && !r.truncated);
    env.reset();
  }
  REQUIRE(task_per_episode == std::vector<std::int64_t>{0, 0, 1, 1, 0, 0});
}

TEST_CASE("One-hot task input and union bounds", "[sequence]") {
  TaskSequence env(Kwargs{{"tasks", {counter(0), counter(1), counter(2)}}, {"task_input", true}});
  const auto& box = dynamic_cast<const Box&>(env.observation_space());
  REQUIRE(box.shape() == Shape{6});
  REQUIRE(box.low() == std::vector<double>{-10, -10, -10, 0, 0, 0});
  REQUIRE(box.high() == std::vector<double>{10, 10, 10, 1, 1, 1});
  auto [obs, info] = env.reset(0);
  for (int i = 0; i < 9; ++i) {
    const auto values = obs.array().as<float>();
    const auto task = static_cast<std::size_t>(values[0]);
    for (std::size_t k = 0; k < 3; ++k) REQUIRE(values[3 + k] == (k == task ? 1.0F : 0.0F));
    obs = env.step(Array::scalar<std::int64_t>(0)).observation;
  }
  // Bounds of different Boxes are united.
  TaskSequence mixed(Kwargs{{"tasks", {"CartPole-v1", "CartPoleDomainShift-v1"}}});
  REQUIRE(mixed.observation_space().equals(make("CartPole-v1")->observation_space()));
}

TEST_CASE("Scenarios: what each hides and which action spaces it accepts", "[sequence]") {
  const Kwargs two_sizes = {counter(0, 3, {{"actions", 2}}), counter(1, 3, {{"actions", 4}})};
  SECTION("task-incremental: task id in info, union of actions") {
    TaskSequence env(Kwargs{{"tasks", two_sizes}});
    REQUIRE(env.action_space().to_string() == "Discrete(4)");
    REQUIRE(env.reset(0).info.get_int("task_id") == 0);
  }
  SECTION("domain-incremental: no task id, one action space, no task input") {
    TaskSequence env(Kwargs{{"tasks", {counter(0), counter(1)}}, {"scenario", "domain"}});
    const auto [obs, info] = env.reset(0);
    REQUIRE_FALSE(info.contains("task_id"));
    REQUIRE(info.contains("task_boundary"));
    REQUIRE_FALSE(env.step(Array::scalar<std::int64_t>(0)).info.contains("task_id"));
    REQUIRE_THROWS_WITH(
        TaskSequence(Kwargs{{"tasks", two_sizes}, {"scenario", "domain-incremental"}}),
        Catch::Contains("task 1") && Catch::Contains("Discrete(4)") &&
            Catch::Contains("domain-incremental tasks share one action space"));
    REQUIRE_THROWS_WITH(
        TaskSequence(Kwargs{
            {"tasks", {counter(0), counter(1)}}, {"scenario", "domain"}, {"task_input", true}}),
        Catch::Contains("hides"));
  }
  SECTION("class-incremental: the union of actions, outside actions replaced and charged") {
    Kwargs kwargs = Kwargs::parse(R"({"scenario": "class-incremental", "out_of_task_reward": -0.5,
        "schedule": {"type": "explicit", "blocks": [{"task": 0, "trials": 1},
                                                    {"task": 1, "trials": 1}]}})");
    kwargs["tasks"] = two_sizes;
    TaskSequence env(kwargs);
    REQUIRE(env.action_space().to_string() == "Discrete(4)");
    REQUIRE_FALSE(env.reset(0).info.contains("task_id"));
    // Task 0 knows actions 0 and 1: action 3 reaches it as action 0, with the charge.
    StepResult r = env.step(Array::scalar<std::int64_t>(3));
    REQUIRE(r.reward == -0.5);
    REQUIRE(r.info.get_bool("action_outside_task"));
    r = env.step(Array::scalar<std::int64_t>(1));
    REQUIRE(r.reward == 1.0);
    REQUIRE_FALSE(r.info.contains("action_outside_task"));
    env.step(Array::scalar<std::int64_t>(1));  // ends task 0's trial
    REQUIRE(env.current_task() == 1);
    r = env.step(Array::scalar<std::int64_t>(3));  // task 1 has 4 actions
    REQUIRE(r.reward == 3.0);
  }
}

TEST_CASE("Incompatible tasks and bad kwargs give clear errors", "[sequence]") {
  REQUIRE_THROWS_WITH(TaskSequence(Kwargs{{"tasks", {"CartPole-v1", "Pendulum-v1"}}}),
                      Catch::Contains("task 1 (Pendulum-v1)") && Catch::Contains("Box(") &&
                          Catch::Contains("same shape and dtype"));
  REQUIRE_THROWS_WITH(
      TaskSequence(Kwargs{{"tasks", {counter(0), "Pendulum-v1"}}}),
      Catch::Contains("action space") && Catch::Contains("other than Discrete must be equal"));
  REQUIRE_THROWS_WITH(TaskSequence(Kwargs{{"tasks", {"CartPol-v1"}}}),
                      Catch::Contains("cannot make task 0") && Catch::Contains("CartPole-v1"));
  REQUIRE_THROWS_WITH(TaskSequence(Kwargs{{"tasks", Kwargs::array()}}),
                      Catch::Contains("at least one task"));
  REQUIRE_THROWS_WITH(
      TaskSequence(Kwargs{{"schedule", "shuffled"}}),
      Catch::Contains("unknown schedule 'shuffled'") && Catch::Contains("random_block"));
  REQUIRE_THROWS_WITH(
      TaskSequence(Kwargs{{"schedule", {{"type", "sequential_block"}, {"block_lengths", {1, 2}}}}}),
      Catch::Contains("one block length per task (4"));
  REQUIRE_THROWS_WITH(
      TaskSequence(Kwargs::parse(
          R"({"schedule": {"type": "explicit", "blocks": [{"task": 9, "trials": 1}]}})")),
      Catch::Contains("names task 9"));
  REQUIRE_THROWS_WITH(TaskSequence(Kwargs::parse(R"({"schedule": {"type": "explicit",
                                     "blocks": [{"task": 0, "trials": 1, "steps": 2}]}})")),
                      Catch::Contains("exactly one of trials, episodes, steps"));
  REQUIRE_THROWS_WITH(TaskSequence(Kwargs{{"schedule", {{"type", "random"}, {"unit", "hour"}}}}),
                      Catch::Contains("unknown schedule unit 'hour'"));
  REQUIRE_THROWS_WITH(TaskSequence(Kwargs{{"task", "CartPole-v1"}}),
                      Catch::Contains("unknown argument key 'task'") && Catch::Contains("tasks"));
  REQUIRE_THROWS_WITH(
      TaskSequence(Kwargs{{"tasks", {"CartPole-v1", "Acrobot-v1"}}, {"task_input", true}}),
      Catch::Contains("task 1 (Acrobot-v1)"));
}

TEST_CASE("Variants of one task: Split Fashion-MNIST as class-incremental bandits", "[sequence]") {
  const Kwargs kwargs = {
      {"tasks",
       {{"id", "FashionMNISTBandit-v0"},
        {"kwargs", {{"stream", "split"}, {"scenario", "class"}}},
        {"variants", {{{"task", 0}}, {{"task", 1}}, {{"task", 2}}, {{"task", 3}}, {{"task", 4}}}}}},
      {"scenario", "class-incremental"},
      {"schedule", {{"type", "sequential_block"}, {"block_lengths", 5}}}};
  auto env = make("TaskSequence-v0", kwargs);
  auto& sequence = dynamic_cast<TaskSequence&>(env->unwrapped());
  REQUIRE(sequence.num_tasks() == 5);
  REQUIRE(env->action_space().to_string() == "Discrete(10)");
  env->reset(0);
  // Each bandit step is a trial: five images per task, then the next task's classes.
  for (int step = 0; step < 50; ++step) {
    const std::int64_t task = sequence.current_task();
    REQUIRE(task == (step / 5) % 5);
    const StepResult r = env->step(Array::scalar<std::int64_t>(0));
    const std::int64_t label = r.info.get_int("label");
    REQUIRE(label / 2 == task);
    REQUIRE(r.reward == (label == 0 ? 1.0 : 0.0));
    REQUIRE_FALSE(r.info.contains("task_id"));
  }
}

TEST_CASE("TaskSequence is deterministic and passes check_env", "[sequence][checker]") {
  const std::vector<Kwargs> configurations = {
      Kwargs::object(),  // the registered default: the CartPole domain-shift family
      {{"tasks", {counter(0, 2), counter(1, 3, {{"actions", 3}}), counter(2, 1)}},
       {"schedule", "random"},
       {"scenario", "class"}},
      {{"tasks", {counter(0, 2), counter(1, 3)}},
       {"task_input", true},
       {"schedule", {{"type", "random_block"}, {"block_lengths", {2, 3}}}}},
      {{"tasks",
        {{"id", "FashionMNISTBandit-v0"},
         {"kwargs", {{"stream", "rotated"}}},
         {"variants", {{{"task", 0}}, {{"task", 1}}, {{"task", 2}}}}}},
       {"scenario", "domain"},
       {"schedule", "random"}}};
  for (const auto& kwargs : configurations) {
    INFO(kwargs.dump());
    auto env = make("TaskSequence-v0", kwargs);
    const CheckResult result = check_env(env->unwrapped(), {.steps = 300});
    // CartPole's own observation space has infinite bounds, which the checker warns about (as
    // Gymnasium's does for CartPole itself); anything else would be the sequence's doing.
    std::vector<std::string> warnings = result.warnings;
    std::erase_if(warnings, [](const std::string& w) { return w.find("infinity") != w.npos; });
    CAPTURE(warnings);
    REQUIRE(warnings.empty());
  }
  // Same seed, same observations, rewards and task switches; another seed, another sequence.
  auto trajectory = [](std::uint64_t seed) {
    TaskSequence env(
        Kwargs{{"tasks", {counter(0, 2), counter(1, 2), counter(2, 2)}}, {"schedule", "random"}});
    std::vector<float> out;
    auto [obs, info] = env.reset(seed);
    for (int i = 0; i < 60; ++i) {
      const auto values = obs.array().as<float>();
      out.insert(out.end(), values.begin(), values.end());
      obs = env.step(Array::scalar<std::int64_t>(i % 2)).observation;
    }
    return out;
  };
  REQUIRE(trajectory(5) == trajectory(5));
  REQUIRE(trajectory(5) != trajectory(6));
}

TEST_CASE("CartPoleDomainShift-v1 at its defaults is CartPole-v1 bit for bit", "[domain_shift]") {
  auto reference = make("CartPole-v1");
  auto shifted = make("CartPoleDomainShift-v1");
  for (const std::uint64_t seed : {0, 42, 123}) {
    REQUIRE(reference->reset(seed).observation == shifted->reset(seed).observation);
    for (int step = 0;; ++step) {
      const auto action = Array::scalar<std::int64_t>(step % 3 == 0 ? 0 : 1);
      const StepResult a = reference->step(action);
      const StepResult b = shifted->step(action);
      REQUIRE(a.observation == b.observation);
      REQUIRE(dynamic_cast<CartPoleEnv&>(reference->unwrapped()).state() ==
              dynamic_cast<CartPoleEnv&>(shifted->unwrapped()).state());
      REQUIRE(a.reward == b.reward);
      REQUIRE(a.terminated == b.terminated);
      REQUIRE(a.truncated == b.truncated);
      if (a.terminated || a.truncated) break;
    }
  }
}

TEST_CASE("Domain-shift variants follow Gymnasium's dynamics with the changed attributes",
          "[domain_shift]") {
  // Golden values: gymnasium 1.4 CartPole-v1 with env.unwrapped.<attribute> set (and total_mass,
  // polemass_length recomputed as its constructor does), reset(seed=42), actions 0 on steps
  // 1, 4, 7, ... and 1 otherwise; observation after step 5, episode length.
  struct Case {
    std::string id;
    Kwargs kwargs;
    std::vector<double> after_5;
    int length;
  };
  const std::vector<Case> cases = {
      {"CartPoleLongPole-v1",
       Kwargs::object(),
       {0.02667788788676262, 0.1862671822309494, 0.03900685906410217, -0.096485435962677},
       27},
      {"CartPoleHeavyPole-v1",
       Kwargs::object(),
       {0.02628912404179573, 0.15876635909080505, 0.04081064090132713, -0.16956296563148499},
       21},
      {"CartPoleLowGravity-v1",
       Kwargs::object(),
       {0.026729967445135117, 0.18759125471115112, 0.039035551249980927, -0.24179115891456604},
       19},
      {"CartPoleDomainShift-v1",
       {{"gravity", 19.6}, {"force_mag", 5.0}, {"tau", 0.01}, {"masscart", 2.0}},
       {0.027063727378845215, 0.017250053584575653, 0.03795074671506882, 0.038540031760931015},
       86},
  };
  for (const auto& c : cases) {
    INFO(c.id << " " << c.kwargs.dump());
    auto env = make(c.id, c.kwargs);
    env->reset(42);
    int steps = 0;
    StepResult r;
    do {
      r = env->step(Array::scalar<std::int64_t>(steps % 3 == 0 ? 0 : 1));
      ++steps;
      if (steps == 5) {
        const auto obs = r.observation.array().as<float>();
        // float32 observations; libm and numpy may differ by an ulp in sin/cos.
        for (std::size_t i = 0; i < 4; ++i) REQUIRE(obs[i] == Approx(c.after_5[i]).margin(1e-6));
      }
    } while (!r.terminated && !r.truncated);
    REQUIRE(steps == c.length);
  }
  // Pendulum-v1 with g = 5 (Gymnasium's own kwarg): reset(seed=3), three steps of torque 0.5.
  auto pendulum = make("PendulumLowGravity-v1");
  pendulum->reset(3);
  StepResult r;
  for (int i = 0; i < 3; ++i) r = pendulum->step(Array::from_vector<float>({0.5F}));
  const auto obs = r.observation.array().as<float>();
  REQUIRE(obs[0] == Approx(-0.9105343818664551).margin(1e-6));
  REQUIRE(obs[1] == Approx(-0.41343334317207336).margin(1e-6));
  REQUIRE(obs[2] == Approx(-0.8446458578109741).margin(1e-6));
  REQUIRE(r.reward == Approx(-7.202220771365455).margin(1e-6));

  // The physics are checked, and CartPole-v1 itself still takes no physics kwargs (as Gymnasium).
  REQUIRE_THROWS_WITH(make("CartPoleDomainShift-v1", {{"length", -1.0}}),
                      Catch::Contains("'length' must be positive"));
  REQUIRE_THROWS_WITH(make("CartPoleDomainShift-v1", {{"mass", 1.0}}),
                      Catch::Contains("unknown argument 'mass'") && Catch::Contains("masspole"));
  REQUIRE_THROWS_WITH(make("CartPole-v1", {{"gravity", 1.0}}),
                      Catch::Contains("unknown argument 'gravity'"));
  REQUIRE(make("CartPoleLongPole-v1", {{"length", 2.0}})->spec()->kwargs["length"] == 2.0);
}

TEST_CASE("Cognitive tasks switch exactly where they report a trial end", "[sequence]") {
  // GoNoGo-v0 and PerceptualDecisionMaking-v0 report trial ends in info ("new_trial" as NeuroGym,
  // or "trial_ended"); the sequence must switch at those steps and nowhere else.
  TaskSequence env(
      Kwargs{{"tasks", {"GoNoGo-v0", "PerceptualDecisionMaking-v0"}}, {"scenario", "class"}});
  env.reset(0);
  int switches = 0;
  for (int step = 0; step < 400; ++step) {
    const std::int64_t before = env.current_task();
    StepResult r = env.step(Array::scalar<std::int64_t>(step % 2));
    const auto flag = [&](const char* key) { return r.info.contains(key) && r.info.get_bool(key); };
    const bool trial_end = r.terminated || r.truncated || flag("new_trial") || flag("trial_ended");
    if (r.terminated || r.truncated) {
      env.reset();
    }
    const bool switched = env.current_task() != before;
    REQUIRE(switched == trial_end);  // sequential over two tasks: every trial end switches
    switches += switched;
  }
  REQUIRE(switches > 10);
}
