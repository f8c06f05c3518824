#pragma once
// A sweep's output folder: each finished run is DIR/runs/<id>.json, written atomically, so a
// restarted sweep finds exactly the runs that finished.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/harness/grid.hpp"

namespace locus::bench {

std::filesystem::path run_path(const std::filesystem::path& out_dir, const RunSpec& spec);

// The finished run of `spec` in out_dir, or null if there is none; throws SweepStateError when
// the file was written by a run with other settings (the folder belongs to another sweep) or
// cannot be read.
nlohmann::json read_finished_run(const std::filesystem::path& out_dir, const RunSpec& spec);

// A metric of a run file: its number, NaN for null (a metric that was not finite).
double number_or_nan(const nlohmann::json& value);

// Writes `text` to `path` atomically: a temporary file in the same folder, then rename().
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace locus::bench
