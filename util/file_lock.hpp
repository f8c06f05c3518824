// An exclusive lock on a file, shared by the folders that keep two processes apart: a run directory
// of `locus train` (agents/run_lock.hpp) and each run of a sweep (bench/harness/run_claim.hpp).
// The lock is flock(2): the kernel releases it when its holder exits however it exits (SIGKILL
// too), so a crashed holder never blocks anyone, and two open files of one path exclude each other
// even inside one process. The lock file stays when released: removing it would let a new holder
// lock a new file while an old one still waits on the removed one.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

namespace locus::util {

class FileLock {
 public:
  // The lock on `path` (created when missing), or none while another open file holds it. Throws
  // Error(message), the caller's exception type, naming the file and the cause when the file cannot
  // be opened or locked (a read-only folder; a file system without flock).
  template <class Error>
  static std::optional<FileLock> try_lock(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw Error("cannot open the lock file " + path.string() + ": " + std::strerror(errno) +
                  "; check that its folder exists and is writable");
    }
    int status = 0;
    do {
      status = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (status != 0 && errno == EINTR);
    if (status == 0) return FileLock(fd);
    const int cause = errno;
    ::close(fd);
    if (cause == EWOULDBLOCK) return std::nullopt;
    throw Error("cannot lock " + path.string() + ": " + std::strerror(cause) +
                "; the file system must support flock(2)");
  }

  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileLock& operator=(FileLock&& other) noexcept {
    if (this != &other) {
      release();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock() { release(); }

  // The locked file, open for reading and writing (a holder may note its pid there).
  int descriptor() const { return fd_; }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  void release() {
    if (fd_ >= 0) ::close(fd_);  // closing the last descriptor of the file releases the flock
    fd_ = -1;
  }
  int fd_ = -1;
};

}  // namespace locus::util
