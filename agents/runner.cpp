#include "agents/runner.hpp"

#include <tbb/task_arena.h>

#include "util/parallel.hpp"

namespace locus::agents {

void run_parallel(std::size_t count, std::size_t threads,
                  const std::function<void(std::size_t)>& body) {
  tbb::task_arena arena(threads == 0 ? tbb::task_arena::automatic : static_cast<int>(threads));
  util::run_chunks(arena, count, 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) body(i);
  });
}

std::vector<float> flat_parameters(const neuromod::Network& network) {
  std::vector<float> out;
  for (const auto& info : network.parameters()) {
    const auto values = network.read_parameter(info.name, info.context);
    out.insert(out.end(), values.begin(), values.end());
  }
  return out;
}

std::vector<TrainedAgent> train_agents(const std::vector<AgentConfig>& configs, std::size_t steps,
                                       std::size_t eval_episodes, std::size_t threads) {
  std::vector<TrainedAgent> results(configs.size());
  run_parallel(configs.size(), threads, [&](std::size_t i) {
    Agent agent(configs[i]);
    TrainedAgent& result = results[i];
    result.config = configs[i];
    while (agent.steps() < steps) result.history.push_back(agent.update());
    if (eval_episodes > 0) result.evaluation = agent.evaluate(eval_episodes);
    result.parameters = flat_parameters(agent.network());
  });
  return results;
}

}  // namespace locus::agents
