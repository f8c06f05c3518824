#include "neuromod/checkpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "neuromod/errors.hpp"
#include "neuromod/random.hpp"
#include "util/atomic_file.hpp"

namespace locus::neuromod {

namespace {

constexpr std::array<char, 8> kMagic = {'L', 'O', 'C', 'U', 'S', 'N', 'M', '\0'};
constexpr std::uint32_t kKindNetwork = 1;
constexpr std::uint32_t kKindContext = 2;
constexpr std::size_t kPrefixBytes = 8 + 4 + 4 + 8;

std::uint64_t fnv1a(const unsigned char* data, std::size_t bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < bytes; ++i) {
    hash ^= data[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

template <typename T>
void put(std::vector<unsigned char>& out, T value) {
  static_assert(std::endian::native == std::endian::little, "checkpoints are little-endian");
  const auto* p = reinterpret_cast<const unsigned char*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

template <typename T>
T get(std::span<const unsigned char> in, std::size_t offset) {
  T value;
  std::memcpy(&value, in.data() + offset, sizeof(T));
  return value;
}

// A digest of the network a context belongs to: its spec (with the seed) and fixed structure.
std::uint64_t network_digest(const Network& network) {
  const std::string spec = to_json(network.spec());
  return mix64(fnv1a(reinterpret_cast<const unsigned char*>(spec.data()), spec.size()) ^
               network.structure_digest());
}

std::string hex(std::uint64_t value) {
  return fmt::format("{:016x}", value);
}

std::string_view mode_name(GradientMode mode) {
  return mode == GradientMode::kContextOnly ? "context_only" : "all_trainable";
}

// "'layer0.weight'" or "'layer0.gain' (context 2)": a tensor as messages name it.
std::string tensor_label(std::string_view tensor, ContextId context) {
  return context == kSharedContext ? fmt::format("'{}'", tensor)
                                   : fmt::format("'{}' (context {})", tensor, context);
}

// Every field of the optimizer's configuration, so that load restores the same optimizer. Floats
// pass through JSON exactly (stored as doubles, printed with round-trip precision).
nlohmann::json optimizer_to_json(const OptimizerConfig& config) {
  return {{"kind", std::string(to_string(config.kind))},
          {"learning_rate", config.learning_rate},
          {"momentum", config.momentum},
          {"nesterov", config.nesterov},
          {"beta1", config.beta1},
          {"beta2", config.beta2},
          {"epsilon", config.epsilon},
          {"rms_alpha", config.rms_alpha},
          {"weight_decay", config.weight_decay},
          {"decoupled_weight_decay", config.decoupled_weight_decay},
          {"clip_grad_norm", config.clip_grad_norm},
          {"clip_grad_value", config.clip_grad_value}};
}

// Throws nlohmann's exception for a missing field, InvalidArgumentError for a value out of range.
OptimizerConfig optimizer_from_json(const nlohmann::json& json) {
  OptimizerConfig config;
  config.kind = optimizer_kind_from_string(json.at("kind").get<std::string>());
  config.learning_rate = json.at("learning_rate").get<float>();
  config.momentum = json.at("momentum").get<float>();
  config.nesterov = json.at("nesterov").get<bool>();
  config.beta1 = json.at("beta1").get<float>();
  config.beta2 = json.at("beta2").get<float>();
  config.epsilon = json.at("epsilon").get<float>();
  config.rms_alpha = json.at("rms_alpha").get<float>();
  config.weight_decay = json.at("weight_decay").get<float>();
  config.decoupled_weight_decay = json.at("decoupled_weight_decay").get<bool>();
  config.clip_grad_norm = json.at("clip_grad_norm").get<float>();
  config.clip_grad_value = json.at("clip_grad_value").get<float>();
  config.validate();
  return config;
}

std::vector<unsigned char> encode(std::uint32_t kind, const nlohmann::json& header,
                                  const std::vector<float>& data) {
  std::vector<unsigned char> bytes(kMagic.begin(), kMagic.end());
  put<std::uint32_t>(bytes, kCheckpointFormatVersion);
  put<std::uint32_t>(bytes, kind);
  const std::string text = header.dump();
  put<std::uint64_t>(bytes, text.size());
  bytes.insert(bytes.end(), text.begin(), text.end());
  put<std::uint64_t>(bytes, data.size() * sizeof(float));
  const auto* raw = reinterpret_cast<const unsigned char*>(data.data());
  bytes.insert(bytes.end(), raw, raw + data.size() * sizeof(float));
  put<std::uint64_t>(bytes, fnv1a(bytes.data(), bytes.size()));
  return bytes;
}

void write_file(const std::filesystem::path& path, const std::vector<unsigned char>& bytes) {
  util::write_file_atomically<CheckpointError>(
      path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

struct FileContents {
  std::uint32_t version;
  std::uint32_t kind;
  nlohmann::json header;
  std::vector<float> data;
};

// Checks and splits the bytes of a checkpoint or context file; `name` names them in errors.
FileContents parse_contents(std::span<const unsigned char> bytes, const std::string& name) {
  if (bytes.size() < kPrefixBytes || std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
    if (bytes.size() >= kMagic.size() &&
        std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
      throw CheckpointError(
          fmt::format("'{}' is not a locus neuromod checkpoint (bad magic)", name));
    }
    throw CheckpointError(fmt::format("'{}' is truncated: {} bytes, less than the {}-byte header",
                                      name, bytes.size(), kPrefixBytes));
  }
  const auto version = get<std::uint32_t>(bytes, 8);
  if (version < kOldestCheckpointFormatVersion || version > kCheckpointFormatVersion) {
    throw CheckpointError(fmt::format(
        "'{}' has format version {}; this build reads versions {} to {}{}", name, version,
        kOldestCheckpointFormatVersion, kCheckpointFormatVersion,
        version > kCheckpointFormatVersion ? " (was it written by a newer locus?)" : ""));
  }
  FileContents contents;
  contents.version = version;
  contents.kind = get<std::uint32_t>(bytes, 12);
  const auto header_bytes = get<std::uint64_t>(bytes, 16);
  std::size_t offset = kPrefixBytes;
  if (header_bytes > bytes.size() - offset || bytes.size() - offset - header_bytes < 8) {
    throw CheckpointError(
        fmt::format("'{}' is truncated or corrupt: header of {} bytes at offset "
                    "{} in a {}-byte file",
                    name, header_bytes, offset, bytes.size()));
  }
  const std::size_t header_offset = offset;
  offset += header_bytes;
  const auto data_bytes = get<std::uint64_t>(bytes, offset);
  offset += 8;
  const std::size_t expected = offset + data_bytes + 8;
  if (data_bytes > bytes.size() || expected != bytes.size()) {
    throw CheckpointError(
        fmt::format("'{}' is truncated or corrupt: expected {} bytes from its "
                    "header, the file has {}",
                    name, expected, bytes.size()));
  }
  const auto stored = get<std::uint64_t>(bytes, offset + data_bytes);
  const std::uint64_t actual = fnv1a(bytes.data(), offset + data_bytes);
  if (stored != actual) {
    throw CheckpointError(
        fmt::format("'{}' is corrupt: checksum {} does not match its contents "
                    "({})",
                    name, hex(stored), hex(actual)));
  }
  if (data_bytes % sizeof(float) != 0) {
    throw CheckpointError(
        fmt::format("'{}' is corrupt: {} data bytes is not a whole number of "
                    "floats",
                    name, data_bytes));
  }
  try {
    contents.header =
        nlohmann::json::parse(bytes.begin() + std::ptrdiff_t(header_offset),
                              bytes.begin() + std::ptrdiff_t(header_offset + header_bytes));
  } catch (const nlohmann::json::exception& error) {
    throw CheckpointError(fmt::format("'{}' has an unreadable header: {}", name, error.what()));
  }
  contents.data.resize(data_bytes / sizeof(float));
  std::memcpy(contents.data.data(), bytes.data() + offset, data_bytes);
  return contents;
}

FileContents read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(fmt::format("cannot open '{}'", path.string()));
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
  return parse_contents(bytes, path.string());
}

// Appends the tensors to save: (name, context) entries into the header, values into data.
void add_tensor(const Network& network, const ParameterInfo& info, nlohmann::json& tensors,
                std::vector<float>& data) {
  const std::vector<float> values = network.read_parameter(info.name, info.context);
  tensors.push_back({{"name", info.name}, {"context", info.context}, {"size", values.size()}});
  data.insert(data.end(), values.begin(), values.end());
}

// Appends the optimizer state of a trainable tensor unless it is fresh (never updated, zero
// arrays): a tensor without an entry loads with fresh state, so contexts that never trained cost
// nothing.
void add_optimizer_state(const Network& network, const ParameterInfo& info, nlohmann::json& entries,
                         std::vector<float>& data) {
  const OptimizerState state = network.read_optimizer_state(info.name, info.context);
  const auto zero = [](float v) { return v == 0.0f; };
  if (state.steps == 0 && std::all_of(state.first.begin(), state.first.end(), zero) &&
      std::all_of(state.second.begin(), state.second.end(), zero)) {
    return;
  }
  const std::size_t arrays = state.second.empty() ? (state.first.empty() ? 0 : 1) : 2;
  entries.push_back({{"name", info.name},
                     {"context", info.context},
                     {"steps", state.steps},
                     {"arrays", arrays},
                     {"size", info.size()}});
  data.insert(data.end(), state.first.begin(), state.first.end());
  data.insert(data.end(), state.second.begin(), state.second.end());
}

// Writes the header's tensors into `network` from data[offset...], mapping a file context to
// `context_map(c)`; returns the offset after them.
template <typename ContextMap>
std::size_t restore_tensors(Network& network, const nlohmann::json& tensors,
                            const std::vector<float>& data, std::size_t offset,
                            const std::string& name, const ContextMap& context_map) {
  for (const auto& tensor : tensors) {
    const auto size = tensor.at("size").get<std::size_t>();
    if (size > data.size() - offset) {
      throw CheckpointError(fmt::format("'{}' is corrupt: tensor '{}' runs past the data", name,
                                        tensor.at("name").get<std::string>()));
    }
    const auto context = tensor.at("context").get<ContextId>();
    network.write_parameter(tensor.at("name").get<std::string>(), context_map(context),
                            std::span<const float>(data.data() + offset, size));
    offset += size;
  }
  return offset;
}

// Writes the optimizer state entries into `network` (whose optimizer is already set) from
// data[offset...]; returns the offset after them.
std::size_t restore_optimizer_state(Network& network, const nlohmann::json& entries,
                                    const std::vector<float>& data, std::size_t offset,
                                    const std::string& name) {
  const std::size_t kept = network.optimizer().state_arrays();
  for (const auto& entry : entries) {
    const auto tensor = entry.at("name").get<std::string>();
    const auto context = entry.at("context").get<ContextId>();
    const auto arrays = entry.at("arrays").get<std::size_t>();
    const auto size = entry.at("size").get<std::size_t>();
    if (arrays != kept) {
      throw CheckpointError(fmt::format(
          "'{}' is corrupt: the optimizer state of {} has {} arrays; its {} optimizer keeps {}",
          name, tensor_label(tensor, context), arrays, to_string(network.optimizer().kind), kept));
    }
    if (arrays > 0 && size > (data.size() - offset) / arrays) {
      throw CheckpointError(
          fmt::format("'{}' is corrupt: the optimizer state of {} runs past the data", name,
                      tensor_label(tensor, context)));
    }
    OptimizerState state;
    state.steps = entry.at("steps").get<std::int64_t>();
    const auto take = [&](std::vector<float>& array) {
      array.assign(data.begin() + std::ptrdiff_t(offset),
                   data.begin() + std::ptrdiff_t(offset + size));
      offset += size;
    };
    if (arrays >= 1) take(state.first);
    if (arrays >= 2) take(state.second);
    network.write_optimizer_state(tensor, context, state);
  }
  return offset;
}

void require_all_used(const std::vector<float>& data, std::size_t offset, const std::string& name) {
  if (offset != data.size()) {
    throw CheckpointError(
        fmt::format("'{}' is corrupt: {} floats of data left over", name, data.size() - offset));
  }
}

std::vector<unsigned char> encode_network(const Network& network) {
  nlohmann::json header;
  header["spec"] = nlohmann::json::parse(to_json(network.spec()));
  header["structure_digest"] = hex(network.structure_digest());
  header["contexts"] = network.context_count();
  header["selected"] = network.selected_context();
  std::vector<bool> frozen;
  for (std::size_t c = 0; c < network.context_count(); ++c) {
    frozen.push_back(network.is_frozen(static_cast<ContextId>(c)));
  }
  header["frozen"] = frozen;
  if (network.spec().weight_sets > 1) {
    std::vector<std::size_t> sets;
    for (std::size_t c = 0; c < network.context_count(); ++c) {
      sets.push_back(network.weight_set(static_cast<ContextId>(c)));
    }
    header["context_weight_sets"] = sets;
  }
  std::vector<float> gains;
  for (std::size_t s = 0; s < network.weight_gain_slots(); ++s)
    gains.push_back(network.weight_gain(s));
  header["weight_gains"] = gains;
  header["gradient_mode"] = mode_name(network.gradient_mode());
  header["optimizer"] = optimizer_to_json(network.optimizer());
  nlohmann::json tensors = nlohmann::json::array();
  std::vector<float> data;
  const std::vector<ParameterInfo> infos = network.parameters();
  for (const ParameterInfo& info : infos) {
    if (info.trainable) add_tensor(network, info, tensors, data);
  }
  header["tensors"] = tensors;
  // After every parameter, so that the parameters sit where a version-1 file has them.
  nlohmann::json optimizer_state = nlohmann::json::array();
  for (const ParameterInfo& info : infos) {
    if (info.trainable) add_optimizer_state(network, info, optimizer_state, data);
  }
  header["optimizer_state"] = optimizer_state;
  return encode(kKindNetwork, header, data);
}

}  // namespace

void save_checkpoint(const Network& network, const std::filesystem::path& path) {
  write_file(path, encode_network(network));
}

std::vector<unsigned char> encode_checkpoint(const Network& network) {
  return encode_network(network);
}

namespace {

std::unique_ptr<Network> decode_network(const FileContents& file, const std::string& name,
                                        Backend backend) {
  if (file.kind != kKindNetwork) {
    throw CheckpointError(
        fmt::format("'{}' is a context file, not a network checkpoint (use "
                    "load_context)",
                    name));
  }
  try {
    const nlohmann::json& h = file.header;
    auto network = make_network(network_spec_from_json(h.at("spec").dump()), backend);
    if (hex(network->structure_digest()) != h.at("structure_digest").get<std::string>()) {
      throw CheckpointError(fmt::format(
          "'{}': the fixed weights regenerated from seed {} differ from the saved network's "
          "(digest {} vs {}); the random generator changed",
          name, network->spec().seed, hex(network->structure_digest()),
          h.at("structure_digest").get<std::string>()));
    }
    const auto contexts = h.at("contexts").get<std::size_t>();
    if (contexts == 0) throw CheckpointError(fmt::format("'{}' is corrupt: 0 contexts", name));
    // Each context on its weight set (context 0 is always on set 0, as a new network makes it).
    std::vector<std::size_t> sets(contexts, 0);
    if (const std::size_t weight_sets = network->spec().weight_sets; weight_sets > 1) {
      sets = h.at("context_weight_sets").get<std::vector<std::size_t>>();
      if (sets.size() != contexts) {
        throw CheckpointError(fmt::format("'{}' is corrupt: {} context weight sets for {} contexts",
                                          name, sets.size(), contexts));
      }
      for (std::size_t c = 0; c < contexts; ++c) {
        if (sets[c] >= weight_sets || (c == 0 && sets[c] != 0)) {
          throw CheckpointError(fmt::format(
              "'{}' is corrupt: context {} on weight set {}; the network has {} (0..{}) and "
              "context 0 is always on set 0",
              name, c, sets[c], weight_sets, weight_sets - 1));
        }
      }
    }
    while (network->context_count() < contexts) {
      network->add_context(sets[network->context_count()]);
    }
    std::size_t offset = restore_tensors(*network, h.at("tensors"), file.data, 0, name,
                                         [](ContextId c) { return c; });
    const auto frozen = h.at("frozen").get<std::vector<bool>>();
    for (std::size_t c = 0; c < frozen.size() && c < contexts; ++c) {
      network->set_frozen(static_cast<ContextId>(c), frozen[c]);
    }
    network->select_context(h.at("selected").get<ContextId>());
    const auto gains = h.at("weight_gains").get<std::vector<float>>();
    for (std::size_t s = 0; s < gains.size() && s < network->weight_gain_slots(); ++s) {
      network->set_weight_gain(s, gains[s]);
    }
    network->set_gradient_mode(h.at("gradient_mode").get<std::string>() == "context_only"
                                   ? GradientMode::kContextOnly
                                   : GradientMode::kAllTrainable);
    // Version 1 saved no optimizer: the network keeps the default one, with fresh state.
    if (file.version >= 2) {
      try {
        network->set_optimizer(optimizer_from_json(h.at("optimizer")));
      } catch (const InvalidArgumentError& error) {
        throw CheckpointError(
            fmt::format("'{}' holds an optimizer this build rejects: {}", name, error.what()));
      }
      offset = restore_optimizer_state(*network, h.at("optimizer_state"), file.data, offset, name);
    }
    require_all_used(file.data, offset, name);
    return network;
  } catch (const nlohmann::json::exception& error) {
    throw CheckpointError(fmt::format("'{}' has a malformed header: {}", name, error.what()));
  } catch (const CheckpointError&) {
    throw;
  } catch (const Error& error) {
    throw CheckpointError(fmt::format("'{}' does not fit its own spec: {}", name, error.what()));
  }
}

}  // namespace

std::unique_ptr<Network> load_checkpoint(const std::filesystem::path& path, Backend backend) {
  return decode_network(read_file(path), path.string(), backend);
}

std::unique_ptr<Network> decode_checkpoint(std::span<const unsigned char> bytes,
                                           const std::string& name, Backend backend) {
  return decode_network(parse_contents(bytes, name), name, backend);
}

void save_context(const Network& network, ContextId context, const std::filesystem::path& path) {
  if (context < 0 || std::size_t(context) >= network.context_count()) {
    throw ContextError(fmt::format("save_context: context {} does not exist (the network has {})",
                                   context, network.context_count()));
  }
  nlohmann::json header;
  header["network"] = network.spec().name;
  header["network_digest"] = hex(network_digest(network));
  if (network.spec().weight_sets > 1) header["weight_set"] = network.weight_set(context);
  nlohmann::json tensors = nlohmann::json::array();
  std::vector<float> data;
  for (const ParameterInfo& info : network.parameters()) {
    if (info.context == context) add_tensor(network, info, tensors, data);
  }
  header["tensors"] = tensors;
  write_file(path, encode(kKindContext, header, data));
}

ContextId load_context(Network& network, const std::filesystem::path& path) {
  const FileContents file = read_file(path);
  const std::string name = path.string();
  if (file.kind != kKindContext) {
    throw CheckpointError(
        fmt::format("'{}' is a network checkpoint, not a context file (use "
                    "load_checkpoint)",
                    name));
  }
  try {
    if (file.header.at("network_digest").get<std::string>() != hex(network_digest(network))) {
      throw CheckpointError(
          fmt::format("'{}' holds a context of network '{}' with another spec or "
                      "seed; it does not fit network '{}'",
                      name, file.header.at("network").get<std::string>(), network.spec().name));
    }
    std::size_t floats = 0;
    for (const auto& tensor : file.header.at("tensors"))
      floats += tensor.at("size").get<std::size_t>();
    if (floats != file.data.size()) {
      throw CheckpointError(fmt::format("'{}' is corrupt: its tensors need {} floats, it holds {}",
                                        name, floats, file.data.size()));
    }
    // The context learned on its weight set's fixed weights, so it goes back on the same set.
    const auto set = file.header.value("weight_set", std::size_t{0});
    if (set >= network.spec().weight_sets) {
      throw CheckpointError(fmt::format(
          "'{}' is corrupt: its context is on weight set {}; the network has {} (0..{})", name, set,
          network.spec().weight_sets, network.spec().weight_sets - 1));
    }
    const ContextId id = network.add_context(set);
    restore_tensors(network, file.header.at("tensors"), file.data, 0, name,
                    [id](ContextId) { return id; });
    return id;
  } catch (const nlohmann::json::exception& error) {
    throw CheckpointError(fmt::format("'{}' has a malformed header: {}", name, error.what()));
  }
}

std::size_t checkpoint_bytes(const Network& network) {
  return encode_network(network).size();
}

}  // namespace locus::neuromod
