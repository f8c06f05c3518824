#pragma once
// `mpirun -n N locus train --seeds ...`: the ranks of an MPI job as the processes of one multi-seed
// run (agents::RunGroup, agents/run.hpp): rank r trains the seeds at positions r, r + N, ... and
// rank 0 writes the run's summary once every rank is done. The run directory must be on a file
// system every rank sees.

#include <cstddef>

#include "agents/run.hpp"
#include "bench/mpi/mpi_world.hpp"

namespace locus::bench::mpi {

class MpiRunGroup : public agents::RunGroup {
 public:
  explicit MpiRunGroup(const MpiWorld& world) : world_(world) {}
  std::size_t index() const override { return static_cast<std::size_t>(world_.rank()); }
  std::size_t count() const override { return static_cast<std::size_t>(world_.size()); }
  void wait_for_all() override { world_.barrier(); }

 private:
  const MpiWorld& world_;
};

}  // namespace locus::bench::mpi
