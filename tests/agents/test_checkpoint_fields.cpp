// Agent checkpoints whose checksum is valid but whose state record is not (written wrong, or
// edited and re-summed): every field is checked on load, and the error names the file, the field
// and the problem, instead of loading an agent that later reads out of bounds or silently runs on
// a different state. The file is taken apart and re-summed here, independently of agent.cpp, from
// the layout agent.hpp's checkpoints have: "LOCUSAG\0", u32 version, u64 state length, the state
// (JSON), u64 network length, the network (neuromod's format), u64 FNV-1a-64 of all before it.

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "agents/agent.hpp"
#include "agents/errors.hpp"

using namespace locus::agents;
namespace fs = std::filesystem;

namespace {

struct AgentFile {
  std::string prefix;  // magic and version
  nlohmann::json state;
  std::string network;
};

std::uint64_t fnv1a(const std::string& bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::uint64_t get_u64(const std::string& bytes, std::size_t offset) {
  std::uint64_t value = 0;
  std::memcpy(&value, bytes.data() + offset, 8);
  return value;
}

std::string u64_bytes(std::uint64_t value) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &value, 8);
  return out;
}

AgentFile read_agent_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(bytes.compare(0, 8, std::string("LOCUSAG\0", 8)) == 0);
  AgentFile file;
  file.prefix = bytes.substr(0, 12);
  const std::uint64_t state_size = get_u64(bytes, 12);
  file.state = nlohmann::json::parse(bytes.substr(20, state_size));
  const std::uint64_t network_size = get_u64(bytes, 20 + state_size);
  file.network = bytes.substr(28 + state_size, network_size);
  REQUIRE(28 + state_size + network_size + 8 == bytes.size());
  return file;
}

fs::path write_agent_file(const fs::path& path, const AgentFile& file) {
  const std::string state = file.state.dump();
  std::string bytes =
      file.prefix + u64_bytes(state.size()) + state + u64_bytes(file.network.size()) + file.network;
  bytes += u64_bytes(fnv1a(bytes));
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

fs::path saved_agent(const std::string& env, const fs::path& dir) {
  AgentConfig config;
  config.env = env;
  config.num_envs = 2;
  config.rollout_steps = 8;
  config.hidden = {8};
  config.seed = 3;
  Agent agent(config);
  agent.update();
  agent.update();
  agent.save(dir / (env + ".bin"));
  return dir / (env + ".bin");
}

}  // namespace

TEST_CASE("an agent checkpoint's state record is checked field by field", "[agents][checkpoint]") {
  const fs::path dir = fs::temp_directory_path() / "locus_agents_test_fields";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path cartpole = saved_agent("CartPole-v1", dir);
  const fs::path pendulum = saved_agent("Pendulum-v1", dir);
  const fs::path bad = dir / "edited.bin";
  const auto edited = [&](const fs::path& source, auto&& edit) {
    AgentFile file = read_agent_file(source);
    edit(file.state);
    return write_agent_file(bad, file);
  };
  const auto fails_with = [&](const fs::path& path, const std::string& field,
                              const std::string& problem) {
    INFO(field);
    CHECK_THROWS_AS(Agent::load(path), CheckpointError);
    CHECK_THROWS_WITH(Agent::load(path), Catch::Contains("checkpoint " + bad.string()) &&
                                             Catch::Contains("state field '" + field) &&
                                             Catch::Contains(problem));
  };

  REQUIRE_NOTHROW(Agent::load(edited(cartpole, [](nlohmann::json&) {})));
  // A Gaussian policy indexes log_std by action dimension: a shorter one was read out of bounds.
  fails_with(
      edited(pendulum,
             [](nlohmann::json& s) { s["head"]["log_std"]["value"] = nlohmann::json::array(); }),
      "head.log_std.value", "has 0 values; the tensor has 1");
  // The optimizer's second moments were used at the first moments' size.
  fails_with(edited(pendulum, [](nlohmann::json& s) { s["head"]["log_std"]["second"].erase(0); }),
             "head.log_std.second", "has 0 values; the tensor has 1");
  fails_with(edited(pendulum, [](nlohmann::json& s) { s["head"].erase("log_std"); }),
             "head.log_std", "is missing");
  fails_with(
      edited(cartpole, [](nlohmann::json& s) { s["head"]["sigma"] = nlohmann::json::object(); }),
      "head.sigma", "a tensor the head does not have");
  fails_with(edited(cartpole,
                    [](nlohmann::json& s) {
                      s["task_contexts"] = {{5, 7}};
                    }),
             "task_contexts[0]", "it must be an integer from 0 to 0");
  fails_with(edited(cartpole,
                    [](nlohmann::json& s) {
                      s["recent_trials"] = {1, 0, 5};
                    }),
             "recent_trials", "is 5");
  fails_with(edited(cartpole, [](nlohmann::json& s) { s["rng"] = "not a generator"; }), "rng",
             "std::mt19937_64");
  // -1 was read as 2^64 - 1 steps.
  fails_with(edited(cartpole, [](nlohmann::json& s) { s["steps"] = -1; }), "steps", "is -1");
  fails_with(edited(cartpole, [](nlohmann::json& s) { s.erase("episodes"); }), "episodes",
             "is missing");
  // The envs and the episodes in progress (a C++ env saves its state).
  fails_with(edited(cartpole, [](nlohmann::json& s) { s["envs"] = nlohmann::json::object(); }),
             "envs", "does not restore the envs");
  fails_with(edited(cartpole,
                    [](nlohmann::json& s) {
                      s["episodes_in_progress"]["starts"] = {0, 5};
                    }),
             "episodes_in_progress.starts", "is 5");
  fails_with(
      edited(cartpole, [](nlohmann::json& s) { s["episodes_in_progress"]["inputs"].erase(0); }),
      "episodes_in_progress.inputs", "has 7 values; the tensor has 8");
  fails_with(edited(cartpole, [](nlohmann::json& s) { s.erase("episodes_in_progress"); }),
             "episodes_in_progress", "is missing");
  fs::remove_all(dir);
}
