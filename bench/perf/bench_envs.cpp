// Environment throughput of locus: CartPole-v1 as one env (with make()'s wrapper stack, and raw)
// and as a VectorEnv of many envs, in env-steps per second. Prints JSON for
// bench/perf/run_env_bench.py, which runs the Python peers beside it and reports the ratios.
//
// Method, identical for the peers: actions are drawn before the clock starts (so sampling is not
// timed), one untimed warm-up run, then `repeats` timed runs of a fixed number of steps; the median
// is the figure. A vector env's figure counts env-steps: num_envs x vector steps.

#include <sys/resource.h>
#include <tbb/info.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "envs/classic_control/cartpole.hpp"
#include "envs/registry.hpp"
#include "envs/rng.hpp"
#include "envs/vector_env.hpp"
#include "measurement.hpp"

namespace {

using locus::envs::Env;
using locus::envs::Info;
using json = nlohmann::json;
using namespace locus::bench_perf;

struct Options {
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

// A power of two, so the action index wraps with a mask; long enough that the pattern does not
// repeat within an episode and the table is not trivially cached by the branch predictor.
constexpr std::size_t kActionTable = std::size_t{1} << 16;

std::vector<std::int64_t> random_actions(std::size_t count, std::uint64_t seed) {
  locus::envs::Rng rng(seed);
  std::vector<std::int64_t> actions(count);
  rng.integers_fill<std::int64_t>(actions, 0, 2);
  return actions;
}

// Runs `body` once untimed, then timed until `repeats` clean repeats are in (measurement.hpp says
// which are clean); the figure is their median, and every repeat is reported. body returns a
// checksum (the reward sum) that is reported, so the work cannot be optimized away.
json measure(const std::string& name, const Options& options, std::int64_t env_steps_per_repeat,
             json config, const std::function<double()>& body) {
  constexpr double kAllowedBackgroundCores = 0.25;
  double checksum = body();  // warm-up: caches, branch predictors, TBB's worker threads
  const Repeats r = time_repeats(std::size_t(options.repeats), double(env_steps_per_repeat),
                                 kAllowedBackgroundCores, [&] { checksum += body(); });
  std::fprintf(stderr, "%-40s %14.0f env-steps/s (median of %zu%s)\n", name.c_str(), r.median_rate,
               r.counted, r.contaminated ? ", machine busy: figure low" : "");
  return json{{"name", name},
              {"impl", "locus"},
              {"config", std::move(config)},
              {"env_steps_per_repeat", env_steps_per_repeat},
              {"repeats", options.repeats},
              {"seconds", r.seconds},
              {"steps_per_second", r.rates},
              {"background_cores", r.background_cores},
              {"allowed_background_cores", kAllowedBackgroundCores},
              {"contaminated", r.contaminated},
              {"median_steps_per_second", r.median_rate},
              {"checksum", checksum}};
}

// One env on the allocation-free path, resetting when an episode ends.
json bench_single(const std::string& name, Env& env, const Options& options,
                  const std::vector<std::int64_t>& actions) {
  std::array<float, 4> obs{};
  const auto obs_bytes = std::as_writable_bytes(std::span(obs));
  Info info;
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
  return measure(name, options, steps, {{"num_envs", 1}, {"threads", 1}, {"env", env.to_string()}},
                 body);
}

// make_vec()'s VectorEnv (time limit inside, no wrapper objects) with NEXT_STEP autoreset; each
// vector step takes the next row of a pre-drawn (rows, num_envs) action table.
json bench_vector(const std::string& name, const Options& options, std::size_t threads,
                  const std::vector<std::int64_t>& actions) {
  const auto n = static_cast<std::size_t>(options.num_envs);
  locus::envs::VectorEnv env =
      locus::envs::make_vec("CartPole-v1", n, locus::envs::Kwargs::object(),
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
  return measure(name, options, steps * options.num_envs,
                 {{"num_envs", n},
                  {"threads", env.num_threads()},
                  {"grain_size", env.grain_size()},
                  {"env", env.to_string()}},
                 body);
}

std::vector<int> thread_counts(const std::string& spec) {
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

bool selected(const Options& options, const std::string& name) {
  return options.filter.empty() || name.find(options.filter) != std::string::npos;
}

int run(const Options& options) {
  const auto actions = random_actions(kActionTable, options.seed + 1);
  json results = json::array();

  if (const std::string name = "locus/single/make"; selected(options, name)) {
    auto env = locus::envs::make("CartPole-v1");
    results.push_back(bench_single(name, *env, options, actions));
  }
  if (const std::string name = "locus/single/raw"; selected(options, name)) {
    locus::envs::CartPoleEnv env;
    results.push_back(bench_single(name, env, options, actions));
  }

  for (const int threads : thread_counts(options.threads)) {
    const std::string name =
        "locus/vector/" + std::to_string(options.num_envs) + "/threads=" + std::to_string(threads);
    if (!selected(options, name)) continue;
    results.push_back(bench_vector(name, options, static_cast<std::size_t>(threads), actions));
  }

  const json document = {{"benchmark", "env_throughput"},
                         {"hardware_concurrency", std::thread::hardware_concurrency()},
                         {"tbb_default_concurrency", tbb::info::default_concurrency()},
                         {"results", results}};
  if (options.json_path.empty()) {
    std::cout << document.dump(2) << '\n';
  } else {
    std::ofstream out(options.json_path);
    out << document.dump(2) << '\n';
    if (!out) {
      std::cerr << "locus_bench_envs: cannot write " << options.json_path << '\n';
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"locus environment-throughput benchmark (JSON on stdout or --json)"};
  app.add_option("--repeats", options.repeats, "timed repeats per benchmark")
      ->check(CLI::PositiveNumber);
  app.add_option("--single-steps", options.single_steps, "env steps per repeat, single env")
      ->check(CLI::PositiveNumber);
  app.add_option("--vector-steps", options.vector_steps, "vector steps per repeat")
      ->check(CLI::PositiveNumber);
  app.add_option("--num-envs", options.num_envs, "envs in the vector env")
      ->check(CLI::PositiveNumber);
  app.add_option("--grain-size", options.grain_size,
                 "envs per TBB chunk in the vector env (0: VectorEnv's default)");
  app.add_option("--threads", options.threads,
                 "comma-separated thread counts for the vector env; "
                 "'all' is TBB's default concurrency");
  app.add_option("--filter", options.filter, "run only benchmarks whose name contains this");
  app.add_option("--json", options.json_path, "write the JSON here instead of stdout");
  app.add_option("--seed", options.seed, "seed of the envs and of the action table");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(options);
  } catch (const std::exception& error) {
    std::cerr << "locus_bench_envs: " << error.what() << '\n';
    return 1;
  }
}
