#include "bench/harness/run_claim.hpp"

#include "bench/harness/errors.hpp"

namespace locus::bench {

std::optional<RunClaim> try_claim_run(const std::filesystem::path& out_dir, const std::string& id) {
  const std::filesystem::path dir = out_dir / "locks";
  std::error_code ignored;  // a failure shows as the lock file's own error, which names the path
  std::filesystem::create_directories(dir, ignored);
  return util::FileLock::try_lock<SweepStateError>(dir / (id + ".lock"));
}

}  // namespace locus::bench
