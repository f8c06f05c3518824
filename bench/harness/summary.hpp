#pragma once
// The summary of a finished sweep: DIR/results.jsonl (one line per run), DIR/summary.csv (mean
// and sd over seeds of every metric, per method and grid point) and a Markdown table of the main
// metrics.

#include <filesystem>
#include <string>

#include "bench/harness/sweep_config.hpp"

namespace locus::bench {

// Reads DIR/runs/*.json of the sweep's runs, writes DIR/results.jsonl and DIR/summary.csv, and
// returns the printed table, followed, where runs found their task boundaries in training
// (context_at_train on-change), by a table of what they found. Used by run_sweep at its end.
std::string write_summary(const SweepConfig& config, const std::filesystem::path& out_dir);

}  // namespace locus::bench
