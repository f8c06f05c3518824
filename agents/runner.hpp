#pragma once
// Many agents at once: each agent (an independent seed or configuration) is one task in a single
// TBB arena, so the machine is shared without oversubscription: an agent's VectorEnv runs serially
// (num_threads 1) and its network's TBB loops nest inside the same arena. An agent touches only
// its own state, so the results are identical whatever the number of threads.

#include <cstddef>
#include <functional>
#include <vector>

#include "agents/agent.hpp"

namespace locus::agents {

// Calls body(i) for every i in [0, count) in an arena of `threads` threads (0: every core).
// Exceptions thrown by a body propagate to the caller.
void run_parallel(std::size_t count, std::size_t threads,
                  const std::function<void(std::size_t)>& body);

struct TrainedAgent {
  AgentConfig config;
  std::vector<UpdateStats> history;  // one entry per update
  EvalResult evaluation;
  std::vector<float> parameters;  // every parameter of every context, in parameters() order
};

// Trains each config for `steps` environment steps (whole updates) and evaluates it greedily on
// `eval_episodes` episodes, `threads` agents at a time.
std::vector<TrainedAgent> train_agents(const std::vector<AgentConfig>& configs, std::size_t steps,
                                       std::size_t eval_episodes, std::size_t threads);

// All parameters of a network, concatenated in parameters() order (for equality checks).
std::vector<float> flat_parameters(const neuromod::Network& network);

}  // namespace locus::agents
