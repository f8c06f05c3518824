#pragma once
// The MPI job this process belongs to: MPI initialized (with MPI_THREAD_MULTIPLE, since every
// worker thread of a rank talks to the coordinator) for the lifetime of the object, and finalized
// after. Only `locus sweep` under mpirun creates one (cli/sweep_commands.cpp): a locus started
// without mpirun never initializes MPI.

#include <string>

namespace locus::bench::mpi {

class MpiWorld {
 public:
  // Throws bench::Error when MPI cannot give the thread support the sweep needs.
  MpiWorld();
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // The rank's number among the ranks on its node (which GPU it takes).
  int local_rank() const { return local_rank_; }

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
};

}  // namespace locus::bench::mpi
