#pragma once
// `locus sweep merge DIR... [--out OUT]`: the end of a sweep run in parts (shards of a job array,
// each writing its own folder or all one shared folder). It checks that the folders hold one sweep
// (the config each sweep.json stores), that every run of it is there and that a run found in two
// folders is the same file, then gathers the runs into OUT (default: the first DIR) and writes the
// summary there, as the last process of a sweep does.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace locus::bench {

struct MergeOutcome {
  std::filesystem::path out_dir;
  std::size_t runs = 0;    // the sweep's runs, all present
  std::size_t copied = 0;  // copied into out_dir from the other folders
  std::string table;       // the summary table (also in summary.csv)
};

// Throws SweepStateError naming the folder and run at fault: a folder that is not a sweep's, two
// folders of different sweeps, a run missing (how to finish it is in the message) or two different
// files of one run.
MergeOutcome merge_sweeps(const std::vector<std::filesystem::path>& dirs,
                          const std::filesystem::path& out_dir);

}  // namespace locus::bench
