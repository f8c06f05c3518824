#pragma once
// Agent: an actor-critic learner (A2C, PPO or REINFORCE with a baseline) stepping its own
// VectorEnv with a policy made of two parts:
//  - a body (policy/body.hpp): the network (neuromod/network.hpp), feed-forward or recurrent, with
//    a "policy" and a "value" head; a recurrent body carries each env's state across steps;
//  - an action head (policy/action_head.hpp): categorical for Discrete action spaces, Gaussian for
//    float32 Boxes (a learned state-independent log std; actions clipped to the bounds when sent).
// Rollout collection, advantage estimation and the losses (losses.hpp) are written once against
// those two interfaces.
//
//   AgentConfig config;  config.env = "GoNoGo-v0";  config.agent = Algorithm::kPpo;
//   config.policy = PolicyType::kGru;  config.hidden = {128};
//   Agent agent(config);
//   while (agent.steps() < 100000) UpdateStats stats = agent.update();
//   EvalResult eval = agent.evaluate(100);
//   agent.save("run/checkpoint.bin");   Agent again = Agent::load("run/checkpoint.bin");
//
// One update collects rollout_steps x num_envs transitions (Gymnasium's SameStep autoreset, so a
// truncated episode bootstraps from the value of its final observation), forms advantages and
// critic targets, and learns:
//  - modulation none: discounted returns minus the value baseline, computed directly;
//  - da and da+na: the dopamine signal's GAE over its TD errors delta (neuromod/dopamine.hpp); the
//    deltas of the first trace_envs envs are kept as a per-step trace (dopamine_trace());
//  - da+na: each rollout's surprise (mean |delta|) or policy entropy drives the noradrenaline gain
//    on the policy head (sharper or flatter policy); its change flag can switch the network
//    context (ContextPolicy::kOnChange): the stored context whose TD errors on the rollout are
//    smallest is reused if they are below context_reuse_ratio times the current context's, else a
//    new context is opened as a copy of the current one.
// A recurrent policy learns by backpropagation through the rollout from the state stored at its
// first step (A2C and REINFORCE: all envs at once; PPO: minibatches of whole env sequences, their
// states recomputed at every epoch); an episode start inside the rollout zeroes the state there.
//
// The network's own optimizer (Network::step, PyTorch's rules, global gradient-norm clip) learns
// its parameters, so a checkpoint holds its state; the action head's own tensors (log std) have an
// optimizer state kept here, clipped on their own norm.
//
// Segments: begin_segment() resets every env with a seed derived from the agent's seed and the
// update count, dropping unfinished episodes. The constructor calls it. A checkpoint of an agent
// whose envs can save their state (every C++ env) holds the envs and the episodes in progress, so
// load() continues them; otherwise load() begins a new segment, and a training run calls
// begin_segment() after each checkpoint so that a resumed run equals the uninterrupted one.
//
// Not thread-safe; many agents run in parallel, one per worker (runner.hpp). Results depend only
// on the config, never on the number of threads.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "agents/config.hpp"
#include "agents/observation_encoder.hpp"
#include "agents/policy/action_head.hpp"
#include "agents/policy/body.hpp"
#include "agents/random.hpp"
#include "envs/vector_env.hpp"
#include "neuromod/dopamine.hpp"
#include "neuromod/network.hpp"
#include "neuromod/noradrenaline.hpp"

namespace locus::agents {

struct UpdateStats {
  std::size_t update = 0;  // 1-based count of updates so far
  std::size_t steps = 0;   // environment steps so far (all envs)
  double loss = 0.0, policy_loss = 0.0, value_loss = 0.0, entropy = 0.0;
  double approx_kl = 0.0, clip_fraction = 0.0;  // PPO
  double gradient_norm = 0.0;
  std::vector<double> episode_returns;  // episodes that ended during this update
  std::vector<std::size_t> episode_lengths;
  std::size_t trials_ended = 0, trials_correct = 0;  // tasks with info["correct"] (cognitive)
  double mean_delta = 0.0, mean_abs_delta = 0.0;     // dopamine (0 with modulation none)
  float gain = 1.0f;                                 // noradrenaline gain after the update
  bool change = false;                               // a change was flagged during the update
  std::int32_t context = 0;                          // the context in use after the update
  std::size_t contexts = 1;
};

// One transition of a traced env.
struct DopamineSample {
  std::size_t update = 0;
  std::size_t step = 0;  // environment steps of the agent before this transition
  std::size_t env = 0;
  std::int64_t step_in_trial = 0;  // 0 at the first step of a trial (or episode)
  std::int64_t ground_truth = -1;  // info["ground_truth"] of the trial, -1 if the task has none
  std::int64_t action = 0;         // discrete actions only
  float reward = 0.0f, value = 0.0f, next_value = 0.0f, delta = 0.0f;
  bool terminated = false, truncated = false, trial_ended = false;
};

struct GainSample {
  std::size_t update = 0;
  std::size_t observation = 0;  // 1-based count of noradrenaline observations
  double input = 0.0, z = 0.0;
  float gain = 1.0f;
  bool change = false;
  std::int32_t context = 0;  // after the change was handled
};

struct EvalResult {
  std::size_t episodes = 0;
  double mean_return = 0.0, std_return = 0.0, mean_length = 0.0;
  std::size_t trials = 0, trials_correct = 0;
  // Correct trials / trials for tasks with trials; else the share of episodes reaching the env's
  // reward threshold; NaN when neither is defined.
  double success_rate = 0.0;
};

// Reads a checkpoint's state record field by field (agent.cpp).
class StateReader;

class Agent {
 public:
  explicit Agent(const AgentConfig& config);
  ~Agent();
  Agent(Agent&&) noexcept;
  Agent& operator=(Agent&&) noexcept;

  UpdateStats update();
  // Greedy policy (arg-max or mean) on `episodes` fresh episodes of separate envs seeded `seed`
  // (default: derived from the agent's seed); changes nothing in the agent.
  EvalResult evaluate(std::size_t episodes, std::optional<std::uint64_t> seed = std::nullopt);
  void begin_segment();

  // With a known task id: select its context, creating it (a copy of the current one) on first use.
  void select_task(std::int64_t task_id);

  void save(const std::filesystem::path& path) const;
  // `precision`, when given, replaces the saved config's matmul precision: the arithmetic changes,
  // the learned state does not (e.g. to resume a bfloat16 run on a CPU without AVX512-BF16).
  static Agent load(const std::filesystem::path& path,
                    std::optional<neuromod::MatmulPrecision> precision = std::nullopt);

  const AgentConfig& config() const { return config_; }
  std::size_t steps() const { return steps_; }
  std::size_t updates() const { return updates_; }
  neuromod::Network& network() { return *network_; }
  const neuromod::Network& network() const { return *network_; }
  envs::VectorEnv& env() { return env_; }
  const neuromod::DopamineSignal& dopamine() const { return dopamine_; }
  const neuromod::NoradrenalineSignal* noradrenaline() const {
    return noradrenaline_ ? &*noradrenaline_ : nullptr;
  }
  bool discrete() const { return head_->classes() > 0; }
  bool recurrent() const { return body_->recurrent(); }
  // The Gaussian head's log standard deviations (empty for a categorical policy).
  std::vector<float> log_std() const;
  // Whether checkpoints hold the envs' state and the episodes in progress (every env supports
  // state saving): then a run need not cut episodes at checkpoints.
  bool saves_episodes() const;
  // Episode returns and trial outcomes (1 correct, 0 not) of the last kRecentWindow of each (what a
  // checkpoint holds, and at most what it may hold).
  static constexpr std::size_t kRecentWindow = 100;
  const std::deque<double>& recent_returns() const { return recent_returns_; }
  const std::deque<int>& recent_trials() const { return recent_trials_; }
  std::size_t episodes() const { return episodes_; }
  std::size_t na_changes() const { return na_changes_; }

  // The trained policy on observations from outside its envs (locus.load(...).predict): the
  // memory of `batch` streams of observations between calls.
  struct Prediction {
    std::vector<float> inputs;  // (batch, input_dim): each stream's frame stack
    RecurrentState state;       // each stream's recurrent state (recurrent bodies)
    AgentRandom random;         // draws the actions that are not deterministic
  };
  Prediction start_prediction(std::size_t batch, std::uint64_t seed) const;
  // One action per stream into `actions` (batch * action_width() floats: a Discrete action's
  // index, a Box action as the head gives it, unclipped) for `observations`, the streams' next
  // observations packed one after another as the env's observation space packs one;
  // episode_starts[i] != 0 where stream i's observation begins an episode (its memory is cleared
  // first). Greedy (arg-max, mean) when `deterministic`, else drawn from `memory.random`. Nothing
  // of the agent changes. Throws InvalidArgumentError on sizes that do not fit.
  void predict(std::span<const std::byte> observations,
               std::span<const std::uint8_t> episode_starts, bool deterministic, Prediction& memory,
               std::span<float> actions);
  std::size_t action_width() const;

  // A gradient beside the RL loss's, for continual-learning methods that live outside agents/ (an
  // EWC penalty, a replay's distillation term): called with the network after every minibatch's
  // backward() and before its step(), so the optimizer and its clip see the sum. It may run its
  // own forward() and backward() passes (backward accumulates). Empty: none.
  using GradientHook = std::function<void(neuromod::Network&)>;
  void set_gradient_hook(GradientHook hook) { gradient_hook_ = std::move(hook); }
  // The network input rows of the last update's rollout, time-major (row t * num_envs + e): the
  // observations the policy acted on (encoded, frame-stacked). Empty before the first update.
  const neuromod::Matrix& rollout_inputs() const;

  // Traces recorded since the last take_* call (the run directory streams them to CSV).
  std::vector<DopamineSample> take_dopamine_trace();
  std::vector<GainSample> take_gain_trace();

 private:
  struct Rollout;
  struct HeadOptimizerState {
    std::vector<float> first, second;
    std::int64_t steps = 0;
  };
  // Per-env bookkeeping of the episodes in progress.
  struct Episodes {
    std::vector<float> inputs;         // (num_envs, input_dim): the next step's network inputs
    RecurrentState state;              // the body's state of each env (recurrent bodies)
    std::vector<std::uint8_t> starts;  // the next observation begins an episode
    std::vector<double> returns;
    std::vector<std::size_t> lengths;
    std::vector<std::int64_t> step_in_trial, ground_truth;
  };

  void collect(Rollout& rollout, UpdateStats& stats);
  // Step t of the rollout: the policy's outputs, sampled actions, the envs stepped.
  void act(Rollout& rollout, std::size_t t);
  // The next values of step t's truncated episodes, from their final observations.
  void value_truncated_episodes(Rollout& rollout, std::size_t t);
  // Bookkeeping of env i after a step of the rollout (row `row`): returns, trials, trace.
  void record_transition(Rollout& rollout, std::size_t i, std::size_t row, UpdateStats& stats);
  void advantages(Rollout& rollout, UpdateStats& stats);
  void modulate(Rollout& rollout, UpdateStats& stats);
  void handle_change(Rollout& rollout);
  struct Loss;
  Loss learn_batch(const Rollout& rollout, const Minibatch& batch, bool ppo);
  void learn(Rollout& rollout, UpdateStats& stats);
  double optimizer_step();
  neuromod::NoradrenalineConfig noradrenaline_config() const;
  // Checkpoints (agent_checkpoint.cpp).
  void restore_state(const StateReader& reader);
  void restore_head_state(const StateReader& reader);
  void restore_episodes(const StateReader& reader);
  nlohmann::json episodes_state() const;
  static Agent load_body(const std::filesystem::path& path, const std::string& data,
                         std::uint64_t header_size,
                         std::optional<neuromod::MatmulPrecision> precision);

  AgentConfig config_;
  envs::VectorEnv env_;
  ObservationEncoder encoder_;
  std::unique_ptr<ActionHead> head_;
  std::unique_ptr<neuromod::Network> network_;
  std::unique_ptr<PolicyBody> body_;
  neuromod::DopamineSignal dopamine_;
  std::optional<neuromod::NoradrenalineSignal> noradrenaline_;
  neuromod::OptimizerConfig optimizer_;
  std::map<std::string, HeadOptimizerState> head_optimizer_state_;
  AgentRandom random_;

  std::size_t steps_ = 0, updates_ = 0, episodes_ = 0, na_changes_ = 0;
  Episodes running_;
  std::deque<double> recent_returns_;
  std::deque<int> recent_trials_;
  std::vector<std::pair<double, std::size_t>> na_inputs_;  // (x, classes): replayed by load()
  std::map<std::int64_t, std::int32_t> task_contexts_;
  std::vector<DopamineSample> dopamine_trace_;
  std::vector<GainSample> gain_trace_;
  std::unique_ptr<Rollout> rollout_;
  GradientHook gradient_hook_;
};

}  // namespace locus::agents
