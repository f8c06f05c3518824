#pragma once
// Waiting for MPI without spinning: MPI's blocking calls poll in a busy loop, and the cores are the
// workers'. A waiting thread sleeps between looks, first briefly (a reply usually comes at once),
// then longer and longer up to kPollMax, so that a waiting thread costs the workers little and
// delays what it waits for by at most kPollMax (0.5 ms against runs of a second or more).

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace locus::bench::mpi {

class Backoff {
 public:
  void reset() { wait_ = kPollMin; }
  void sleep() {
    std::this_thread::sleep_for(wait_);
    wait_ = std::min(wait_ * 2, kPollMax);
  }

 private:
  static constexpr std::chrono::microseconds kPollMin{20};
  static constexpr std::chrono::microseconds kPollMax{500};
  std::chrono::microseconds wait_ = kPollMin;
};

// Waits until `request` completes.
inline void wait_politely(MPI_Request& request) {
  Backoff backoff;
  int done = 0;
  MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  while (!done) {
    backoff.sleep();
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  }
}

}  // namespace locus::bench::mpi
