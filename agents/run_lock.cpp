#include "agents/run_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "agents/errors.hpp"

namespace locus::agents {

RunLock::RunLock(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw RunDirectoryError(
        fmt::format("cannot open {} to lock the run: {}", path.string(), std::strerror(errno)));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char owner[32] = {};
    const ssize_t got = ::pread(fd_, owner, sizeof owner - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (error != EWOULDBLOCK) {
      throw RunDirectoryError(
          fmt::format("cannot lock {}: {}", path.string(), std::strerror(error)));
    }
    const std::string pid = got > 0 ? std::string(owner, std::size_t(got)) : std::string("?");
    throw RunDirectoryError(
        fmt::format("{} is in use by another locus process (pid {}); wait for it to end or stop it "
                    "(Ctrl-C stops a run at its next checkpoint), then try again",
                    dir.string(), pid.substr(0, pid.find_first_of("\n "))));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message another process shows; the lock itself is held.
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace locus::agents
