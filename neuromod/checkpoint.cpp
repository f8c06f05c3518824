#include "neuromod/checkpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "neuromod/errors.hpp"
#include "neuromod/random.hpp"
#include "util/atomic_file.hpp"
#include "util/hash.hpp"

namespace locus::neuromod {

namespace {

constexpr std::array<char, 8> kMagic = {'L', 'O', 'C', 'U', 'S', 'N', 'M', '\0'};
constexpr std::uint32_t kKindNetwork = 1;
constexpr std::uint32_t kKindContext = 2;
constexpr std::size_t kPrefixBytes = 8 + 4 + 4 + 8;

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
  return mix64(util::fnv1a64(spec) ^ network.structure_digest());
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
  put<std::uint64_t>(bytes, util::fnv1a64(bytes.data(), bytes.size()));
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
  const std::uint64_t actual = util::fnv1a64(bytes.data(), offset + data_bytes);
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
  // Not for an empty payload: memcpy from or to the null pointer of an empty vector is undefined
  // even for 0 bytes.
  if (data_bytes > 0) std::memcpy(contents.data.data(), bytes.data() + offset, data_bytes);
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

// Reads a checkpoint's or context file's header, checking every field as it goes: a field that is
// missing or of the wrong type makes a malformed header, a value that does not fit the network
// makes a corrupt file; either way the CheckpointError names the file, the field and the problem.
// The checksum only proves the file is as written; these checks catch a file written wrong (or
// edited and re-summed) before it can size an allocation or reach the network.
class HeaderReader {
 public:
  explicit HeaderReader(const std::string& name) : name_(name) {}

  [[noreturn]] void malformed(std::string_view field, std::string_view problem) const {
    throw CheckpointError(
        fmt::format("'{}' has a malformed header: field '{}' {}", name_, field, problem));
  }
  [[noreturn]] void corrupt(std::string_view field, std::string_view problem) const {
    throw CheckpointError(
        fmt::format("'{}' is corrupt: header field '{}' {}", name_, field, problem));
  }

  // object[key], where `path` names object[key] in messages.
  const nlohmann::json& member(const nlohmann::json& object, const char* key,
                               const std::string& path) const {
    if (!object.is_object()) malformed(path, "belongs to something that is not a JSON object");
    const auto found = object.find(key);
    if (found == object.end()) malformed(path, "is missing");
    return *found;
  }
  const nlohmann::json& array(const nlohmann::json& value, const std::string& path) const {
    if (!value.is_array()) malformed(path, fmt::format("is {}, not an array", value.type_name()));
    return value;
  }
  std::uint64_t count(const nlohmann::json& value, const std::string& path,
                      std::uint64_t most) const {
    if (!value.is_number_unsigned()) {
      malformed(path, fmt::format("is {}, not a non-negative integer", value.dump()));
    }
    const auto n = value.get<std::uint64_t>();
    if (n > most) corrupt(path, fmt::format("is {}; at most {} fits", n, most));
    return n;
  }
  std::int64_t integer(const nlohmann::json& value, const std::string& path, std::int64_t least,
                       std::int64_t most) const {
    if (!value.is_number_integer())
      malformed(path, fmt::format("is {}, not an integer", value.dump()));
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > std::uint64_t(most)) {
      corrupt(path, fmt::format("is {}; it must be {} to {}", value.dump(), least, most));
    }
    const auto n = value.get<std::int64_t>();
    if (n < least || n > most)
      corrupt(path, fmt::format("is {}; it must be {} to {}", n, least, most));
    return n;
  }
  float finite_float(const nlohmann::json& value, const std::string& path) const {
    if (!value.is_number()) malformed(path, fmt::format("is {}, not a number", value.dump()));
    const auto x = value.get<double>();
    if (!std::isfinite(x) || std::abs(x) > double(std::numeric_limits<float>::max())) {
      corrupt(path, fmt::format("is {}; it must be a finite float32", value.dump()));
    }
    return static_cast<float>(x);
  }
  bool boolean(const nlohmann::json& value, const std::string& path) const {
    if (!value.is_boolean()) malformed(path, fmt::format("is {}, not true or false", value.dump()));
    return value.get<bool>();
  }
  std::string string(const nlohmann::json& value, const std::string& path) const {
    if (!value.is_string()) malformed(path, fmt::format("is {}, not a string", value.dump()));
    return value.get<std::string>();
  }
  // A run of `size` floats from data[offset...], all finite; `path` names what they belong to.
  std::span<const float> floats(const std::vector<float>& data, std::size_t offset,
                                std::size_t size, const std::string& path) const {
    if (size > data.size() - offset) {
      throw CheckpointError(fmt::format("'{}' is corrupt: {} runs past the data", name_, path));
    }
    const std::span<const float> values(data.data() + offset, size);
    for (std::size_t i = 0; i < size; ++i) {
      if (!std::isfinite(values[i])) {
        throw CheckpointError(
            fmt::format("'{}' is corrupt: {} holds the non-finite value {} at "
                        "element {}",
                        name_, path, values[i], i));
      }
    }
    return values;
  }

  const std::string& name() const { return name_; }

 private:
  const std::string& name_;
};

std::string indexed(std::string_view field, std::size_t index) {
  return fmt::format("{}[{}]", field, index);
}

// The trainable tensors a file of `network` with `contexts` contexts holds, in the order the
// encoder writes them: shared ones first, then each context's (as Network::parameters() lists
// them), without adding the contexts.
std::vector<ParameterInfo> trainable_tensors(const Network& network, std::size_t contexts) {
  std::vector<ParameterInfo> shared, per_context;
  for (const ParameterInfo& info : network.parameters()) {
    if (!info.trainable) continue;
    if (info.context == kSharedContext) shared.push_back(info);
    if (info.context == 0) per_context.push_back(info);
  }
  std::vector<ParameterInfo> out = shared;
  for (std::size_t c = 0; c < contexts; ++c) {
    for (ParameterInfo info : per_context) {
      info.context = static_cast<ContextId>(c);
      out.push_back(info);
    }
  }
  return out;
}

// Checks that the header's "tensors" are exactly `expected` (name, context and size, in order) and
// that their data is there and finite; returns the offset after them. `file_context` maps an
// expected context to the one the file names (a context file names its own).
template <typename FileContext>
std::size_t check_tensors(const HeaderReader& reader, const nlohmann::json& tensors,
                          const std::vector<ParameterInfo>& expected,
                          const std::vector<float>& data, const FileContext& file_context) {
  reader.array(tensors, "tensors");
  if (tensors.size() != expected.size()) {
    reader.corrupt("tensors",
                   fmt::format("lists {} tensors; the network's spec and contexts have {}",
                               tensors.size(), expected.size()));
  }
  std::size_t offset = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const std::string path = indexed("tensors", i);
    const ParameterInfo& want = expected[i];
    const std::string name =
        reader.string(reader.member(tensors[i], "name", path + ".name"), path + ".name");
    const auto context =
        reader.integer(reader.member(tensors[i], "context", path + ".context"), path + ".context",
                       kSharedContext, std::numeric_limits<ContextId>::max());
    if (name != want.name || context != file_context(want.context)) {
      reader.corrupt(path, fmt::format("is {}; the network's tensor there is {}",
                                       tensor_label(name, ContextId(context)),
                                       tensor_label(want.name, file_context(want.context))));
    }
    const auto size = reader.count(reader.member(tensors[i], "size", path + ".size"),
                                   path + ".size", std::numeric_limits<std::uint64_t>::max());
    if (size != want.size()) {
      reader.corrupt(path + ".size",
                     fmt::format("is {}; tensor {} has {} elements", size,
                                 tensor_label(name, ContextId(context)), want.size()));
    }
    reader.floats(data, offset, want.size(), "tensor " + tensor_label(name, ContextId(context)));
    offset += want.size();
  }
  return offset;
}

// Writes the checked tensors into `network` (data from offset 0, in `expected`'s order).
void write_tensors(Network& network, const std::vector<ParameterInfo>& expected,
                   const std::vector<float>& data, const std::function<ContextId(ContextId)>& to) {
  std::size_t offset = 0;
  for (const ParameterInfo& info : expected) {
    network.write_parameter(info.name, to(info.context),
                            std::span<const float>(data.data() + offset, info.size()));
    offset += info.size();
  }
}

// Checks and writes the optimizer state entries into `network` (whose optimizer is already set)
// from data[offset...]; returns the offset after them. Each entry must name a distinct trainable
// tensor, keep as many arrays as the optimizer does, each of the tensor's size and finite.
std::size_t restore_optimizer_state(Network& network, const HeaderReader& reader,
                                    const nlohmann::json& entries,
                                    const std::vector<ParameterInfo>& tensors,
                                    const std::vector<float>& data, std::size_t offset) {
  const std::size_t kept = network.optimizer().state_arrays();
  std::set<std::pair<std::string, ContextId>> seen;
  reader.array(entries, "optimizer_state");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string path = indexed("optimizer_state", i);
    const nlohmann::json& entry = entries[i];
    const auto tensor = reader.string(reader.member(entry, "name", path + ".name"), path + ".name");
    const auto context = ContextId(
        reader.integer(reader.member(entry, "context", path + ".context"), path + ".context",
                       kSharedContext, std::numeric_limits<ContextId>::max()));
    const auto known = std::find_if(tensors.begin(), tensors.end(), [&](const ParameterInfo& info) {
      return info.name == tensor && info.context == context;
    });
    if (known == tensors.end()) {
      reader.corrupt(path, fmt::format("is the state of {}, which is not a trainable tensor of the "
                                       "network",
                                       tensor_label(tensor, context)));
    }
    if (!seen.emplace(tensor, context).second) {
      reader.corrupt(path, fmt::format("repeats the state of {}", tensor_label(tensor, context)));
    }
    const auto arrays =
        reader.count(reader.member(entry, "arrays", path + ".arrays"), path + ".arrays", 2);
    if (arrays != kept) {
      throw CheckpointError(fmt::format(
          "'{}' is corrupt: the optimizer state of {} has {} arrays; its {} optimizer keeps {}",
          reader.name(), tensor_label(tensor, context), arrays, to_string(network.optimizer().kind),
          kept));
    }
    const auto size = reader.count(reader.member(entry, "size", path + ".size"), path + ".size",
                                   std::numeric_limits<std::uint64_t>::max());
    if (size != known->size()) {
      reader.corrupt(path + ".size", fmt::format("is {}; tensor {} has {} elements", size,
                                                 tensor_label(tensor, context), known->size()));
    }
    OptimizerState state;
    state.steps = reader.integer(reader.member(entry, "steps", path + ".steps"), path + ".steps", 0,
                                 std::numeric_limits<std::int64_t>::max());
    const std::string what = "the optimizer state of " + tensor_label(tensor, context);
    std::vector<float>* const arrays_in_order[] = {&state.first, &state.second};
    for (std::size_t a = 0; a < arrays; ++a) {
      const auto values = reader.floats(data, offset, size, what);
      arrays_in_order[a]->assign(values.begin(), values.end());
      offset += size;
    }
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

// The spec's network on `backend`, checked against the digest of its fixed weights. (The spec's
// own validation refuses one whose weights cannot fit in memory, before allocating them.)
std::unique_ptr<Network> network_from_header(const HeaderReader& reader, const nlohmann::json& h,
                                             Backend backend) {
  NetworkSpec spec;
  try {
    spec = network_spec_from_json(reader.member(h, "spec", "spec").dump());
  } catch (const Error& error) {
    reader.corrupt("spec", fmt::format("is not a valid network spec: {}", error.what()));
  }
  auto network = make_network(spec, backend);
  const std::string digest =
      reader.string(reader.member(h, "structure_digest", "structure_digest"), "structure_digest");
  if (hex(network->structure_digest()) != digest) {
    throw CheckpointError(fmt::format(
        "'{}': the fixed weights regenerated from seed {} differ from the saved network's "
        "(digest {} vs {}); the random generator changed",
        reader.name(), network->spec().seed, hex(network->structure_digest()), digest));
  }
  return network;
}

// Each context's weight set (context 0 is always on set 0, as a new network makes it).
std::vector<std::size_t> context_weight_sets(const HeaderReader& reader, const nlohmann::json& h,
                                             const Network& network, std::size_t contexts) {
  std::vector<std::size_t> sets(contexts, 0);
  const std::size_t weight_sets = network.spec().weight_sets;
  if (weight_sets <= 1) return sets;
  const auto& listed = reader.array(reader.member(h, "context_weight_sets", "context_weight_sets"),
                                    "context_weight_sets");
  if (listed.size() != contexts) {
    throw CheckpointError(fmt::format("'{}' is corrupt: {} context weight sets for {} contexts",
                                      reader.name(), listed.size(), contexts));
  }
  for (std::size_t c = 0; c < contexts; ++c) {
    sets[c] = reader.count(listed[c], indexed("context_weight_sets", c),
                           std::numeric_limits<std::uint64_t>::max());
    if (sets[c] >= weight_sets || (c == 0 && sets[c] != 0)) {
      throw CheckpointError(fmt::format(
          "'{}' is corrupt: context {} on weight set {}; the network has {} (0..{}) and "
          "context 0 is always on set 0",
          reader.name(), c, sets[c], weight_sets, weight_sets - 1));
    }
  }
  return sets;
}

// The frozen flags: one per context, so their number is the number of contexts ("contexts" must
// agree), bounded by the header's own size before any context is made.
std::vector<bool> frozen_flags(const HeaderReader& reader, const nlohmann::json& h) {
  const auto contexts = reader.count(reader.member(h, "contexts", "contexts"), "contexts",
                                     std::numeric_limits<ContextId>::max());
  if (contexts == 0) reader.corrupt("contexts", "is 0; a network has at least one context");
  const auto& listed = reader.array(reader.member(h, "frozen", "frozen"), "frozen");
  if (listed.size() != contexts) {
    reader.corrupt("frozen",
                   fmt::format("has {} entries for {} contexts", listed.size(), contexts));
  }
  std::vector<bool> frozen;
  for (std::size_t c = 0; c < contexts; ++c) {
    frozen.push_back(reader.boolean(listed[c], indexed("frozen", c)));
  }
  return frozen;
}

// The weight gains, selected context and gradient mode, checked and applied.
void restore_settings(Network& network, const HeaderReader& reader, const nlohmann::json& h) {
  const auto& gains =
      reader.array(reader.member(h, "weight_gains", "weight_gains"), "weight_gains");
  if (gains.size() != network.weight_gain_slots()) {
    reader.corrupt("weight_gains", fmt::format("has {} gains; the network has {} weighted layers",
                                               gains.size(), network.weight_gain_slots()));
  }
  for (std::size_t s = 0; s < gains.size(); ++s) {
    network.set_weight_gain(s, reader.finite_float(gains[s], indexed("weight_gains", s)));
  }
  const auto contexts = std::int64_t(network.context_count());
  network.select_context(ContextId(
      reader.integer(reader.member(h, "selected", "selected"), "selected", 0, contexts - 1)));
  const std::string mode =
      reader.string(reader.member(h, "gradient_mode", "gradient_mode"), "gradient_mode");
  if (mode != mode_name(GradientMode::kContextOnly) &&
      mode != mode_name(GradientMode::kAllTrainable)) {
    reader.corrupt("gradient_mode",
                   fmt::format("is '{}'; it must be 'context_only' or 'all_trainable'", mode));
  }
  network.set_gradient_mode(mode == mode_name(GradientMode::kContextOnly)
                                ? GradientMode::kContextOnly
                                : GradientMode::kAllTrainable);
}

// The optimizer's configuration, every field read as the type it has.
OptimizerConfig optimizer_from_header(const HeaderReader& reader, const nlohmann::json& h) {
  const auto& json = reader.member(h, "optimizer", "optimizer");
  const auto field = [&](const char* key) -> const nlohmann::json& {
    return reader.member(json, key, std::string("optimizer.") + key);
  };
  const auto number = [&](const char* key) {
    return reader.finite_float(field(key), std::string("optimizer.") + key);
  };
  const auto flag = [&](const char* key) {
    return reader.boolean(field(key), std::string("optimizer.") + key);
  };
  OptimizerConfig config;
  try {
    config.kind = optimizer_kind_from_string(reader.string(field("kind"), "optimizer.kind"));
    config.learning_rate = number("learning_rate");
    config.momentum = number("momentum");
    config.nesterov = flag("nesterov");
    config.beta1 = number("beta1");
    config.beta2 = number("beta2");
    config.epsilon = number("epsilon");
    config.rms_alpha = number("rms_alpha");
    config.weight_decay = number("weight_decay");
    config.decoupled_weight_decay = flag("decoupled_weight_decay");
    config.clip_grad_norm = number("clip_grad_norm");
    config.clip_grad_value = number("clip_grad_value");
    config.validate();
  } catch (const InvalidArgumentError& error) {
    throw CheckpointError(
        fmt::format("'{}' holds an optimizer this build rejects: {}", reader.name(), error.what()));
  }
  return config;
}

std::unique_ptr<Network> decode_network(const FileContents& file, const std::string& name,
                                        Backend backend) {
  if (file.kind != kKindNetwork) {
    throw CheckpointError(
        fmt::format("'{}' is a context file, not a network checkpoint (use "
                    "load_context)",
                    name));
  }
  const HeaderReader reader(name);
  const nlohmann::json& h = file.header;
  try {
    auto network = network_from_header(reader, h, backend);
    const std::vector<bool> frozen = frozen_flags(reader, h);
    const std::vector<std::size_t> sets = context_weight_sets(reader, h, *network, frozen.size());
    // Every tensor is checked against the spec before the contexts are made, so that a header
    // cannot make more contexts than its data holds.
    const std::vector<ParameterInfo> tensors = trainable_tensors(*network, frozen.size());
    std::size_t offset = check_tensors(reader, reader.member(h, "tensors", "tensors"), tensors,
                                       file.data, [](ContextId c) { return c; });
    while (network->context_count() < frozen.size()) {
      network->add_context(sets[network->context_count()]);
    }
    write_tensors(*network, tensors, file.data, [](ContextId c) { return c; });
    for (std::size_t c = 0; c < frozen.size(); ++c) {
      network->set_frozen(static_cast<ContextId>(c), frozen[c]);
    }
    restore_settings(*network, reader, h);
    // Version 1 saved no optimizer: the network keeps the default one, with fresh state.
    if (file.version >= 2) {
      network->set_optimizer(optimizer_from_header(reader, h));
      offset = restore_optimizer_state(*network, reader,
                                       reader.member(h, "optimizer_state", "optimizer_state"),
                                       tensors, file.data, offset);
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
  const HeaderReader reader(name);
  const nlohmann::json& h = file.header;
  try {
    const std::string digest =
        reader.string(reader.member(h, "network_digest", "network_digest"), "network_digest");
    if (digest != hex(network_digest(network))) {
      throw CheckpointError(fmt::format(
          "'{}' holds a context of network '{}' with another spec or seed; it does not fit "
          "network '{}'",
          name, reader.string(reader.member(h, "network", "network"), "network"),
          network.spec().name));
    }
    // The context learned on its weight set's fixed weights, so it goes back on the same set.
    const std::uint64_t set =
        h.contains("weight_set")
            ? reader.count(h["weight_set"], "weight_set", std::numeric_limits<std::uint64_t>::max())
            : 0;
    if (set >= network.spec().weight_sets) {
      throw CheckpointError(fmt::format(
          "'{}' is corrupt: its context is on weight set {}; the network has {} (0..{})", name, set,
          network.spec().weight_sets, network.spec().weight_sets - 1));
    }
    // The file's tensors are one context's (the one it was saved from, whatever its id there),
    // checked whole before the network gets a context, so a bad file leaves it unchanged.
    std::vector<ParameterInfo> tensors = trainable_tensors(network, 1);
    std::erase_if(tensors,
                  [](const ParameterInfo& info) { return info.context == kSharedContext; });
    const auto& listed = reader.array(reader.member(h, "tensors", "tensors"), "tensors");
    const ContextId source =
        listed.empty() ? 0
                       : ContextId(reader.integer(
                             reader.member(listed[0], "context", "tensors[0].context"),
                             "tensors[0].context", 0, std::numeric_limits<ContextId>::max()));
    const std::size_t used =
        check_tensors(reader, listed, tensors, file.data, [source](ContextId) { return source; });
    require_all_used(file.data, used, name);
    const ContextId id = network.add_context(set);
    write_tensors(network, tensors, file.data, [id](ContextId) { return id; });
    return id;
  } catch (const nlohmann::json::exception& error) {
    throw CheckpointError(fmt::format("'{}' has a malformed header: {}", name, error.what()));
  }
}

std::size_t checkpoint_bytes(const Network& network) {
  return encode_network(network).size();
}

}  // namespace locus::neuromod
