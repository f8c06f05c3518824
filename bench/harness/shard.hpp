#pragma once
// Shards: `locus sweep CONFIG --shard i/N` runs the i-th of N disjoint parts of a sweep, for Slurm
// job arrays and any batch system (task i runs shard i). The parts are made of units, a run
// together with the controls that read its gain (fixed_gain_from, matched_lr_from), so that no
// shard waits for another; unit k (in the sweep's run order) goes to shard k mod N. Every run is in
// exactly one shard, and which one depends only on the config and N.

#include <cstddef>
#include <string>
#include <vector>

#include "bench/harness/grid.hpp"

namespace locus::bench {

struct Shard {
  std::size_t index = 0;
  std::size_t count = 1;  // 1: the whole sweep
};

// Reads "i/N" (0 <= i < N); throws InvalidArgumentError naming the text and the accepted form.
Shard parse_shard(const std::string& text);

// Whether runs[i] belongs to `shard`, for every run.
std::vector<char> shard_members(const std::vector<RunSpec>& runs, const Shard& shard);

}  // namespace locus::bench
