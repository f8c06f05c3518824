// Sweeps run in parts: shards (--shard i/N) and their merge, run claims (two processes on one
// folder never run the same run), and the run queue's order (a control after its source). The
// command line's MPI and multi-process cases are in tests/cli/test_scale_out_cli.py.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/errors.hpp"
#include "bench/harness/merge.hpp"
#include "bench/harness/run_claim.hpp"
#include "bench/harness/run_files.hpp"
#include "bench/harness/run_queue.hpp"
#include "bench/harness/shard.hpp"
#include "bench/harness/sweep.hpp"
#include "tests/bench/sweep_support.hpp"
#include "tests/util/fresh_dir.hpp"

using namespace locus::bench;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using locus::testing::fresh_dir;
using namespace locus::testing::sweep;

TEST_CASE("a shard is given as i/N, and anything else is refused", "[sweep][shard][errors]") {
  const Shard shard = parse_shard("2/5");
  CHECK(shard.index == 2);
  CHECK(shard.count == 5);
  CHECK(parse_shard("0/1").count == 1);
  for (const std::string bad :
       {"", "3", "3/3", "-1/3", "1/0", "a/b", "1/2/3", "1 /3", "/3", "1/", "0/99999999999"}) {
    INFO(bad);
    CHECK_THROWS_WITH(parse_shard(bad), Contains("--shard '" + bad + "' must be i/N"));
  }
}

TEST_CASE("shards split a sweep into disjoint parts that keep each control with its source",
          "[sweep][shard]") {
  SweepConfig config = SweepConfig::from_yaml(kTinyConfig);
  config.seeds = {0, 1, 2, 3, 4};
  const std::vector<RunSpec> runs = config.expand();  // 15 runs, 10 units (sgd; ngm + control)
  for (std::size_t count = 1; count <= 12; ++count) {
    std::vector<int> owners(runs.size(), 0);
    std::size_t busiest = 0;
    for (std::size_t index = 0; index < count; ++index) {
      const std::vector<char> members = shard_members(runs, {index, count});
      std::size_t size = 0;
      for (std::size_t i = 0; i < runs.size(); ++i) {
        owners[i] += members[i];
        size += static_cast<std::size_t>(members[i]);
        if (members[i] && runs[i].source >= 0) {
          CHECK(members[static_cast<std::size_t>(runs[i].source)]);  // its source is here too
        }
      }
      busiest = std::max(busiest, size);
    }
    for (const int owner : owners) CHECK(owner == 1);  // every run in exactly one shard
    if (count <= 10) CHECK(busiest <= 2 * ((10 + count - 1) / count));  // units spread evenly
  }
}

TEST_CASE("a run claimed by one holder cannot be claimed again until it is released",
          "[sweep][claim]") {
  const fs::path dir = fresh_dir("claim");
  std::optional<RunClaim> first = try_claim_run(dir, "a_seed=0");
  REQUIRE(first);
  CHECK_FALSE(try_claim_run(dir, "a_seed=0"));  // another open file: refused
  CHECK(try_claim_run(dir, "a_seed=1"));        // another run: free
  first.reset();
  CHECK(try_claim_run(dir, "a_seed=0"));
  fs::remove_all(dir);
}

TEST_CASE(
    "the run queue hands out a control after its source, and skips a run finished "
    "elsewhere",
    "[sweep][queue]") {
  const fs::path dir = fresh_dir("queue");
  const SweepConfig config = SweepConfig::from_yaml(kTinyConfig);
  const std::vector<RunSpec> runs = config.expand();  // sgd, ngm-sgd, fixed-gain-sgd x 2 seeds
  fs::create_directories(dir / "runs");
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < runs.size(); ++i) todo.push_back(i);
  std::vector<char> finished(runs.size(), 0);
  RunQueue queue(runs, finished, todo, dir);

  // Another process holds sgd seed 0: it is passed over for now.
  std::optional<RunClaim> elsewhere = try_claim_run(dir, runs[0].id);
  std::vector<Assignment> handed;
  std::optional<Assignment> next;
  while (queue.try_next(next) == RunQueue::Next::kAssigned) {
    handed.push_back(std::move(*next));
    next.reset();
  }
  std::set<std::string> ids;
  for (const auto& assignment : handed) ids.insert(runs[assignment.index].id);
  CHECK(ids == std::set<std::string>{"sgd_seed=1", "ngm-sgd_seed=0", "ngm-sgd_seed=1"});
  CHECK(queue.try_next(next) == RunQueue::Next::kWait);  // the controls wait for their sources

  // ngm-sgd seed 0 finishes: its control comes next, with the source's mean gain.
  const std::size_t ngm0 = 2;
  REQUIRE(runs[ngm0].id == "ngm-sgd_seed=0");
  write_file_atomically(run_path(dir, runs[ngm0]),
                        nlohmann::json({{"settings", runs[ngm0].settings},
                                        {"seed", runs[ngm0].seed},
                                        {"metrics", {{"mean_gain", 1.25}}}})
                            .dump());
  queue.finish(ngm0);
  REQUIRE(queue.try_next(next) == RunQueue::Next::kAssigned);
  CHECK(runs[next->index].id == "fixed-gain-sgd_seed=0");
  CHECK(next->source_mean_gain == 1.25);

  // The other process finishes sgd seed 0 and lets go: it is done elsewhere, not run again.
  write_file_atomically(
      run_path(dir, runs[0]),
      nlohmann::json({{"settings", runs[0].settings}, {"seed", runs[0].seed}}).dump());
  elsewhere.reset();
  std::this_thread::sleep_for(RunQueue::kClaimRetry * 2);
  next.reset();
  CHECK(queue.try_next(next) == RunQueue::Next::kWait);  // only fixed-gain-sgd seed 1 is left
  CHECK(queue.done_elsewhere() == 1);
  fs::remove_all(dir);
}

TEST_CASE("three shards and their merge give the runs and summary of one sweep",
          "[sweep][shard][merge]") {
  const SweepConfig config = SweepConfig::from_yaml(kTinyConfig);
  const fs::path dir = fresh_dir("shards");
  const fs::path whole = dir / "whole", merged = dir / "merged";
  const auto one = run_sweep(config, {.out_dir = whole, .jobs = 2, .progress = false});
  REQUIRE(one.complete());

  std::vector<fs::path> parts;
  std::size_t executed = 0;
  for (std::size_t index = 0; index < 3; ++index) {
    parts.push_back(dir / ("part" + std::to_string(index)));
    const auto part = run_sweep(
        config, {.out_dir = parts.back(), .jobs = 1, .shard = {index, 3}, .progress = false});
    executed += part.executed;
    CHECK_FALSE(part.complete());  // each folder holds only its shard
    CHECK(part.table.empty());
    CHECK_FALSE(fs::exists(parts.back() / "summary.csv"));
  }
  CHECK(executed == 6);

  // A shard missing: the merge names what is missing and how to finish it.
  CHECK_THROWS_WITH(merge_sweeps({parts[0], parts[1]}, merged),
                    Contains("of the sweep's 6 runs are missing") && Contains("--shard i/N"));
  const MergeOutcome outcome = merge_sweeps(parts, merged);
  CHECK(outcome.runs == 6);
  CHECK(outcome.copied == 6);
  CHECK(runs_in(merged) == runs_in(whole));
  CHECK(outcome.table.find("| fixed-gain-sgd") != std::string::npos);
  std::size_t lines = 0;
  std::ifstream results(merged / "results.jsonl");
  for (std::string line; std::getline(results, line);) ++lines;
  CHECK(lines == 6);

  // Shards sharing one folder: the last to end writes the summary; a merge of it copies nothing.
  const fs::path shared = dir / "shared";
  for (std::size_t index = 0; index < 3; ++index) {
    const auto part =
        run_sweep(config, {.out_dir = shared, .jobs = 1, .shard = {index, 3}, .progress = false});
    CHECK(part.complete() == (index == 2));
  }
  CHECK(runs_in(shared) == runs_in(whole));
  CHECK(merge_sweeps({shared}, shared).copied == 0);

  // A run that ran twice with different results, or folders of two sweeps, are refused.
  std::size_t holder = 0;
  while (!fs::exists(parts[holder] / "runs" / "sgd_seed=1.json")) ++holder;
  nlohmann::json changed =
      nlohmann::json::parse(read_text(parts[holder] / "runs" / "sgd_seed=1.json"));
  changed["metrics"]["acc"] = 0.0;
  std::ofstream(parts[(holder + 1) % 3] / "runs" / "sgd_seed=1.json") << changed.dump() << "\n";
  CHECK_THROWS_WITH(merge_sweeps(parts, dir / "again"),
                    Contains("run 'sgd_seed=1' is in both") && Contains("different contents"));
  SweepConfig other = config;
  other.seeds = {7};
  run_sweep(other, {.out_dir = dir / "other", .jobs = 1, .progress = false});
  CHECK_THROWS_WITH(merge_sweeps({whole, dir / "other"}, dir / "again"),
                    Contains("hold different sweeps"));
  CHECK_THROWS_WITH(merge_sweeps({dir}, dir / "again"), Contains("has no sweep.json"));
  fs::remove_all(dir);
}
