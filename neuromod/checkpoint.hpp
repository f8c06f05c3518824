#pragma once
// Checkpoints and context files.
//
// A checkpoint holds what the seed cannot regenerate: the spec (with the seed), every context's
// parameters, the trainable shared weights (baselines), which contexts are frozen, the selected
// context, the weight gains, the gradient mode, and the optimizer: its configuration (kind,
// learning rate, betas, decay, clipping, ...) and its state per parameter tensor (update count,
// momentum buffer or moment estimates). Training resumed from a checkpoint therefore continues
// bit for bit as the uninterrupted run would, on the same backend (what PyTorch users get from
// saving both the model's and the optimizer's state_dict). Gradients and the last forward pass are
// not saved: a training step begins with a forward and zero_grad() anyway. Fixed random weights
// are not stored; the file keeps a digest of them so that loading on a build whose generator
// differs fails instead of silently changing the network.
//
// A context file holds one context's parameters and a digest of the network it belongs to; it can
// be loaded into any network with the same spec and seed. It holds no optimizer state: the loaded
// context starts with fresh state, as a context from add_context() does (the target network may
// run another optimizer).
//
// Layout (little-endian): "LOCUSNM\0", u32 format version, u32 kind (1 network, 2 context), u64
// header length, header (JSON), u64 data length, data (float32), u64 FNV-1a-64 checksum of
// everything before it. The data holds the tensors the header's "tensors" lists, in order; in a
// version-2 checkpoint the optimizer state its "optimizer_state" lists follows them: per entry
// (name, context, steps, arrays, size), `arrays` arrays of `size` floats ("first", then
// "second", as OptimizerState names them). A trainable tensor without an entry has fresh state
// (never updated), so contexts that never trained cost nothing. The header's "optimizer" holds
// the configuration. Files are written to a temporary name and renamed, so a reader never sees
// half a file. A missing, truncated, corrupt or foreign file raises CheckpointError saying which;
// the checksum and the length checks cover the optimizer state as they cover the parameters.
//
// A network with several weight sets (NetworkSpec::weight_sets) also stores each context's set
// ("context_weight_sets"), and its context files the context's ("weight_set"); a one-set network's
// files are as before.
//
// Versions: 2 (written now) added the optimizer. A version-1 checkpoint still loads, as it always
// did: the network gets the default optimizer with fresh state (set yours with set_optimizer). A
// file of any other version raises CheckpointError naming its version and the versions this
// build reads.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "neuromod/network.hpp"

namespace locus::neuromod {

// The version save_checkpoint and save_context write, and the oldest one the loaders read.
inline constexpr std::uint32_t kCheckpointFormatVersion = 2;
inline constexpr std::uint32_t kOldestCheckpointFormatVersion = 1;

void save_checkpoint(const Network& network, const std::filesystem::path& path);
// A new network on `backend` with the checkpoint's contexts, weights and optimizer (configuration
// and state; the state moves between backends too).
std::unique_ptr<Network> load_checkpoint(const std::filesystem::path& path,
                                         Backend backend = Backend::kCpu);

// The bytes save_checkpoint writes, and a network from such bytes (`name` names them in errors),
// for file formats that embed a network checkpoint in their own (agents' checkpoint.bin).
std::vector<unsigned char> encode_checkpoint(const Network& network);
std::unique_ptr<Network> decode_checkpoint(std::span<const unsigned char> bytes,
                                           const std::string& name,
                                           Backend backend = Backend::kCpu);

void save_context(const Network& network, ContextId context, const std::filesystem::path& path);
// Adds the file's context to `network` (which must have the same spec and seed) and returns its id.
ContextId load_context(Network& network, const std::filesystem::path& path);

// Bytes a checkpoint of `network` takes on disk (computed, not written).
std::size_t checkpoint_bytes(const Network& network);

}  // namespace locus::neuromod
