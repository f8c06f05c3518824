#pragma once
// RlLearner: an agent of agents/ (A2C, PPO or REINFORCE; modulation none, da or da+na; a trainable
// or a modulated network) trained through a sequence of RL tasks, as a bench::Learner, so the
// harness measures forgetting and the stability gap of agents the same way as of supervised
// learners.
//
//   train_step()   one agent update: a rollout of rollout_steps x num_envs transitions and the
//                  optimizer step(s) (PPO: ppo_epochs x minibatches)
//   evaluate(j)    the greedy policy (arg-max, or the clipped mean of a Gaussian policy) on
//                  eval_episodes fresh episodes of task j, env i seeded eval_seed + i, every time
//                  the same episodes. score "success": correct trials / trials (tasks whose info
//                  has "correct" when a trial ends: the cognitive tasks); score "return": mean
//                  episode return / return_scale (CartPole: 500, so 1 is a perfect balance).
//                  It runs on its own envs, reads the network with a forward pass only (which
//                  overwrites activations that the next update recomputes first) and never touches
//                  the agent's random stream, optimizer state, gain or envs, so training after an
//                  evaluation is bit-identical to training without it (tested).
//   begin_task(k)  switches the agent's envs to task k and starts a fresh segment of episodes
//                  (Agent::begin_segment); with contexts: task_id the agent selects task k's
//                  context first (a copy of the current one on first use), so a modulated network
//                  keeps one context per task.
//
// The agent's envs: one env (TaskSwitch-v0, envs/sequences/task_switch.hpp) that
// holds every task of the sequence and shows the one selected by the learner. Observations (1-D
// float32 Box in every task) are padded with zeros to the largest task's size, and optionally end
// with a one-hot task id (task_input); every task must have the same action space. The tasks keep
// their own time limits and info (trial_ended, correct, ...).
//
// Continual-learning methods (rl_continual.hpp): with ewc_lambda > 0 or replay_memory > 0 the
// learner keeps each finished task's states, and adds EWC's penalty and replay's distillation to
// every minibatch's gradient through the agent's gradient hook (trainable feed-forward policies
// with one context only).
//
// Evaluation with contexts: task_id uses task j's context; a task not begun yet (the initial
// evaluation, the accuracy matrix's unseen tasks) and the other context policies use the context
// the agent has selected now.

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agents/agent.hpp"
#include "agents/config.hpp"
#include "bench/harness/continual.hpp"
#include "bench/harness/methods/rl_continual.hpp"
#include "bench/harness/task_list.hpp"

namespace locus::bench {

// One task of an RL sequence: a registered env id and its make() kwargs.
using RlTask = ScenarioTask;

enum class RlScore { kSuccess, kReturn };
std::string_view rl_score_name(RlScore score);  // "success", "return"
RlScore rl_score_from_name(std::string_view name);

// The scenario of an RL sweep (the sweep config's `scenario:` mapping with kind: rl).
struct RlScenario {
  std::vector<RlTask> tasks;
  nlohmann::json env_kwargs = nlohmann::json::object();  // merged under every task's own kwargs
  bool task_input = false;  // append a one-hot task id to the observation
  RlScore score = RlScore::kSuccess;
  double return_scale = 500.0;  // score return: mean return / return_scale
  std::int64_t eval_episodes = 32;
  std::uint64_t eval_seed = 1000003;

  // Throws InvalidArgumentError naming the bad value.
  void validate() const;
  // Keys: kind (must be "rl"), tasks (a list of "Id-vN" or {id, kwargs}), env_kwargs, task_input,
  // score, return_scale, eval_episodes, eval_seed. Unknown keys throw, listing the allowed ones.
  static RlScenario from_json(const nlohmann::json& json);
  nlohmann::json to_json() const;  // with kind: rl, every key written
};

struct RlConfig {
  RlScenario scenario;
  agents::AgentConfig agent;    // env and env_kwargs are the learner's (its task-switching env)
  RlContinualConfig continual;  // EWC and replay across the tasks (off by default)
};

class RlLearner final : public Learner {
 public:
  explicit RlLearner(const RlConfig& config);
  ~RlLearner() override;

  std::int64_t num_tasks() const override;
  void begin_task(std::int64_t task) override;
  TrainStep train_step() override;
  double evaluate(std::int64_t task) override;
  std::int64_t parameter_count() const override;
  std::int64_t bytes_per_task() const override;
  // The noradrenaline gain (modulation da+na); none otherwise.
  std::optional<double> gain() const override;

  const agents::Agent& agent() const { return *agent_; }
  agents::Agent& agent() { return *agent_; }

 private:
  struct Evaluator;
  Evaluator& evaluator(std::int64_t task);  // task's, built on first use
  neuromod::ContextId evaluation_context(std::int64_t task) const;

  RlConfig config_;
  std::unique_ptr<agents::Agent> agent_;
  std::vector<std::optional<neuromod::ContextId>> task_contexts_;  // contexts: task_id
  std::vector<std::unique_ptr<Evaluator>> evaluators_;             // per task, built on first use
  std::unique_ptr<RlContinualMethods> continual_;                  // EWC and replay, when on
  std::int64_t task_ = -1;
};

// The settings of an RL run (keys of a sweep's defaults, methods and grid with scenario kind rl):
// iterations_per_task, eval_every, gap_epsilon, gap_window, the continual methods' keys
// (ewc_lambda, ewc_online, ewc_gamma, ewc_samples, replay_memory, replay_batch, replay_kl_weight,
// replay_value_weight) and every AgentConfig key except env, env_kwargs and seed. Throws
// InvalidArgumentError for an unknown key or a bad value.
RlConfig rl_config(const nlohmann::json& scenario, const nlohmann::json& settings,
                   std::uint64_t seed);
// Whether `key` is an RL run setting, and the list of them (for error messages and help).
bool is_rl_setting(const std::string& key);
std::string rl_setting_names();
std::string rl_settings_help();

}  // namespace locus::bench
