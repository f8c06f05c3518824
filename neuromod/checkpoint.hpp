#pragma once
// Checkpoints and context files.
//
// A checkpoint holds what the seed cannot regenerate: the spec (with the seed), every context's
// parameters, the trainable shared weights (baselines), which contexts are frozen, the selected
// context, the weight gains and the gradient mode. Fixed random weights are not stored; the file
// keeps a digest of them so that loading on a build whose generator differs fails instead of
// silently changing the network. Optimizer state is not saved (a restarted run starts it fresh).
//
// A context file holds one context's parameters and a digest of the network it belongs to; it can
// be loaded into any network with the same spec and seed.
//
// Layout (little-endian): "LOCUSNM\0", u32 format version, u32 kind (1 network, 2 context), u64
// header length, header (JSON), u64 data length, data (float32 tensors in header order), u64
// FNV-1a-64 checksum of everything before it. Files are written to a temporary name and renamed, so
// a reader never sees half a file. A missing, truncated, corrupt or foreign file raises
// CheckpointError saying which.

#include <cstdint>
#include <filesystem>
#include <memory>

#include "neuromod/network.hpp"

namespace locus::neuromod {

inline constexpr std::uint32_t kCheckpointFormatVersion = 1;

void save_checkpoint(const Network& network, const std::filesystem::path& path);
// A new network on `backend` with the checkpoint's contexts and weights.
std::unique_ptr<Network> load_checkpoint(const std::filesystem::path& path,
                                         Backend backend = Backend::kCpu);

void save_context(const Network& network, ContextId context, const std::filesystem::path& path);
// Adds the file's context to `network` (which must have the same spec and seed) and returns its id.
ContextId load_context(Network& network, const std::filesystem::path& path);

// Bytes a checkpoint of `network` takes on disk (computed, not written).
std::size_t checkpoint_bytes(const Network& network);

}  // namespace locus::neuromod
