#include "agents/run_lock.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "agents/errors.hpp"

namespace locus::agents {

RunLock::RunLock(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / ".lock";
  lock_ = util::FileLock::try_lock<RunDirectoryError>(path);
  if (!lock_) {
    std::string pid;
    std::ifstream(path) >> pid;
    throw RunDirectoryError(
        fmt::format("{} is in use by another locus process (pid {}); wait for it to end or stop it "
                    "(Ctrl-C stops a run at its next checkpoint), then try again",
                    dir.string(), pid.empty() ? std::string("?") : pid));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  const int fd = lock_->descriptor();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message another process shows; the lock itself is held.
  }
}

}  // namespace locus::agents
