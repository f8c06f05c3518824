// cognitive_allocation_check: the cognitive tasks step without touching the heap. Each task (with
// and without noise, endless and one trial per episode) is made with make(), warmed up, then
// stepped with random actions, resetting when an episode ends, while operator new is counted; the
// same for a VectorEnv of GoNoGo-v0 with autoreset. Exit status 0 when nothing was allocated, 1
// otherwise (naming the case). A program of its own, because it replaces the global operator new.
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "envs/registry.hpp"
#include "envs/vector_env.hpp"
#include "util/counting_new.hpp"

namespace {

using locus::envs::Kwargs;
using locus::util::AllocationCounter;

// Steps `env` `steps` times with random actions (drawn beforehand), resetting at episode ends.
long allocations_while_stepping(locus::envs::Env& env, int steps, std::uint64_t seed) {
  std::vector<std::byte> obs(env.observation_space().packed_bytes());
  std::vector<std::byte> action(env.action_space().packed_bytes());
  std::vector<std::vector<std::byte>> actions(1024, action);
  env.action_space().seed(seed);
  for (auto& a : actions) env.action_space().sample_packed(a);
  locus::envs::Info info;
  env.reset(obs, info, seed);
  const auto run = [&] {
    for (int t = 0; t < steps; ++t) {
      const auto out = env.step(actions[static_cast<std::size_t>(t) % actions.size()], obs, info);
      if (out.terminated || out.truncated) env.reset(obs, info);
    }
  };
  run();  // warm-up: every info key and outcome once, the Info's storage grown
  const AllocationCounter counter;
  run();
  return counter.count();
}

}  // namespace

int main() {
  struct Case {
    std::string id;
    Kwargs kwargs;
  };
  const std::vector<Case> cases = {
      {"GoNoGo-v0", Kwargs::object()},
      {"GoNoGo-v0", {{"sigma", 1.0}, {"trials_per_episode", 1}}},
      {"GoNoGo-v0", {{"timing", {{"fixation", 200}, {"delay", {"uniform", {200, 800}}}}}}},
      {"SetShiftGoNoGo-v0", {{"switch_after_trials", 5}}},
      {"SetShiftGoNoGo-v0", {{"switch_after_correct", 3}, {"trials_per_episode", 1}}},
      {"ReversalBandit-v0", {{"block_length", 5}, {"block_length_max", 9}}},
      {"ReversalBandit-v0", {{"sigma", 0.5}, {"trials_per_episode", 3}}},
      {"PerceptualDecisionMaking-v0", Kwargs::object()},
      {"PerceptualDecisionMaking-v0", {{"trials_per_episode", 1}, {"dim_ring", 4}}},
      {"DelayMatchSample-v0", Kwargs::object()},
      {"ContextDecisionMaking-v0", Kwargs::object()},
      {"ContextDecisionMaking-v0", {{"use_expl_context", true}, {"trials_per_episode", 2}}},
  };
  // The counter itself works: a vector that grows is seen.
  long probe_allocations = 0;
  {
    const AllocationCounter counter;
    std::vector<int>* volatile probe = new std::vector<int>(100);
    probe_allocations = counter.count();
    delete probe;
  }
  if (probe_allocations < 2) {
    std::cerr << "cognitive_allocation_check: the allocation counter saw nothing\n";
    return 1;
  }
  int failures = 0;
  try {
    for (const auto& c : cases) {
      auto env = locus::envs::make(c.id, c.kwargs);
      const long allocations = allocations_while_stepping(*env, 20000, 7);
      std::cout << (allocations == 0 ? "ok    " : "FAIL  ") << c.id << ' ' << c.kwargs.dump()
                << ": " << allocations << " allocations in 20000 steps\n";
      failures += allocations != 0;
    }
    auto vec = locus::envs::make_vec("GoNoGo-v0", 64, Kwargs::object(), {.num_threads = 1});
    std::vector<std::int64_t> actions(64);
    vec.reset(3);
    const auto run = [&] {
      for (int t = 0; t < 2000; ++t) {
        for (std::size_t i = 0; i < actions.size(); ++i) actions[i] = (t * 7 + i * 3) % 5 == 0;
        vec.step(actions);
      }
    };
    run();
    long allocations = 0;
    {
      const AllocationCounter counter;
      run();
      allocations = counter.count();
    }
    std::cout << (allocations == 0 ? "ok    " : "FAIL  ")
              << "VectorEnv GoNoGo-v0 x 64, autoreset: " << allocations
              << " allocations in 2000 vector steps\n";
    failures += allocations != 0;
  } catch (const std::exception& error) {
    std::cerr << "cognitive_allocation_check: " << error.what() << '\n';
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
