#pragma once
// What the sweep tests share: a tiny config and the run files of an output folder without what
// depends on the machine's speed, to compare two sweeps' results.

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace locus::testing::sweep {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The tiny sweep of tests/bench/tiny_sweep.yaml (3 tasks, 3 methods with an NGM control, 2 seeds).
inline const std::string kTinyConfig =
    read_text(std::filesystem::path(LOCUS_SOURCE_DIR) / "tests" / "bench" / "tiny_sweep.yaml");

// A run file without what depends on the machine's speed.
inline nlohmann::json without_timings(nlohmann::json run) {
  for (const char* key : {"wall_seconds", "steps_per_second"}) run["metrics"].erase(key);
  for (const char* key : {"train_seconds", "eval_seconds"}) run["record"].erase(key);
  return run;
}

// DIR/runs/<file> -> the run without its timings.
inline std::map<std::string, nlohmann::json> runs_in(const std::filesystem::path& dir) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "runs")) {
    out[entry.path().filename().string()] =
        without_timings(nlohmann::json::parse(read_text(entry.path())));
  }
  return out;
}

}  // namespace locus::testing::sweep
