#pragma once
// One run of a sweep, executed: its learner trained through the task sequence by run_continual,
// its metrics computed, everything as the JSON written to DIR/runs/<id>.json.

#include <nlohmann/json.hpp>
#include <optional>

#include "bench/harness/grid.hpp"

namespace locus::bench {

// Runs one spec to completion: the JSON written to DIR/runs/<id>.json (settings, metrics, the
// whole continual record). `source_mean_gain` is the mean gain of the run it depends on (its
// fixed_gain_from or matched_lr_from method, same seed and grid point), required for those runs.
nlohmann::json execute_run(const RunSpec& spec,
                           std::optional<double> source_mean_gain = std::nullopt);

}  // namespace locus::bench
