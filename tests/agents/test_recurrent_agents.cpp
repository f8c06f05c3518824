// Recurrent policies: memory where a feed-forward policy has none, every algorithm and head on
// every recurrent body, results independent of the thread count, and exact resumption.

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "agents/agent.hpp"
#include "agents/runner.hpp"

using namespace locus::agents;
namespace fs = std::filesystem;

namespace {

// PPO on GoNoGo-v0 in NeuroGym's endless mode: trials follow one another in 1000-step episodes,
// and the cue (stimulus period) is gone by the decision period, 500 ms of delay later.
AgentConfig gonogo_ppo(PolicyType policy) {
  AgentConfig c;
  c.env = "GoNoGo-v0";
  c.agent = Algorithm::kPpo;
  c.policy = policy;
  c.hidden = {64};
  c.seed = 1;
  c.num_envs = 8;
  c.rollout_steps = 64;
  c.learning_rate = 1e-3f;
  return c;
}

double trained_success(const AgentConfig& config, std::size_t steps) {
  Agent agent(config);
  while (agent.steps() < steps) agent.update();
  return agent.evaluate(4).success_rate;  // four 1000-step episodes, ~270 trials
}

}  // namespace

TEST_CASE("a recurrent policy holds the GoNoGo cue through the delay, a feed-forward one cannot",
          "[agents][recurrent][learning]") {
  // Without memory the decision period looks the same on Go and No-Go trials: the best a
  // feed-forward policy can do is one response to both, about half the trials correct.
  const double gru = trained_success(gonogo_ppo(PolicyType::kGru), 60000);
  const double mlp = trained_success(gonogo_ppo(PolicyType::kMlp), 60000);
  INFO("correct trials (greedy): gru " << gru << ", mlp " << mlp);
  CHECK(gru >= 0.9);
  CHECK(mlp < 0.7);
}

TEST_CASE("every algorithm and action head learns on every recurrent body", "[agents][recurrent]") {
  for (const PolicyType policy : {PolicyType::kRnn, PolicyType::kGru, PolicyType::kLstm}) {
    for (const Algorithm algorithm : {Algorithm::kA2c, Algorithm::kPpo, Algorithm::kReinforce}) {
      for (const std::string env : {"CartPole-v1", "Pendulum-v1"}) {
        AgentConfig config;
        config.env = env;
        config.agent = algorithm;
        config.policy = policy;
        config.network =
            policy == PolicyType::kGru ? NetworkMode::kModulated : NetworkMode::kTrainable;
        config.hidden = {16, 8};
        config.num_envs = 4;
        config.rollout_steps = 8;
        config.minibatches = 2;
        INFO(to_string(policy) << " " << to_string(algorithm) << " " << env);
        Agent agent(config);
        CHECK(agent.recurrent());
        const auto before = flat_parameters(agent.network());
        const UpdateStats stats = agent.update();
        CHECK(std::isfinite(stats.loss));
        CHECK(stats.gradient_norm > 0.0);
        CHECK(flat_parameters(agent.network()) != before);
        CHECK(std::isfinite(agent.evaluate(1).mean_return));
      }
    }
  }
}

TEST_CASE("recurrent agents give the same results whatever the number of threads",
          "[agents][recurrent][parallel]") {
  std::vector<AgentConfig> configs;
  for (const PolicyType policy : {PolicyType::kGru, PolicyType::kLstm, PolicyType::kRnn}) {
    AgentConfig c = gonogo_ppo(policy);
    c.hidden = {32};
    c.rollout_steps = 16;
    c.seed = 40 + static_cast<std::uint64_t>(policy);
    c.agent = policy == PolicyType::kLstm ? Algorithm::kA2c : Algorithm::kPpo;
    c.modulation = Modulation::kDopamineNoradrenaline;
    if (policy == PolicyType::kGru) {
      // Change flags at about every other update after the signal's 20-update warmup: contexts
      // are scored over the rollout and switched.
      c.rollout_steps = 4;
      c.contexts = ContextPolicy::kOnChange;
      c.na_change_threshold = 0.01f;
      c.na_refractory = 0;
    }
    configs.push_back(c);
  }
  const auto one = train_agents(configs, 1024, 2, 1);
  const auto two = train_agents(configs, 1024, 2, 2);
  for (std::size_t i = 0; i < configs.size(); ++i) {
    CHECK(one[i].parameters == two[i].parameters);
    for (std::size_t u = 0; u < one[i].history.size(); ++u) {
      CHECK(one[i].history[u].loss == two[i].history[u].loss);
    }
  }
  CHECK(one[0].parameters != one[2].parameters);
  CHECK(one[0].history.back().contexts > 1);
}

TEST_CASE("a recurrent agent's checkpoint resumes exactly", "[agents][recurrent][checkpoint]") {
  for (const Algorithm algorithm : {Algorithm::kA2c, Algorithm::kPpo}) {
    AgentConfig config = gonogo_ppo(PolicyType::kLstm);
    config.agent = algorithm;
    config.hidden = {16};
    config.rollout_steps = 16;
    config.minibatches = 2;
    const fs::path dir = fs::temp_directory_path() / "locus_agents_test_recurrent_roundtrip";
    fs::create_directories(dir);
    Agent uninterrupted(config);
    for (int u = 0; u < 3; ++u) uninterrupted.update();
    uninterrupted.save(dir / "checkpoint.bin");
    if (!uninterrupted.saves_episodes()) uninterrupted.begin_segment();
    Agent resumed = Agent::load(dir / "checkpoint.bin");
    CHECK(resumed.config().policy == PolicyType::kLstm);
    CHECK(flat_parameters(resumed.network()) == flat_parameters(uninterrupted.network()));
    for (int u = 0; u < 3; ++u) {
      const UpdateStats a = uninterrupted.update();
      const UpdateStats b = resumed.update();
      CHECK(a.loss == b.loss);
      CHECK(a.trials_correct == b.trials_correct);
    }
    CHECK(flat_parameters(resumed.network()) == flat_parameters(uninterrupted.network()));
    fs::remove_all(dir);
  }
}
