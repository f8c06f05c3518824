#pragma once
// The environment-throughput benchmarks of bench/perf (bench_envs.cpp: CartPole-v1,
// bench_cognitive.cpp: GoNoGo-v0), written once: one env with make()'s wrapper stack and raw, and a
// VectorEnv of many envs, in env-steps per second, printed as JSON for the run_*_bench.py drivers.
//
// Method, identical for the peers: actions are drawn before the clock starts (so sampling is not
// timed), one untimed warm-up run, then timed runs of a fixed number of steps until `repeats` clean
// ones are in (measurement.hpp says which are clean); the median is the figure. A vector env's
// figure counts env-steps: num_envs x vector steps.

#include <tbb/info.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "envs/registry.hpp"
#include "envs/rng.hpp"
#include "envs/vector_env.hpp"
#include "measurement.hpp"

namespace locus::bench_perf {

struct EnvBenchOptions {
  int repeats = 7;
  std::int64_t single_steps = 2'000'000;  // per repeat
  std::int64_t vector_steps = 5'000;      // vector steps per repeat
  std::int64_t num_envs = 1024;
  std::size_t grain_size = 0;  // 0: VectorEnv's default
  std::string threads = "1,all";
  std::string filter;
  std::string json_path;
  std::uint64_t seed = 0;
};

// The options every env benchmark takes (a benchmark may add its own, e.g. --grain-size).
inline void add_env_bench_options(CLI::App& app, EnvBenchOptions& options) {
  app.add_option("--repeats", options.repeats, "timed repeats per benchmark")
      ->check(CLI::PositiveNumber);
  app.add_option("--single-steps", options.single_steps, "env steps per repeat, single env")
      ->check(CLI::PositiveNumber);
  app.add_option("--vector-steps", options.vector_steps, "vector steps per repeat")
      ->check(CLI::PositiveNumber);
  app.add_option("--num-envs", options.num_envs, "envs in the vector env")
      ->check(CLI::PositiveNumber);
}

inline void add_env_bench_output_options(CLI::App& app, EnvBenchOptions& options) {
  app.add_option("--threads", options.threads,
                 "comma-separated thread counts for the vector env; "
                 "'all' is TBB's default concurrency");
  app.add_option("--filter", options.filter, "run only benchmarks whose name contains this");
  app.add_option("--json", options.json_path, "write the JSON here instead of stdout");
  app.add_option("--seed", options.seed, "seed of the envs and of the action table");
}

// A power of two, so the action index wraps with a mask; long enough that the pattern does not
// repeat within an episode and the table is not trivially cached by the branch predictor.
inline constexpr std::size_t kActionTable = std::size_t{1} << 16;

inline std::vector<std::int64_t> random_actions(std::size_t count, std::uint64_t seed) {
  locus::envs::Rng rng(seed);
  std::vector<std::int64_t> actions(count);
  rng.integers_fill<std::int64_t>(actions, 0, 2);
  return actions;
}

// The timed repeats of one benchmark and the checksum (reward sum) of all its runs, reported so
// that the work cannot be optimized away.
struct Measured {
  Repeats repeats;
  double checksum = 0.0;
};

// Runs `body` once untimed (caches, branch predictors, TBB's worker threads), then `timed` (which
// calls body, perhaps with something around it) until the clean repeats are in.
template <typename Timed>
Measured warm_up_and_time(const EnvBenchOptions& options, std::int64_t env_steps_per_repeat,
                          const std::function<double()>& body, const Timed& timed) {
  Measured m;
  m.checksum = body();
  m.repeats = time_repeats(std::size_t(options.repeats), double(env_steps_per_repeat),
                           kAllowedBackgroundCores, [&] { m.checksum += timed(); });
  return m;
}

// The JSON every env benchmark reports for one measurement.
inline nlohmann::json measured_json(const std::string& name, const EnvBenchOptions& options,
                                    std::int64_t env_steps_per_repeat, nlohmann::json config,
                                    const Measured& m) {
  const Repeats& r = m.repeats;
  nlohmann::json result = {{"name", name},
                           {"impl", "locus"},
                           {"config", std::move(config)},
                           {"env_steps_per_repeat", env_steps_per_repeat},
                           {"repeats", options.repeats},
                           {"checksum", m.checksum}};
  result.update(rate_fields("steps", r));
  return result;
}

// Measures `body` (one repeat: env_steps_per_repeat env steps, returning the reward sum) under
// `name` with the given config, and returns its JSON.
using Measure =
    std::function<nlohmann::json(const std::string& name, std::int64_t env_steps_per_repeat,
                                 nlohmann::json config, const std::function<double()>& body)>;

// One env on the allocation-free path, resetting when an episode ends.
template <std::size_t kObservationSize>
nlohmann::json bench_single(const std::string& name, locus::envs::Env& env,
                            const EnvBenchOptions& options,
                            const std::vector<std::int64_t>& actions, const Measure& measure) {
  std::array<float, kObservationSize> obs{};
  const auto obs_bytes = std::as_writable_bytes(std::span(obs));
  locus::envs::Info info;
  env.reset(obs_bytes, info, options.seed);
  const std::int64_t steps = options.single_steps;
  auto body = [&] {
    double reward_sum = 0.0;
    for (std::int64_t i = 0; i < steps; ++i) {
      const auto action = std::as_bytes(std::span(&actions[i & (kActionTable - 1)], 1));
      const auto outcome = env.step(action, obs_bytes, info);
      reward_sum += outcome.reward;
      if (outcome.terminated || outcome.truncated) env.reset(obs_bytes, info);
    }
    return reward_sum;
  };
  return measure(name, steps, {{"num_envs", 1}, {"threads", 1}, {"env", env.to_string()}}, body);
}

// make_vec()'s VectorEnv (time limit inside, no wrapper objects) with NEXT_STEP autoreset; each
// vector step takes the next row of a pre-drawn (rows, num_envs) action table.
inline nlohmann::json bench_vector(const std::string& name, const std::string& env_id,
                                   const EnvBenchOptions& options, std::size_t threads,
                                   const std::vector<std::int64_t>& actions,
                                   const Measure& measure) {
  const auto n = static_cast<std::size_t>(options.num_envs);
  locus::envs::VectorEnv env =
      locus::envs::make_vec(env_id, n, locus::envs::Kwargs::object(),
                            {.autoreset_mode = locus::envs::AutoresetMode::kNextStep,
                             .num_threads = threads,
                             .grain_size = options.grain_size});
  env.reset(options.seed);
  const std::size_t rows = std::max<std::size_t>(1, actions.size() / n);
  std::vector<std::int64_t> table(rows * n);
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = actions[i % actions.size()];
  const std::int64_t steps = options.vector_steps;
  auto body = [&] {
    double reward_sum = 0.0;
    for (std::int64_t t = 0; t < steps; ++t) {
      const std::size_t row = static_cast<std::size_t>(t) % rows;
      env.step(std::span<const std::int64_t>(table.data() + row * n, n));
      reward_sum += env.rewards()[0];
    }
    return reward_sum;
  };
  return measure(name, steps * options.num_envs,
                 {{"num_envs", n},
                  {"threads", env.num_threads()},
                  {"grain_size", env.grain_size()},
                  {"env", env.to_string()}},
                 body);
}

inline std::vector<int> thread_counts(const std::string& spec) {
  std::vector<int> counts;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t end = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, end - start);
    if (item == "all") {
      counts.push_back(tbb::info::default_concurrency());
    } else if (!item.empty()) {
      const int count = std::stoi(item);
      if (count < 1) throw std::invalid_argument("--threads: " + item + " is not a thread count");
      counts.push_back(count);
    }
    start = end + 1;
  }
  return counts;
}

inline bool selected(const EnvBenchOptions& options, const std::string& name) {
  return options.filter.empty() || name.find(options.filter) != std::string::npos;
}

// The benchmarks of `env_id` that --filter selects: locus/single/make, locus/single/raw (a
// default-constructed RawEnv, no wrappers) and locus/vector/<num_envs>/threads=<n> per thread
// count.
template <typename RawEnv, std::size_t kObservationSize>
nlohmann::json run_env_benchmarks(const std::string& env_id, const EnvBenchOptions& options,
                                  const Measure& measure) {
  const auto actions = random_actions(kActionTable, options.seed + 1);
  nlohmann::json results = nlohmann::json::array();
  if (const std::string name = "locus/single/make"; selected(options, name)) {
    auto env = locus::envs::make(env_id);
    results.push_back(bench_single<kObservationSize>(name, *env, options, actions, measure));
  }
  if (const std::string name = "locus/single/raw"; selected(options, name)) {
    RawEnv env;
    results.push_back(bench_single<kObservationSize>(name, env, options, actions, measure));
  }
  for (const int threads : thread_counts(options.threads)) {
    const std::string name =
        "locus/vector/" + std::to_string(options.num_envs) + "/threads=" + std::to_string(threads);
    if (!selected(options, name)) continue;
    results.push_back(
        bench_vector(name, env_id, options, static_cast<std::size_t>(threads), actions, measure));
  }
  return results;
}

// Prints the document on stdout, or writes it to json_path when one is given; false (after saying
// so on stderr, prefixed with `program`) when the file cannot be written.
inline bool write_document(const nlohmann::json& document, const std::string& json_path,
                           const std::string& program) {
  if (json_path.empty()) {
    std::cout << document.dump(2) << '\n';
    return true;
  }
  std::ofstream out(json_path);
  out << document.dump(2) << '\n';
  if (!out) {
    std::cerr << program << ": cannot write " << json_path << '\n';
    return false;
  }
  return true;
}

// The document's fields about the machine.
inline nlohmann::json machine_fields() {
  return {{"hardware_concurrency", std::thread::hardware_concurrency()},
          {"tbb_default_concurrency", tbb::info::default_concurrency()}};
}

}  // namespace locus::bench_perf
