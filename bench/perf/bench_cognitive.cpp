// Throughput of locus's GoNoGo-v0 (the cognitive tasks' trial machinery): one env with make()'s
// wrapper stack and raw, and a VectorEnv of many envs, in env-steps per second. Prints JSON for
// bench/perf/run_cognitive_bench.py, which runs NeuroGym beside it (bench/perf/peers_cognitive.py)
// and reports the ratios. The method (shared with bench_envs.cpp) is in env_throughput.hpp; actions
// are uniform 0/1, so trials end at varied steps. Each repeat's rate per second of this process's
// CPU time is reported too: on a shared machine it is the figure that other processes disturb
// least (for one thread).
//
// The timed loops also count heap allocations (operator new is replaced in this program): the
// step path of the cognitive tasks is meant to allocate nothing, and the JSON says whether it did.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/harness/program.hpp"
#include "env_throughput.hpp"
#include "envs/cognitive/go_no_go.hpp"
#include "util/counting_new.hpp"

namespace {

using json = nlohmann::json;
using namespace locus::bench_perf;
using locus::util::AllocationCounter;

constexpr const char* kEnvId = "GoNoGo-v0";

json measure(const EnvBenchOptions& options, const std::string& name,
             std::int64_t env_steps_per_repeat, json config, const std::function<double()>& body) {
  long allocations = 0;
  const Measured m = warm_up_and_time(options, env_steps_per_repeat, body, [&] {
    const AllocationCounter counter;
    const double reward_sum = body();
    allocations += counter.count();
    return reward_sum;
  });
  const Repeats& r = m.repeats;
  std::fprintf(
      stderr, "%-40s %14.0f env-steps/s (median of %zu%s), %.0f per CPU second, %ld allocations\n",
      name.c_str(), r.median_rate, r.counted, r.contaminated ? ", machine busy: figure low" : "",
      median(r.cpu_rates), allocations);
  json result = measured_json(name, options, env_steps_per_repeat, std::move(config), m);
  result["allocations_in_timed_steps"] = allocations;
  return result;
}

int run(const EnvBenchOptions& options) {
  const Measure measure_one = [&](const std::string& name, std::int64_t steps, json config,
                                  const std::function<double()>& body) {
    return measure(options, name, steps, std::move(config), body);
  };
  json document = {
      {"benchmark", "cognitive_throughput"},
      {"env", kEnvId},
      {"results", run_env_benchmarks<locus::envs::GoNoGoEnv, 3>(kEnvId, options, measure_one)}};
  document.update(machine_fields());
  return write_document(document, options.json_path, "locus_bench_cognitive") ? 0 : 1;
}

}  // namespace

namespace {

int benchmark_main(int argc, char** argv) {
  EnvBenchOptions options;
  options.vector_steps = 2'000;
  CLI::App app{"locus GoNoGo-v0 throughput benchmark (JSON on stdout or --json)"};
  add_env_bench_options(app, options);
  add_env_bench_output_options(app, options);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(options);
  } catch (const std::exception& error) {
    std::cerr << "locus_bench_cognitive: " << error.what() << '\n';
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  return locus::bench::guarded_main("locus_bench_cognitive",
                                    [&] { return benchmark_main(argc, argv); });
}
