#pragma once
// A sweep's output folder: each finished run is DIR/runs/<id>.json, written atomically, so a
// restarted sweep finds exactly the runs that finished; DIR/sweep.json names the sweep and holds
// its config (SweepConfig::to_json), so that `locus sweep merge` can read it back; each run's
// curves and metrics are also in TensorBoard's format, DIR/tensorboard/<id>/
// (bench/harness/run_tensorboard.hpp).

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/harness/grid.hpp"

namespace locus::bench {

struct SweepConfig;

// Refuses a folder of another sweep (a sweep.json of another name) and writes DIR/sweep.json.
void write_sweep_file(const SweepConfig& config, const std::vector<RunSpec>& runs,
                      const std::filesystem::path& out_dir);
// The config stored in DIR/sweep.json; throws SweepStateError naming the file when it is missing
// or damaged.
SweepConfig read_sweep_config(const std::filesystem::path& out_dir);

std::filesystem::path run_path(const std::filesystem::path& out_dir, const RunSpec& spec);

// Writes a finished run: its TensorBoard events, then its run file `text` (what marks it
// finished), each atomically.
void write_run(const std::filesystem::path& out_dir, const RunSpec& spec, const std::string& text);

// The finished run of `spec` in out_dir, or null if there is none; throws SweepStateError when
// the file was written by a run with other settings (the folder belongs to another sweep) or
// cannot be read.
nlohmann::json read_finished_run(const std::filesystem::path& out_dir, const RunSpec& spec);

// A metric of a run file: its number, NaN for null (a metric that was not finite).
double number_or_nan(const nlohmann::json& value);

// Writes `text` to `path` atomically: a temporary file in the same folder, then rename().
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace locus::bench
