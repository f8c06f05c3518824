#pragma once
// One process at a time in a run directory. Two processes training into the same directory would
// interleave their rows and overwrite each other's checkpoints; the second one is refused instead.
//
// The lock is util::FileLock's flock(2) on DIR/.lock, so the kernel drops it when its process ends
// however it ends (a kill -9 included): a stale lock can never keep a run from being resumed. The
// file holds the owner's pid, for the message the second process gets.

#include <filesystem>
#include <optional>

#include "util/file_lock.hpp"

namespace locus::agents {

class RunLock {
 public:
  // Takes the lock of `dir` (which must exist) or throws RunDirectoryError naming the process
  // that holds it.
  explicit RunLock(const std::filesystem::path& dir);

 private:
  std::optional<util::FileLock> lock_;
};

}  // namespace locus::agents
