// Fuzz target: agent checkpoints (agents::Agent::load), which embed a neuromod checkpoint.
//
// Input: one mode byte, then file bytes. With bit 0 of the mode set, the embedded network's
// checksum (where the file's lengths locate it) and then the file's own are recomputed first, so
// that the fuzzer explores the state record and the network behind them (as a hand-edited file
// would reach them). A checkpoint that loads must save and load again.
// Anything but an agents::CheckpointError (or success) is a bug.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "agents/agent.hpp"
#include "agents/errors.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

constexpr std::size_t kAgentPrefix = 8 + 4;  // magic, version; then the header's length

std::uint64_t fnv1a(const unsigned char* data, std::size_t size) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::uint64_t get_u64(const std::vector<unsigned char>& bytes, std::size_t offset) {
  std::uint64_t value = 0;
  std::memcpy(&value, bytes.data() + offset, 8);
  return value;
}

void put_checksum(unsigned char* begin, std::size_t size) {
  if (size < 8) return;
  const std::uint64_t hash = fnv1a(begin, size - 8);
  std::memcpy(begin + size - 8, &hash, 8);
}

void fix_checksums(std::vector<unsigned char>& bytes) {
  if (bytes.size() < kAgentPrefix + 8 + 8 + 8) return;
  const std::uint64_t header = get_u64(bytes, kAgentPrefix);
  const std::size_t body = bytes.size() - 8;
  const std::size_t network_offset = kAgentPrefix + 8;
  if (header <= body - network_offset && body - network_offset - header >= 8) {
    const std::size_t network = network_offset + header + 8;
    put_checksum(bytes.data() + network, body - network);
  }
  put_checksum(bytes.data(), bytes.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static locus::fuzz::ScratchFile file(".agent.bin");
  static locus::fuzz::ScratchFile saved(".agent.saved.bin");
  if (size == 0) return 0;
  std::vector<unsigned char> bytes(data + 1, data + size);
  if (data[0] & 1) fix_checksums(bytes);
  file.write(bytes.data(), bytes.size());
  locus::fuzz::expect_clean<locus::agents::CheckpointError>([&] {
    const auto agent = locus::agents::Agent::load(file.path());
    agent.save(saved.path());
    locus::agents::Agent::load(saved.path());
  });
  return 0;
}
