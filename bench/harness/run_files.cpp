#include "bench/harness/run_files.hpp"

#include <fmt/format.h>

#include <fstream>
#include <limits>

#include "bench/harness/errors.hpp"
#include "util/atomic_file.hpp"

namespace locus::bench {

namespace fs = std::filesystem;
using nlohmann::json;

double number_or_nan(const json& value) {
  return value.is_number() ? value.get<double>() : std::numeric_limits<double>::quiet_NaN();
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

void write_file_atomically(const fs::path& path, const std::string& text) {
  util::write_file_atomically<SweepStateError>(path, text);
}

}  // namespace locus::bench
