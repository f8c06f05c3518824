// Agent checkpoints: "LOCUSAG\0", u32 format version, u64 state length, the state record (JSON),
// u64 network length, the network (neuromod's checkpoint format, with its optimizer state), u64
// FNV-1a-64 of everything before it. Written atomically.
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "agents/agent.hpp"
#include "agents/errors.hpp"
#include "agents/policy/policy_network.hpp"
#include "envs/errors.hpp"
#include "neuromod/checkpoint.hpp"
#include "neuromod/errors.hpp"
#include "util/atomic_file.hpp"
#include "util/hash.hpp"

namespace locus::agents {
namespace {

constexpr char kMagic[8] = {'L', 'O', 'C', 'U', 'S', 'A', 'G', '\0'};
// 2: the policy type, the network's own optimizer state, the head's tensors.
constexpr std::uint32_t kFormatVersion = 2;

}  // namespace

void Agent::save(const std::filesystem::path& path) const {
  nlohmann::json state;
  state["config"] = config_.to_json();
  state["steps"] = steps_;
  state["updates"] = updates_;
  state["episodes"] = episodes_;
  state["na_changes"] = na_changes_;
  std::ostringstream rng_text;
  rng_text << random_.engine();
  state["rng"] = rng_text.str();
  nlohmann::json head = nlohmann::json::object();
  for (const auto& parameter : head_->parameters()) {
    const auto found = head_optimizer_state_.find(parameter.name);
    const HeadOptimizerState none;
    const HeadOptimizerState& s = found == head_optimizer_state_.end() ? none : found->second;
    head[parameter.name] = {
        {"value", std::vector<float>(parameter.value.begin(), parameter.value.end())},
        {"first", s.first},
        {"second", s.second},
        {"steps", s.steps}};
  }
  state["head"] = head;
  state["recent_returns"] = recent_returns_;
  state["recent_trials"] = recent_trials_;
  state["na_inputs"] = na_inputs_;
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& [task, context] : task_contexts_) tasks.push_back({task, context});
  state["task_contexts"] = tasks;
  if (saves_episodes()) {
    state["envs"] = env_.save_state();
    state["episodes_in_progress"] = episodes_state();
  }

  // The network through neuromod's own checkpoint format, embedded in ours.
  const std::vector<unsigned char> network_bytes = neuromod::encode_checkpoint(*network_);

  const std::string header = state.dump();
  std::string data(kMagic, sizeof(kMagic));
  auto put_u64 = [&](std::uint64_t v) {
    for (int b = 0; b < 8; ++b) data.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
  };
  for (int b = 0; b < 4; ++b) data.push_back(static_cast<char>((kFormatVersion >> (8 * b)) & 0xff));
  put_u64(header.size());
  data += header;
  put_u64(network_bytes.size());
  data.append(reinterpret_cast<const char*>(network_bytes.data()), network_bytes.size());
  put_u64(util::fnv1a64(data));

  util::write_file_atomically<CheckpointError>(path, data);
}

// Reads the fields of an agent checkpoint's state record, checking each: a field that is missing,
// of the wrong type or out of range throws CheckpointError naming the file, the field and the
// problem (the checksum only proves the record is as written).
class StateReader {
 public:
  StateReader(const std::filesystem::path& path, const nlohmann::json& state)
      : path_(path), state_(state) {}

  [[noreturn]] void bad(std::string_view field, std::string_view problem) const {
    throw CheckpointError(fmt::format("checkpoint {} is unusable: state field '{}' {}",
                                      path_.string(), field, problem));
  }
  const nlohmann::json& at(std::string_view key) const { return member(state_, key, key); }
  const nlohmann::json& member(const nlohmann::json& object, std::string_view key,
                               std::string_view field) const {
    if (!object.is_object()) bad(field, "belongs to something that is not a JSON object");
    const auto found = object.find(key);
    if (found == object.end()) bad(field, "is missing");
    return *found;
  }
  const nlohmann::json& array(const nlohmann::json& value, std::string_view field,
                              std::size_t most = std::numeric_limits<std::size_t>::max()) const {
    if (!value.is_array()) bad(field, fmt::format("is {}, not an array", value.type_name()));
    if (value.size() > most)
      bad(field, fmt::format("has {} entries; at most {}", value.size(), most));
    return value;
  }
  std::int64_t integer(const nlohmann::json& value, std::string_view field, std::int64_t least,
                       std::int64_t most) const {
    const bool fits =
        value.is_number_integer() &&
        !(value.is_number_unsigned() && value.get<std::uint64_t>() > std::uint64_t(most));
    if (!fits || value.get<std::int64_t>() < least || value.get<std::int64_t>() > most) {
      bad(field,
          fmt::format("is {}; it must be an integer from {} to {}", value.dump(), least, most));
    }
    return value.get<std::int64_t>();
  }
  std::size_t count(std::string_view key) const {
    return static_cast<std::size_t>(
        integer(at(key), key, 0, std::numeric_limits<std::int64_t>::max()));
  }
  double finite(const nlohmann::json& value, std::string_view field, double most) const {
    if (!value.is_number() || !std::isfinite(value.get<double>()) ||
        std::abs(value.get<double>()) > most) {
      bad(field, fmt::format("is {}; it must be a finite number of magnitude at most {}",
                             value.dump(), most));
    }
    return value.get<double>();
  }
  std::vector<float> floats(const nlohmann::json& value, std::string_view field,
                            std::size_t size) const {
    array(value, field);
    if (value.size() != size) {
      bad(field, fmt::format("has {} values; the tensor has {}", value.size(), size));
    }
    std::vector<float> out;
    out.reserve(size);
    for (std::size_t i = 0; i < size; ++i) {
      out.push_back(static_cast<float>(
          finite(value[i], fmt::format("{}[{}]", field, i), std::numeric_limits<float>::max())));
    }
    return out;
  }
  std::string string(const nlohmann::json& value, std::string_view field) const {
    if (!value.is_string()) bad(field, fmt::format("is {}, not a string", value.dump()));
    return value.get<std::string>();
  }

 private:
  const std::filesystem::path& path_;
  const nlohmann::json& state_;
};

void Agent::restore_state(const StateReader& reader) {
  steps_ = reader.count("steps");
  updates_ = reader.count("updates");
  episodes_ = reader.count("episodes");
  na_changes_ = reader.count("na_changes");
  std::istringstream rng_text(reader.string(reader.at("rng"), "rng"));
  rng_text >> random_.engine();
  if (rng_text.fail() || !(rng_text >> std::ws).eof()) {
    reader.bad("rng", "is not the state of a std::mt19937_64 (624 + 1 numbers)");
  }
  restore_head_state(reader);
  for (const auto& value :
       reader.array(reader.at("recent_returns"), "recent_returns", kRecentWindow)) {
    recent_returns_.push_back(
        reader.finite(value, "recent_returns", std::numeric_limits<double>::max()));
  }
  for (const auto& value :
       reader.array(reader.at("recent_trials"), "recent_trials", kRecentWindow)) {
    recent_trials_.push_back(static_cast<int>(reader.integer(value, "recent_trials", 0, 1)));
  }
  const auto& na_inputs = reader.array(reader.at("na_inputs"), "na_inputs");
  for (std::size_t i = 0; i < na_inputs.size(); ++i) {
    const std::string field = fmt::format("na_inputs[{}]", i);
    const auto& pair = reader.array(na_inputs[i], field, 2);
    if (pair.size() != 2) reader.bad(field, "is not an [input, classes] pair");
    const double x = reader.finite(pair[0], field, std::numeric_limits<double>::max());
    if (x < 0) reader.bad(field, fmt::format("holds the input {}; it must be >= 0", x));
    na_inputs_.emplace_back(x, static_cast<std::size_t>(reader.integer(
                                   pair[1], field, 0, std::numeric_limits<std::int64_t>::max())));
  }
  const auto& tasks = reader.array(reader.at("task_contexts"), "task_contexts");
  const auto contexts = static_cast<std::int64_t>(network_->context_count());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const std::string field = fmt::format("task_contexts[{}]", i);
    const auto& pair = reader.array(tasks[i], field, 2);
    if (pair.size() != 2) reader.bad(field, "is not a [task, context] pair");
    const auto task = reader.integer(pair[0], field, std::numeric_limits<std::int64_t>::min(),
                                     std::numeric_limits<std::int64_t>::max());
    const auto context = reader.integer(pair[1], field, 0, contexts - 1);
    if (!task_contexts_.emplace(task, static_cast<std::int32_t>(context)).second) {
      reader.bad(field, fmt::format("repeats task {}", task));
    }
  }
}

// The action head's own tensors and their optimizer state: exactly the head's, each of its size
// (the optimizer state may be empty before the first update).
void Agent::restore_head_state(const StateReader& reader) {
  const auto& entries = reader.at("head");
  if (!entries.is_object()) reader.bad("head", "is not a JSON object");
  auto parameters = head_->parameters();
  for (const auto& item : entries.items()) {
    const std::string& key = item.key();
    const bool known = std::any_of(parameters.begin(), parameters.end(),
                                   [&](const HeadParameter& p) { return p.name == key; });
    if (!known) reader.bad("head." + key, "is a tensor the head does not have");
  }
  for (auto& parameter : parameters) {
    const std::string field = "head." + parameter.name;
    const auto& entry = reader.member(entries, parameter.name, field);
    const std::size_t size = parameter.value.size();
    const auto value =
        reader.floats(reader.member(entry, "value", field + ".value"), field + ".value", size);
    HeadOptimizerState state;
    state.steps = reader.integer(reader.member(entry, "steps", field + ".steps"), field + ".steps",
                                 0, std::numeric_limits<std::int64_t>::max());
    const std::size_t moments = state.steps > 0 ? size : 0;
    state.first =
        reader.floats(reader.member(entry, "first", field + ".first"), field + ".first", moments);
    state.second = reader.floats(reader.member(entry, "second", field + ".second"),
                                 field + ".second", moments);
    std::copy(value.begin(), value.end(), parameter.value.begin());
    if (state.steps > 0) head_optimizer_state_[parameter.name] = std::move(state);
  }
}

nlohmann::json Agent::episodes_state() const {
  nlohmann::json state_tensors = nlohmann::json::array();
  for (const Matrix& tensor : running_.state) {
    state_tensors.push_back(std::vector<float>(tensor.data(), tensor.data() + tensor.size()));
  }
  return {{"inputs", running_.inputs},
          {"recurrent_state", state_tensors},
          {"starts", running_.starts},
          {"returns", running_.returns},
          {"lengths", running_.lengths},
          {"step_in_trial", running_.step_in_trial},
          {"ground_truth", running_.ground_truth}};
}

// The envs and the episodes in progress, each field checked against the agent's sizes.
void Agent::restore_episodes(const StateReader& reader) {
  try {
    env_.restore_state(reader.at("envs"));
  } catch (const envs::Error& e) {
    reader.bad("envs", fmt::format("does not restore the envs: {}", e.what()));
  }
  const auto& saved = reader.at("episodes_in_progress");
  const auto field = [](std::string_view key) {
    return fmt::format("episodes_in_progress.{}", key);
  };
  const auto member = [&](std::string_view key) -> const nlohmann::json& {
    return reader.member(saved, key, field(key));
  };
  const std::size_t n = config_.num_envs;
  Episodes episodes;
  episodes.inputs = reader.floats(member("inputs"), field("inputs"), running_.inputs.size());
  episodes.state = body_->initial_state(n);
  const auto& tensors = reader.array(member("recurrent_state"), field("recurrent_state"));
  if (tensors.size() != episodes.state.size()) {
    reader.bad(field("recurrent_state"), fmt::format("has {} tensors; the policy has {}",
                                                     tensors.size(), episodes.state.size()));
  }
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    Matrix& tensor = episodes.state[k];
    const auto values = reader.floats(
        tensors[k], fmt::format("{}[{}]", field("recurrent_state"), k), tensor.size());
    std::copy(values.begin(), values.end(), tensor.data());
  }
  const auto per_env = [&](std::string_view key, std::int64_t least, std::int64_t most) {
    const auto& values = reader.array(member(key), field(key), n);
    if (values.size() != n) {
      reader.bad(field(key),
                 fmt::format("has {} entries; the agent has {} envs", values.size(), n));
    }
    std::vector<std::int64_t> out;
    for (const auto& value : values) out.push_back(reader.integer(value, field(key), least, most));
    return out;
  };
  constexpr auto kMost = std::numeric_limits<std::int64_t>::max();
  for (const auto start : per_env("starts", 0, 1)) {
    episodes.starts.push_back(static_cast<std::uint8_t>(start));
  }
  for (const auto length : per_env("lengths", 0, kMost)) {
    episodes.lengths.push_back(static_cast<std::size_t>(length));
  }
  episodes.step_in_trial = per_env("step_in_trial", 0, kMost);
  episodes.ground_truth = per_env("ground_truth", -1, kMost);
  const auto& returns = reader.array(member("returns"), field("returns"), n);
  if (returns.size() != n) reader.bad(field("returns"), "does not have one entry per env");
  for (const auto& value : returns) {
    episodes.returns.push_back(
        reader.finite(value, field("returns"), std::numeric_limits<double>::max()));
  }
  running_ = std::move(episodes);
}

Agent Agent::load(const std::filesystem::path& path,
                  std::optional<neuromod::MatmulPrecision> precision) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw CheckpointError(
        fmt::format("checkpoint {} does not exist or cannot be read", path.string()));
  const std::string data((std::istreambuf_iterator<char>(in)), {});
  const auto corrupt = [&](std::string_view why) {
    return CheckpointError(fmt::format("checkpoint {} is unusable: {}", path.string(), why));
  };
  if (data.size() < sizeof(kMagic) + 4 + 8 + 8 + 8 ||
      std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    throw corrupt("not a locus agent checkpoint (bad magic or too short)");
  }
  auto get_u64 = [&](std::size_t offset) {
    std::uint64_t v = 0;
    for (int b = 0; b < 8; ++b)
      v |= std::uint64_t(static_cast<unsigned char>(data[offset + b])) << (8 * b);
    return v;
  };
  std::uint32_t version = 0;
  for (int b = 0; b < 4; ++b) {
    version |= std::uint32_t(static_cast<unsigned char>(data[sizeof(kMagic) + b])) << (8 * b);
  }
  if (version != kFormatVersion) {
    throw corrupt(fmt::format("format version {}, this build reads {}", version, kFormatVersion));
  }
  const std::size_t body = data.size() - 8;
  if (util::fnv1a64(std::string_view(data).substr(0, body)) != get_u64(body))
    throw corrupt("checksum mismatch (corrupt)");
  try {
    return load_body(path, data, get_u64(sizeof(kMagic) + 4), precision);
  } catch (const nlohmann::json::exception& e) {
    throw corrupt(fmt::format("bad state record: {}", e.what()));
  } catch (const ConfigError& e) {
    throw corrupt(fmt::format("bad configuration: {}", e.what()));
  }
}

Agent Agent::load_body(const std::filesystem::path& path, const std::string& data,
                       std::uint64_t header_size,
                       std::optional<neuromod::MatmulPrecision> precision) {
  const auto corrupt = [&](std::string_view why) {
    return CheckpointError(fmt::format("checkpoint {} is unusable: {}", path.string(), why));
  };
  auto get_u64 = [&](std::size_t offset) {
    std::uint64_t v = 0;
    for (int b = 0; b < 8; ++b)
      v |= std::uint64_t(static_cast<unsigned char>(data[offset + b])) << (8 * b);
    return v;
  };
  const std::size_t body = data.size() - 8;
  std::size_t offset = sizeof(kMagic) + 4 + 8;
  if (header_size > body - offset) throw corrupt("truncated header");
  const nlohmann::json state = nlohmann::json::parse(data.substr(offset, header_size));
  offset += header_size;
  const std::uint64_t network_size = get_u64(offset);
  offset += 8;
  if (network_size != body - offset) throw corrupt("truncated network");

  AgentConfig config = AgentConfig::from_json(state.at("config"));
  if (precision) config.precision = *precision;
  Agent agent(config);
  try {
    const std::span<const unsigned char> network_bytes(
        reinterpret_cast<const unsigned char*>(data.data()) + offset, network_size);
    auto network = neuromod::decode_checkpoint(
        network_bytes, fmt::format("the network in {}", path.string()), agent.config_.device);
    set_policy_precision(*network, agent.config_.precision);
    if (neuromod::to_json(network->spec()) != neuromod::to_json(agent.network_->spec())) {
      throw corrupt("its network does not match its config");
    }
    network->set_gradient_mode(agent.network_->gradient_mode());
    agent.network_ = std::move(network);
    agent.body_->rebind(*agent.network_);
  } catch (const neuromod::CheckpointError& e) {
    throw corrupt(e.what());
  }
  agent.restore_state(StateReader(path, state));
  if (agent.noradrenaline_) {
    // The signal's running statistics are rebuilt by replaying its inputs.
    agent.noradrenaline_.emplace(agent.noradrenaline_config());
    for (const auto& [x, classes] : agent.na_inputs_) agent.noradrenaline_->observe(x, classes);
    agent.noradrenaline_->apply(*agent.network_);
  }
  if (agent.saves_episodes()) {
    agent.restore_episodes(StateReader(path, state));
  } else {
    agent.begin_segment();
  }
  return agent;
}

}  // namespace locus::agents
