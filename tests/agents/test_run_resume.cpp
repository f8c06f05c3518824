// Run directories that were interrupted: killed before a checkpoint, stopped by a signal, cut in
// the middle of a row, resumed with other settings, used by two processes at once. In every case
// the resumed run must equal the uninterrupted one, or be refused with a message.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agents/errors.hpp"
#include "agents/run.hpp"
#include "agents/run_lock.hpp"
#include "agents/runner.hpp"
#include "tests/util/fresh_dir.hpp"

using namespace locus::agents;
namespace fs = std::filesystem;
using locus::testing::fresh_dir;

namespace {

RunConfig small_run(std::vector<std::uint64_t> seeds = {}) {
  RunConfig config;
  config.agent.env = "CartPole-v1";
  config.agent.agent = Algorithm::kA2c;
  config.agent.num_envs = 4;
  config.agent.rollout_steps = 16;
  config.agent.seed = 5;
  config.steps = 64 * 9;  // 9 updates
  config.checkpoint_every = 3;
  config.eval_episodes = 1;
  config.eval_every = 2;  // evaluations in the rows and the summary's best_eval_return
  config.threads = 1;
  config.seeds = std::move(seeds);
  return config;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// metrics.jsonl without the wall time, which no two runs share.
std::vector<nlohmann::json> metric_rows(const fs::path& dir) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(read_text(dir / "metrics.jsonl"));
  for (std::string line; std::getline(in, line);) {
    nlohmann::json row = nlohmann::json::parse(line);
    row.erase("time_s");
    rows.push_back(row);
  }
  return rows;
}

void require_same_run(const fs::path& a, const fs::path& b) {
  CHECK(flat_parameters(Agent::load(a / "checkpoint.bin").network()) ==
        flat_parameters(Agent::load(b / "checkpoint.bin").network()));
  CHECK(metric_rows(a) == metric_rows(b));
  CHECK(read_text(a / "dopamine_trace.csv") == read_text(b / "dopamine_trace.csv"));
  const auto summary_a = nlohmann::json::parse(read_text(a / "summary.json"));
  const auto summary_b = nlohmann::json::parse(read_text(b / "summary.json"));
  CHECK(summary_a["best_eval_return"] == summary_b["best_eval_return"]);
  CHECK(summary_a["eval"] == summary_b["eval"]);
}

}  // namespace

TEST_CASE("a stopped run ends at checkpoints and resumes as the uninterrupted run",
          "[agents][resume]") {
  const fs::path whole = fresh_dir("whole_seeds"), part = fresh_dir("stopped_seeds");
  train(small_run({1, 2}), whole);
  // With one thread the seeds run one after the other: a stop asked during seed 1's second update
  // ends it at its checkpoint after update 3, and seed 2 never starts.
  StopFlag stop{false};
  const auto ask_to_stop = [&](std::size_t, const UpdateStats& stats, const Agent&) {
    if (stats.update == 2) stop = true;
  };
  REQUIRE_THROWS_AS(train(small_run({1, 2}), part, ask_to_stop, &stop), RunInterrupted);
  CHECK(Agent::load(part / "seed_1" / "checkpoint.bin").updates() == 3);
  CHECK_FALSE(fs::exists(part / "seed_2" / "checkpoint.bin"));
  CHECK_FALSE(fs::exists(part / "summary.json"));
  // Seed 2 starts from scratch, seed 1 from its checkpoint.
  const nlohmann::json summary = resume(part);
  CHECK(summary["runs"].size() == 2);
  require_same_run(whole / "seed_1", part / "seed_1");
  require_same_run(whole / "seed_2", part / "seed_2");
}

TEST_CASE("a run killed before its first checkpoint starts from scratch when resumed",
          "[agents][resume]") {
  const fs::path whole = fresh_dir("whole_single"), part = fresh_dir("killed_early");
  train(small_run(), whole);
  // What a kill after the start leaves: config.json and the first rows, no checkpoint.
  StopFlag stop{true};
  REQUIRE_THROWS_AS(train(small_run(), part, {}, &stop), RunInterrupted);
  REQUIRE(fs::exists(part / "config.json"));
  REQUIRE_FALSE(fs::exists(part / "checkpoint.bin"));
  std::ofstream(part / "metrics.jsonl", std::ios::app) << R"({"update": 1, "steps": 64})"
                                                       << "\n";
  resume(part);
  require_same_run(whole, part);
}

TEST_CASE("metric rows after the checkpoint are rewound, lost ones replayed", "[agents][resume]") {
  const fs::path whole = fresh_dir("whole_rows");
  train(small_run(), whole);
  RunConfig shorter = small_run();
  shorter.steps = 64 * 6;  // ends at the checkpoint after update 6

  SECTION("rows of later updates and a row cut by the kill") {
    const fs::path part = fresh_dir("cut_rows");
    train(shorter, part);
    const std::string rows = read_text(whole / "metrics.jsonl");
    std::istringstream in(rows);
    std::string line;
    for (int i = 0; i < 7; ++i) std::getline(in, line);  // update 7, written before the kill
    std::ofstream(part / "metrics.jsonl", std::ios::app) << line << "\n"
                                                         << R"({"update": 8, "st)";
    std::ofstream(part / "metrics.csv", std::ios::app) << "7,448,0.1,1\n8,5";
    resume(part, {{"steps", 64 * 9}});
    require_same_run(whole, part);
    CHECK(read_text(part / "metrics.csv").find("\n8,5\n") == std::string::npos);
  }
  SECTION("rows the checkpoint covers are missing") {
    const fs::path part = fresh_dir("lost_rows");
    train(shorter, part);
    const std::string rows = read_text(part / "metrics.jsonl");
    std::ofstream(part / "metrics.jsonl", std::ios::trunc)
        << rows.substr(0, rows.find('\n', rows.find('\n') + 1) + 1);  // updates 1 and 2 only
    resume(part, {{"steps", 64 * 9}});
    require_same_run(whole, part);
  }
}

TEST_CASE("a resumed run changes only steps, threads and precision", "[agents][resume]") {
  const RunConfig saved = small_run();
  std::vector<ResumeChange> changes;
  const RunConfig longer =
      resumed_config(saved, {{"steps", 64 * 20}, {"threads", 2}, {"env", "CartPole-v1"}}, &changes);
  CHECK(longer.steps == 64 * 20);
  CHECK(longer.threads == 2);
  REQUIRE(changes.size() == 2);  // env is the saved one: no change
  CHECK(changes[0].key == "steps");
  CHECK(changes[0].saved == 64 * 9);
  CHECK_THROWS_AS(resumed_config(saved, {{"learning_rate", 0.5}}), ConfigError);
  CHECK_THROWS_WITH(resumed_config(saved, {{"learning_rate", 0.5}, {"env", "Acrobot-v1"}}),
                    Catch::Contains("env is \"CartPole-v1\" in the saved run, \"Acrobot-v1\" "
                                    "requested") &&
                        Catch::Contains("learning_rate is") &&
                        Catch::Contains("may change only steps, threads, precision"));
  CHECK_THROWS_WITH(resumed_config(saved, {{"no_such_key", 1}}), Catch::Contains("unknown"));

  const fs::path dir = fresh_dir("conflict");
  train(small_run(), dir);
  const std::string before = read_text(dir / "config.json");
  CHECK_THROWS_AS(resume(dir, {{"agent", "ppo"}}), ConfigError);
  CHECK(read_text(dir / "config.json") == before);
}

TEST_CASE("one process at a time uses a run directory", "[agents][resume]") {
  const fs::path dir = fresh_dir("locked");
  fs::create_directories(dir);
  {
    RunLock held(dir);
    CHECK_THROWS_WITH(RunLock(dir), Catch::Contains("is in use by another locus process (pid " +
                                                    std::to_string(::getpid())));
    CHECK_THROWS_AS(train(small_run(), dir), RunDirectoryError);
  }
  RunLock again(dir);  // released with its holder
}

TEST_CASE("a run that fails to start leaves nothing behind", "[agents][resume]") {
  RunConfig config = small_run();
  config.agent.env = "NoSuchEnv-v0";
  const fs::path created = fresh_dir("failed_start");
  CHECK_THROWS(train(config, created));
  CHECK_FALSE(fs::exists(created));
  // In a folder the user made, only what the run wrote goes.
  const fs::path given = fresh_dir("failed_start_given");
  fs::create_directories(given);
  std::ofstream(given / "notes.txt") << "mine";
  std::ofstream(given / "seed_2") << "a file where the run needs a folder";
  CHECK_THROWS(train(small_run({1, 2}), given));
  CHECK(fs::exists(given / "notes.txt"));
  CHECK(fs::is_regular_file(given / "seed_2"));
  CHECK(std::distance(fs::directory_iterator(given), fs::directory_iterator()) == 2);
}

TEST_CASE("run configs refuse absurd seed lists and thread counts before allocating",
          "[agents][config]") {
  nlohmann::json json = {{"env", "CartPole-v1"}, {"seeds", nlohmann::json::array()}};
  for (std::uint64_t s = 0; s <= RunConfig::kMaxSeeds; ++s) json["seeds"].push_back(s);
  CHECK_THROWS_WITH(RunConfig::from_json(json),
                    Catch::Contains("lists 4097 seeds; a run trains at most 4096 agents"));
  CHECK_THROWS_WITH(RunConfig::from_json({{"env", "CartPole-v1"}, {"threads", 100000}}),
                    Catch::Contains("'threads' must be at most 4096"));
  CHECK_THROWS_WITH(RunConfig::from_json({{"env", "CartPole-v1"}, {"eval_episodes", 1e12}}),
                    Catch::Contains("eval_episodes"));
  // Seeds past 2^63 are seeds like any other.
  const RunConfig big = RunConfig::from_json(
      {{"env", "CartPole-v1"}, {"seeds", {std::uint64_t(-1), std::uint64_t(1) << 63}}});
  CHECK(big.seeds[0] == std::uint64_t(-1));
  // Each agent that trains at once needs its own memory.
  // About 0.8 GB an agent, fine alone; 4096 of them at once need terabytes on any machine.
  nlohmann::json many = {{"env", "CartPole-v1"},
                         {"hidden", {2048, 2048}},
                         {"num_envs", 256},
                         {"rollout_steps", 64},
                         {"threads", RunConfig::kMaxThreads}};
  for (std::uint64_t s = 0; s < RunConfig::kMaxSeeds; ++s) many["seeds"].push_back(s);
  const RunConfig wide = RunConfig::from_json(many);
  CHECK_THROWS_WITH(wide.check_memory(),
                    Catch::Contains("4096 agents training at once needs at least"));
  CHECK_THROWS_WITH(train(wide, fresh_dir("too_wide")), Catch::Contains("training at once"));
}

TEST_CASE("episodes far longer than the checkpoint interval end, and resume where they were",
          "[agents][resume][long_episodes]") {
  // GoNoGo-v0 in its endless mode ends an episode only at the time limit: 10,000 steps here,
  // against a checkpoint every 100 steps per env. Checkpoints used to reset every env, so such an
  // episode never ended.
  RunConfig config;
  config.agent.env = "GoNoGo-v0";
  config.agent.env_kwargs = {{"max_episode_steps", 10000}};
  config.agent.agent = Algorithm::kA2c;
  config.agent.hidden = {8};
  config.agent.num_envs = 2;
  config.agent.rollout_steps = 50;
  config.agent.seed = 3;
  config.checkpoint_every = 2;
  config.eval_episodes = 1;
  config.eval_every = 0;
  config.threads = 1;
  config.steps = 2 * 10500;
  const fs::path whole = fresh_dir("long_whole"), part = fresh_dir("long_part");
  train(config, whole);
  const Agent trained = Agent::load(whole / "checkpoint.bin");
  CHECK(trained.saves_episodes());
  CHECK(trained.episodes() == 2);  // each env's one 10,000-step episode ended
  // Both ended in the update that took each env to its 10,000th step (50 steps per update).
  std::size_t first_end = 0;
  for (const auto& row : metric_rows(whole)) {
    if (first_end == 0 && !row["episode_returns"].empty()) {
      first_end = row["update"].get<std::size_t>();
      CHECK(row["episode_returns"].size() == 2);
    }
  }
  CHECK(first_end == 10000 / 50);

  RunConfig shorter = config;
  shorter.steps = 2 * 5000;  // stops at a checkpoint in the middle of the episodes
  train(shorter, part);
  resume(part, {{"steps", config.steps}});
  require_same_run(whole, part);
}
