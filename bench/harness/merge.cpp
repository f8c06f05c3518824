#include "bench/harness/merge.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "bench/harness/errors.hpp"
#include "bench/harness/grid.hpp"
#include "bench/harness/run_files.hpp"
#include "bench/harness/summary.hpp"
#include "bench/harness/sweep_config.hpp"

namespace locus::bench {

namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The one config the folders share.
SweepConfig common_config(const std::vector<fs::path>& dirs) {
  SweepConfig config = read_sweep_config(dirs.front());
  for (std::size_t d = 1; d < dirs.size(); ++d) {
    if (read_sweep_config(dirs[d]).to_json() != config.to_json()) {
      throw SweepStateError(fmt::format(
          "{} and {} hold different sweeps (their sweep.json configs differ); merge only the "
          "folders of one sweep",
          dirs.front().string(), dirs[d].string()));
    }
  }
  return config;
}

// The text of the run's file, from the first folder that has it; throws when two folders hold
// different files of it. Empty when no folder has it.
std::string find_run(const RunSpec& run, const std::vector<fs::path>& dirs) {
  std::string text;
  fs::path found_in;
  for (const auto& dir : dirs) {
    if (read_finished_run(dir, run).is_null()) continue;  // also checks the run's settings
    std::string here = read_text(run_path(dir, run));
    if (found_in.empty()) {
      text = std::move(here);
      found_in = dir;
    } else if (here != text) {
      throw SweepStateError(fmt::format(
          "run '{}' is in both {} and {} with different contents: it ran twice; remove one of "
          "the two files and merge again",
          run.id, run_path(found_in, run).string(), run_path(dir, run).string()));
    }
  }
  return text;
}

std::string missing_message(const std::vector<std::string>& missing, std::size_t total) {
  std::string listed;
  for (std::size_t i = 0; i < missing.size() && i < 5; ++i) {
    listed += (i ? ", " : "") + missing[i];
  }
  if (missing.size() > 5) listed += fmt::format(" and {} more", missing.size() - 5);
  return fmt::format(
      "{} of the sweep's {} runs are missing ({}); run the shards that hold them again (`locus "
      "sweep CONFIG --out DIR --shard i/N` runs only what is missing), then merge again",
      missing.size(), total, listed);
}

}  // namespace

MergeOutcome merge_sweeps(const std::vector<fs::path>& dirs, const fs::path& out_dir) {
  if (dirs.empty()) throw InvalidArgumentError("sweep merge needs at least one folder");
  const SweepConfig config = common_config(dirs);
  const std::vector<RunSpec> runs = config.expand();
  std::vector<std::string> texts(runs.size());
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    texts[i] = find_run(runs[i], dirs);
    if (texts[i].empty()) missing.push_back(runs[i].id);
  }
  if (!missing.empty()) throw SweepStateError(missing_message(missing, runs.size()));

  MergeOutcome outcome{.out_dir = out_dir, .runs = runs.size()};
  fs::create_directories(out_dir / "runs");
  write_sweep_file(config, runs, out_dir);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const fs::path target = run_path(out_dir, runs[i]);
    if (fs::exists(target) && read_text(target) == texts[i]) continue;
    write_run(out_dir, runs[i], texts[i]);
    ++outcome.copied;
  }
  outcome.table = write_summary(config, out_dir);
  return outcome;
}

}  // namespace locus::bench
