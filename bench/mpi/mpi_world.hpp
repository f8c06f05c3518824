#pragma once
// The MPI job this process belongs to: MPI initialized (with MPI_THREAD_MULTIPLE, since every
// worker thread of a sweep's rank talks to the coordinator) for the lifetime of the object, and
// finalized after. Only `locus sweep` and `locus train` under mpirun create one (cli/): a locus
// started without mpirun never initializes MPI.
//
// When the object is destroyed by an exception (this rank failed), MPI is not finalized: the
// process then exits without MPI_Finalize, and mpirun stops the other ranks, which would
// otherwise wait forever for this one.

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
  // Returns once every rank has called it, sleeping rather than spinning while it waits.
  void barrier() const;

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
};

}  // namespace locus::bench::mpi
