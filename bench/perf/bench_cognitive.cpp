// Throughput of locus's GoNoGo-v0 (the cognitive tasks' trial machinery): one env with make()'s
// wrapper stack and raw, and a VectorEnv of many envs, in env-steps per second. Prints JSON for
// bench/perf/run_cognitive_bench.py, which runs NeuroGym beside it (bench/perf/peers_cognitive.py)
// and reports the ratios.
//
// Method, identical for the peer: actions (uniform 0/1, so trials end at varied steps) are drawn
// before the clock starts, one untimed warm-up run, then `repeats` timed runs of a fixed number of
// steps; the median is the figure. A repeat counts only while other processes left the cores alone
// (see measure()). A vector env's figure counts env-steps: num_envs x vector steps. Each repeat's
// rate per second of this process's CPU time is reported too: on a shared machine it is the
// figure that other processes disturb least (for one thread).
//
// The timed loops also count heap allocations (operator new is replaced in this program): the
// step path of the cognitive tasks is meant to allocate nothing, and the JSON says whether it did.

#include <sys/resource.h>
#include <tbb/info.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <new>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "envs/cognitive/go_no_go.hpp"
#include "envs/registry.hpp"
#include "envs/rng.hpp"
#include "envs/vector_env.hpp"
#include "measurement.hpp"

namespace {
// Counts operator new calls while enabled.
std::atomic<bool> g_count_allocations{false};
std::atomic<long> g_allocations{0};

void* counted_malloc(std::size_t size) noexcept {
  if (g_count_allocations.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  return std::malloc(size == 0 ? 1 : size);
}
void* counted_new(std::size_t size) {
  if (void* p = counted_malloc(size)) return p;
  throw std::bad_alloc();
}
}  // namespace

// Every non-aligned form is replaced, all on malloc/free. GCC 12 flags free() on memory from a
// new-expression that it inlined here, which is what a replacement does by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  return counted_new(size);
}
void* operator new[](std::size_t size) {
  return counted_new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop

namespace {

using locus::envs::Env;
using locus::envs::Info;
using json = nlohmann::json;
using namespace locus::bench_perf;

constexpr const char* kEnvId = "GoNoGo-v0";

struct Options {
  int repeats = 7;
  std::int64_t single_steps = 2'000'000;  // per repeat
  std::int64_t vector_steps = 2'000;      // vector steps per repeat
  std::int64_t num_envs = 1024;
  std::string threads = "1,all";
  std::string filter;
  std::string json_path;
  std::uint64_t seed = 0;
};

// A power of two, so the action index wraps with a mask.
constexpr std::size_t kActionTable = std::size_t{1} << 16;

std::vector<std::int64_t> random_actions(std::size_t count, std::uint64_t seed) {
  locus::envs::Rng rng(seed);
  std::vector<std::int64_t> actions(count);
  rng.integers_fill<std::int64_t>(actions, 0, 2);
  return actions;
}

// As bench_envs.cpp's measure(): one untimed warm-up, then timed runs until `repeats` clean ones
// (other processes used under kAllowedBackgroundCores while it ran; at most 3 x repeats tries);
// the figure is their median. body returns a checksum (the reward sum) so the work stays.
json measure(const std::string& name, const Options& options, std::int64_t env_steps_per_repeat,
             json config, const std::function<double()>& body) {
  constexpr double kAllowedBackgroundCores = 0.25;
  double checksum = body();  // warm-up: caches, branch predictors, TBB's threads, info storage
  long allocations = 0;
  const Repeats r = time_repeats(std::size_t(options.repeats), double(env_steps_per_repeat),
                                 kAllowedBackgroundCores, [&] {
                                   g_allocations = 0;
                                   g_count_allocations = true;
                                   checksum += body();
                                   g_count_allocations = false;
                                   allocations += g_allocations.load();
                                 });
  std::fprintf(
      stderr, "%-40s %14.0f env-steps/s (median of %zu%s), %.0f per CPU second, %ld allocations\n",
      name.c_str(), r.median_rate, r.counted, r.contaminated ? ", machine busy: figure low" : "",
      median(r.cpu_rates), allocations);
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
              // Robust to other processes taking the cores (time spent descheduled is not
              // counted); for several threads it measures work per CPU second, not speed.
              {"steps_per_cpu_second", r.cpu_rates},
              {"median_steps_per_cpu_second", median(r.cpu_rates)},
              {"allocations_in_timed_steps", allocations},
              {"checksum", checksum}};
}

// One env on the allocation-free path, resetting when an episode ends (make()'s time limit).
json bench_single(const std::string& name, Env& env, const Options& options,
                  const std::vector<std::int64_t>& actions) {
  std::array<float, 3> obs{};
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

// make_vec()'s VectorEnv (time limit inside) with NEXT_STEP autoreset; each vector step takes the
// next row of a pre-drawn (rows, num_envs) action table.
json bench_vector(const std::string& name, const Options& options, std::size_t threads,
                  const std::vector<std::int64_t>& actions) {
  const auto n = static_cast<std::size_t>(options.num_envs);
  locus::envs::VectorEnv env = locus::envs::make_vec(
      kEnvId, n, locus::envs::Kwargs::object(),
      {.autoreset_mode = locus::envs::AutoresetMode::kNextStep, .num_threads = threads});
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
    auto env = locus::envs::make(kEnvId);
    results.push_back(bench_single(name, *env, options, actions));
  }
  if (const std::string name = "locus/single/raw"; selected(options, name)) {
    locus::envs::GoNoGoEnv env;
    results.push_back(bench_single(name, env, options, actions));
  }
  for (const int threads : thread_counts(options.threads)) {
    const std::string name =
        "locus/vector/" + std::to_string(options.num_envs) + "/threads=" + std::to_string(threads);
    if (!selected(options, name)) continue;
    results.push_back(bench_vector(name, options, static_cast<std::size_t>(threads), actions));
  }

  const json document = {{"benchmark", "cognitive_throughput"},
                         {"env", kEnvId},
                         {"hardware_concurrency", std::thread::hardware_concurrency()},
                         {"tbb_default_concurrency", tbb::info::default_concurrency()},
                         {"results", results}};
  if (options.json_path.empty()) {
    std::cout << document.dump(2) << '\n';
  } else {
    std::ofstream out(options.json_path);
    out << document.dump(2) << '\n';
    if (!out) {
      std::cerr << "locus_bench_cognitive: cannot write " << options.json_path << '\n';
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"locus GoNoGo-v0 throughput benchmark (JSON on stdout or --json)"};
  app.add_option("--repeats", options.repeats, "timed repeats per benchmark")
      ->check(CLI::PositiveNumber);
  app.add_option("--single-steps", options.single_steps, "env steps per repeat, single env")
      ->check(CLI::PositiveNumber);
  app.add_option("--vector-steps", options.vector_steps, "vector steps per repeat")
      ->check(CLI::PositiveNumber);
  app.add_option("--num-envs", options.num_envs, "envs in the vector env")
      ->check(CLI::PositiveNumber);
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
    std::cerr << "locus_bench_cognitive: " << error.what() << '\n';
    return 1;
  }
}
