#include "bench/harness/run_files.hpp"

#include <fmt/format.h>

#include <fstream>
#include <limits>

#include "bench/harness/errors.hpp"
#include "bench/harness/run_tensorboard.hpp"
#include "bench/harness/sweep_config.hpp"
#include "util/atomic_file.hpp"
#include "util/tensorboard_events.hpp"

namespace locus::bench {

namespace fs = std::filesystem;
using nlohmann::json;

double number_or_nan(const json& value) {
  return value.is_number() ? value.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

void write_sweep_file(const SweepConfig& config, const std::vector<RunSpec>& runs,
                      const fs::path& out_dir) {
  const fs::path sweep_file = out_dir / "sweep.json";
  if (fs::exists(sweep_file)) {
    std::ifstream in(sweep_file);
    const json previous = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!previous.is_object() || previous.value("name", std::string()) != config.name) {
      throw SweepStateError(fmt::format(
          "{} belongs to sweep '{}', not '{}'; use another --out directory or remove it",
          out_dir.string(),
          previous.is_object() ? previous.value("name", std::string("?")) : std::string("?"),
          config.name));
    }
  }
  json sweep = {{"name", config.name},    {"seeds", config.seeds}, {"methods", json::array()},
                {"grid", json::object()}, {"runs", json::array()}, {"config", config.to_json()}};
  if (!config.scenario.is_null()) sweep["scenario"] = config.scenario;
  for (const auto& [name, settings] : config.methods) sweep["methods"].push_back(name);
  for (const auto& [key, values] : config.grid) sweep["grid"][key] = values;
  for (const auto& run : runs) sweep["runs"].push_back(run.id);
  write_file_atomically(sweep_file, sweep.dump(2) + "\n");
}

SweepConfig read_sweep_config(const fs::path& out_dir) {
  const fs::path sweep_file = out_dir / "sweep.json";
  std::ifstream in(sweep_file);
  if (!in) {
    throw SweepStateError(
        fmt::format("{} has no sweep.json: it is not the output folder of a "
                    "`locus sweep`",
                    out_dir.string()));
  }
  const json stored = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!stored.is_object() || !stored.contains("config")) {
    throw SweepStateError(fmt::format(
        "{} is damaged or was written by a locus without `sweep merge`; run the sweep again "
        "into that folder (finished runs are kept) to rewrite it",
        sweep_file.string()));
  }
  try {
    return SweepConfig::from_json(stored["config"]);
  } catch (const SweepStateError& e) {
    throw SweepStateError(fmt::format("{}: {}", sweep_file.string(), e.what()));
  }
}

fs::path run_path(const fs::path& out_dir, const RunSpec& spec) {
  return out_dir / "runs" / (spec.id + ".json");
}

// The finished run of `spec` in out_dir, or null if there is none (a run written by a different
// configuration is an error: the directory belongs to another sweep).
json read_finished_run(const fs::path& out_dir, const RunSpec& spec) {
  const fs::path path = run_path(out_dir, spec);
  if (!fs::exists(path)) return nullptr;
  std::ifstream in(path);
  json run;
  try {
    run = json::parse(in);
  } catch (const json::exception& e) {
    throw SweepStateError(fmt::format("cannot read finished run {}: {}", path.string(), e.what()));
  }
  if (run.value("settings", json()) != spec.settings || run.value("seed", json()) != spec.seed ||
      run.value("scenario", json()) != spec.scenario) {
    throw SweepStateError(
        fmt::format("{} was written by a sweep with other settings for run '{}'; use another --out "
                    "directory or remove it",
                    path.string(), spec.id));
  }
  return run;
}

void write_run(const fs::path& out_dir, const RunSpec& spec, const std::string& text) {
  const fs::path events_dir = out_dir / kTensorBoardFolder / spec.id;
  fs::create_directories(events_dir);
  write_file_atomically(
      events_dir / util::tensorboard::kEventFileName,
      run_event_file(nlohmann::json::parse(text), util::tensorboard::wall_clock_seconds()));
  write_file_atomically(run_path(out_dir, spec), text);
}

void write_file_atomically(const fs::path& path, const std::string& text) {
  util::write_file_atomically<SweepStateError>(path, text);
}

}  // namespace locus::bench
