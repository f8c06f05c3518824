// Fuzz target: neuromod checkpoints and context files (neuromod/checkpoint.hpp).
//
// Input: one mode byte, then file bytes.
//   bit 0 set:  the file's trailing FNV-1a checksum is recomputed first, so that the fuzzer
//               explores the header and data behind the checksum (as a hand-edited file would
//               reach them) instead of being stopped by it.
//   bit 1 clear: decode_checkpoint; a network that loads must encode and decode again to the same
//               bytes.
//   bit 1 set:  load_context into a small fixed network.
// Anything but a CheckpointError (or success) is a bug.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "neuromod/checkpoint.hpp"
#include "neuromod/errors.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using locus::neuromod::CheckpointError;

void fix_checksum(std::vector<unsigned char>& bytes) {
  if (bytes.size() < 8) return;
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i + 8 < bytes.size(); ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ULL;
  }
  std::memcpy(bytes.data() + bytes.size() - 8, &hash, 8);
}

void decode(const std::vector<unsigned char>& bytes) {
  locus::fuzz::expect_clean<CheckpointError>([&] {
    const auto network = locus::neuromod::decode_checkpoint(bytes, "fuzz input");
    const auto encoded = locus::neuromod::encode_checkpoint(*network);
    const auto again = locus::neuromod::decode_checkpoint(encoded, "re-encoded fuzz input");
    locus::fuzz::require(locus::neuromod::encode_checkpoint(*again) == encoded,
                         "a decoded checkpoint does not encode to the same bytes twice");
  });
}

void load_context(const std::vector<unsigned char>& bytes) {
  static locus::fuzz::ScratchFile file(".ctx");
  file.write(bytes.data(), bytes.size());
  auto network = locus::neuromod::make_network(locus::neuromod::modulated_mlp(3, {4}, 2, 1));
  locus::fuzz::expect_clean<CheckpointError>(
      [&] { locus::neuromod::load_context(*network, file.path()); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<unsigned char> bytes(data + 1, data + size);
  if (data[0] & 1) fix_checksum(bytes);
  if (data[0] & 2) {
    load_context(bytes);
  } else {
    decode(bytes);
  }
  return 0;
}
