// The sweep's progress line (cli/sweep_progress.hpp) estimates the time left in training iterations
// (bench::planned_iterations), not in runs: an RL run may take as long as 100 supervised ones.
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "bench/harness/sweep_config.hpp"
#include "cli/sweep_progress.hpp"
#include "tests/bench/sweep_support.hpp"

using namespace locus;
using locus::testing::sweep::kTinyConfig;

TEST_CASE("A run's planned iterations are its iterations per task times its tasks") {
  bench::SweepConfig config = bench::SweepConfig::from_yaml(kTinyConfig);
  const auto runs = config.expand();
  REQUIRE_FALSE(runs.empty());
  // The tiny sweep: 3 Split tasks of 8 iterations.
  for (const auto& run : runs) CHECK(bench::planned_iterations(run.run) == 24);
  bench::RunSettings rotated = runs.front().run;
  auto& stream = std::get<bench::SupervisedConfig>(rotated.learner).stream;
  stream.kind = envs::data::StreamKind::kRotated;
  stream.num_tasks = 0;
  stream.angles = {0.0, 45.0, 90.0, 135.0};
  CHECK(bench::planned_iterations(rotated) == 32);
  stream.kind = envs::data::StreamKind::kSplit;
  stream.classes_per_task = 5;
  CHECK(bench::planned_iterations(rotated) == 16);  // 10 classes, 2 tasks
}

TEST_CASE("The sweep's ETA counts training iterations, not runs") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  {
    cli::SweepProgressLine line(out);
    // Two runs of 100 iterations and one of 1000, one worker.
    line.begin(3, 0, 1, 1200);
    line.run_started(100);
    line.run_finished(2.0, 100);  // 0.02 s per iteration
    // 1100 iterations left: 22 s (counting runs would say 2 x 2 s).
    CHECK(line.line().find("ETA 22s") != std::string::npos);
    line.run_started(100);
    line.run_finished(2.0, 100);
    line.run_started(1000);  // running: taken as half done, 500 iterations left
    CHECK(line.line().find("2/3 done, 1 running, 0 left") != std::string::npos);
    CHECK(line.line().find("ETA 10s") != std::string::npos);
    line.run_finished(20.0, 1000);
    CHECK(line.line().find("ETA 0s") != std::string::npos);
    line.end();
  }
  std::fclose(out);
}
