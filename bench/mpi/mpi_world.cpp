#include "bench/mpi/mpi_world.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <exception>

#include "bench/harness/errors.hpp"
#include "bench/mpi/polite_wait.hpp"

namespace locus::bench::mpi {

MpiWorld::MpiWorld() {
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
  if (provided < MPI_THREAD_MULTIPLE) {
    MPI_Finalize();
    throw Error(
        "this MPI library does not support MPI_THREAD_MULTIPLE, which `locus sweep` under mpirun "
        "needs (each rank's worker threads ask the coordinator for runs); use an MPI built with "
        "thread support (Debian's OpenMPI is), or run without mpirun using --shard i/N",
        ErrorKind::kRuntime);
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node = MPI_COMM_NULL;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_free(&node);
}

MpiWorld::~MpiWorld() {
  if (std::uncaught_exceptions() > 0) return;  // see the header: mpirun ends the job
  MPI_Finalize();
}

void MpiWorld::barrier() const {
  MPI_Request request = MPI_REQUEST_NULL;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  wait_politely(request);
}

}  // namespace locus::bench::mpi
