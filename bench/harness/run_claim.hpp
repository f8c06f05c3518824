#pragma once
// A claim on one run of a sweep: the lock (util/file_lock.hpp) of DIR/locks/<id>.lock, so that two
// processes (two `locus sweep` commands on one folder, shards, MPI jobs) never execute and write
// the same run. It is an flock: a crashed claimant blocks no one. On a cluster file system flock
// must reach every node (NFSv4 does; Lustre needs its `flock` mount option): docs/scale-out.md.

#include <filesystem>
#include <optional>
#include <string>

#include "util/file_lock.hpp"

namespace locus::bench {

using RunClaim = util::FileLock;

// The claim on run `id` in out_dir, or none while another holder has it; throws SweepStateError
// when the lock file cannot be made or locked.
std::optional<RunClaim> try_claim_run(const std::filesystem::path& out_dir, const std::string& id);

}  // namespace locus::bench
