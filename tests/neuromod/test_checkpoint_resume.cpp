// Checkpoints carry the optimizer (format version 2): training resumed from a checkpoint continues
// bit for bit as the uninterrupted run would, for every optimizer kind, on a modulated network
// (context-only learning, several contexts) and on a baseline (every weight trainable). Also: the
// optimizer-state interface of Network, version-1 files (no optimizer) that still load with fresh
// state, and damaged version-2 files that fail with a message naming the problem.

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "checkpoint_file.hpp"
#include "neuromod/checkpoint.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/losses.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// The version-1 layout of the same network: no "optimizer" and no "optimizer_state" in the header,
// the data holding the parameters only.
RawFile as_version_1(RawFile file) {
  std::size_t parameters = 0;
  for (const auto& tensor : file.header.at("tensors")) {
    parameters += tensor.at("size").get<std::size_t>();
  }
  file.version = 1;
  file.header.erase("optimizer");
  file.header.erase("optimizer_state");
  file.data.resize(parameters);
  return file;
}

// --- networks and training ----------------------------------------------------------------------

struct Setting {
  const char* label;
  NetworkSpec spec;
  GradientMode mode;
  std::size_t contexts;
};

std::vector<Setting> settings() {
  // Modulated: fixed random layers, per-context gains and biases; the readout is a trainable
  // shared weight that context-only learning must leave alone (so the mode has to come back too).
  NetworkSpec modulated = modulated_mlp(10, {16, 12}, 4, 31);
  modulated.heads[0].weights = ReadoutWeights::kTrainableShared;
  return {
      {"modulated, context-only", modulated, GradientMode::kContextOnly, 3},
      {"baseline, all trainable", baseline_mlp(10, {16}, 4, 32), GradientMode::kAllTrainable, 1}};
}

// Each kind away from its defaults, so that a checkpoint that forgot a field would show.
OptimizerConfig config_of(OptimizerKind kind) {
  OptimizerConfig config;
  config.kind = kind;
  switch (kind) {
    case OptimizerKind::kSgd:
      config.learning_rate = 0.05f;
      config.weight_decay = 1e-3f;
      break;
    case OptimizerKind::kMomentum:
      config.learning_rate = 0.02f;
      config.momentum = 0.8f;
      config.nesterov = true;
      config.clip_grad_value = 0.5f;
      break;
    case OptimizerKind::kAdam:
      config.learning_rate = 3e-3f;
      config.beta1 = 0.8f;
      config.beta2 = 0.95f;
      config.epsilon = 1e-6f;
      config.weight_decay = 1e-2f;
      config.decoupled_weight_decay = true;
      config.clip_grad_norm = 1.5f;
      break;
    case OptimizerKind::kRmsprop:
      config.learning_rate = 4e-3f;
      config.rms_alpha = 0.9f;
      config.epsilon = 1e-7f;
      break;
  }
  return config;
}

bool same_config(const OptimizerConfig& a, const OptimizerConfig& b) {
  return a.kind == b.kind && a.learning_rate == b.learning_rate && a.momentum == b.momentum &&
         a.nesterov == b.nesterov && a.beta1 == b.beta1 && a.beta2 == b.beta2 &&
         a.epsilon == b.epsilon && a.rms_alpha == b.rms_alpha && a.weight_decay == b.weight_decay &&
         a.decoupled_weight_decay == b.decoupled_weight_decay &&
         a.clip_grad_norm == b.clip_grad_norm && a.clip_grad_value == b.clip_grad_value;
}

std::unique_ptr<Network> fresh_network(const Setting& setting, Backend backend,
                                       const OptimizerConfig& config) {
  auto net = make_network(setting.spec, backend);
  while (net->context_count() < setting.contexts) net->add_context();
  net->set_gradient_mode(setting.mode);
  net->set_optimizer(config);
  return net;
}

// Steps first..first+count-1 of one fixed schedule: batch i is the same whichever run takes it,
// with rows of every context mixed in one batch.
void train_schedule(Network& net, int first, int count) {
  const std::size_t rows = 12;
  for (int i = first; i < first + count; ++i) {
    const auto step = static_cast<std::uint64_t>(i);
    cross_entropy_step(net, random_matrix(rows, net.spec().input_dim, 1000 + step),
                       random_contexts(rows, net.context_count(), 2000 + step),
                       random_labels(rows, net.spec().heads[0].units, 3000 + step));
  }
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Every parameter, every optimizer state and the outputs of a mixed-context batch, bit for bit.
void require_same_network(Network& a, Network& b) {
  REQUIRE(a.context_count() == b.context_count());
  for (const ParameterInfo& info : a.parameters()) {
    INFO(info.name << " (context " << info.context << ")");
    REQUIRE(same_bits(a.read_parameter(info.name, info.context),
                      b.read_parameter(info.name, info.context)));
    const OptimizerState sa = a.read_optimizer_state(info.name, info.context);
    const OptimizerState sb = b.read_optimizer_state(info.name, info.context);
    REQUIRE(sa.steps == sb.steps);
    REQUIRE(same_bits(sa.first, sb.first));
    REQUIRE(same_bits(sa.second, sb.second));
  }
  const Matrix x = random_matrix(9, a.spec().input_dim, 555);
  const std::vector<ContextId> ids = random_contexts(9, a.context_count(), 556);
  const Matrix ya = a.forward(x, ids)[0];
  const Matrix yb = b.forward(x, ids)[0];
  REQUIRE(std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)) == 0);
}

bool same_parameters(const Network& a, const Network& b) {
  for (const ParameterInfo& info : a.parameters()) {
    if (!same_bits(a.read_parameter(info.name, info.context),
                   b.read_parameter(info.name, info.context))) {
      return false;
    }
  }
  return true;
}

constexpr OptimizerKind kKinds[] = {OptimizerKind::kSgd, OptimizerKind::kMomentum,
                                    OptimizerKind::kAdam, OptimizerKind::kRmsprop};

}  // namespace

TEST_CASE("training resumed from a checkpoint continues exactly as the uninterrupted run",
          "[neuromod][checkpoint]") {
  TempDir dir("locus_nm_resume_");
  constexpr int kBefore = 4, kAfter = 3;
  for (Backend backend : semantic_backends()) {
    for (const Setting& setting : settings()) {
      for (OptimizerKind kind : kKinds) {
        INFO(to_string(backend) << ", " << setting.label << ", " << to_string(kind));
        const OptimizerConfig config = config_of(kind);
        auto uninterrupted = fresh_network(setting, backend, config);
        train_schedule(*uninterrupted, 0, kBefore + kAfter);

        auto interrupted = fresh_network(setting, backend, config);
        train_schedule(*interrupted, 0, kBefore);
        const fs::path file = dir.path / "resume.ckpt";
        save_checkpoint(*interrupted, file);
        // Nothing is set on the loaded network: optimizer, state and mode come from the file.
        auto resumed = load_checkpoint(file, backend);
        REQUIRE(same_config(resumed->optimizer(), config));
        REQUIRE(resumed->gradient_mode() == setting.mode);
        require_same_network(*interrupted, *resumed);
        train_schedule(*resumed, kBefore, kAfter);
        require_same_network(*uninterrupted, *resumed);
        REQUIRE_FALSE(same_parameters(*interrupted, *resumed));  // it did train

        // The control: resumed with fresh optimizer state (what version 1 gave), every rule that
        // keeps state ends elsewhere, so the comparison above can fail.
        if (config.state_arrays() > 0) {
          auto forgetful = load_checkpoint(file, backend);
          forgetful->set_optimizer(config_of(OptimizerKind::kSgd));  // a kind change drops state
          forgetful->set_optimizer(config);
          REQUIRE(forgetful->read_optimizer_state("layer0.bias", 0).steps == 0);
          train_schedule(*forgetful, kBefore, kAfter);
          REQUIRE_FALSE(same_parameters(*uninterrupted, *forgetful));
        }
      }
    }
  }
}

TEST_CASE("the optimizer state is read and written per parameter tensor",
          "[neuromod][checkpoint]") {
  for (Backend backend : semantic_backends()) {
    INFO(to_string(backend));
    const Setting setting = settings()[0];
    auto net = fresh_network(setting, backend, config_of(OptimizerKind::kAdam));
    const std::size_t units = setting.spec.layers[0].units;
    // Fresh: no updates, zero arrays of the tensor's size (Adam keeps two).
    OptimizerState state = net->read_optimizer_state("layer0.gain", 1);
    REQUIRE(state.steps == 0);
    REQUIRE(state.first == std::vector<float>(units, 0.0f));
    REQUIRE(state.second == std::vector<float>(units, 0.0f));
    train_schedule(*net, 0, 2);
    state = net->read_optimizer_state("layer0.gain", 1);
    REQUIRE(state.steps == 2);
    REQUIRE(std::any_of(state.first.begin(), state.first.end(), [](float v) { return v != 0; }));
    // The shared readout does not learn in context-only mode: its state stays fresh.
    REQUIRE(net->read_optimizer_state("head.output.weight").steps == 0);

    // Written into another context, read back as written; the other contexts are untouched.
    const OptimizerState before = net->read_optimizer_state("layer0.gain", 0);
    net->write_optimizer_state("layer0.gain", 2, state);
    REQUIRE(net->read_optimizer_state("layer0.gain", 2) == state);
    REQUIRE(net->read_optimizer_state("layer0.gain", 0) == before);

    OptimizerState wrong = state;
    wrong.second.clear();
    REQUIRE_THROWS_WITH(net->write_optimizer_state("layer0.gain", 0, wrong),
                        Contains("adam optimizer keeps 2") && Contains("set the optimizer"));
    wrong = state;
    wrong.first.pop_back();
    REQUIRE_THROWS_AS(net->write_optimizer_state("layer0.gain", 0, wrong), ShapeError);
    wrong = state;
    wrong.steps = -1;
    REQUIRE_THROWS_WITH(net->write_optimizer_state("layer0.gain", 0, wrong),
                        Contains("steps = -1"));
    wrong = state;
    wrong.second[3] = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_THROWS_AS(net->write_optimizer_state("layer0.gain", 0, wrong), NonFiniteError);
    REQUIRE_THROWS_WITH(net->write_optimizer_state("layer0.weight", kSharedContext, state),
                        Contains("fixed random weight"));
    REQUIRE_THROWS_AS(net->read_optimizer_state("layer0.gain", 7), ContextError);

    // SGD keeps no arrays, only the count; a kind change starts every tensor afresh.
    net->set_optimizer(config_of(OptimizerKind::kSgd));
    state = net->read_optimizer_state("layer0.gain", 1);
    REQUIRE(state.steps == 0);
    REQUIRE(state.first.empty());
    REQUIRE(state.second.empty());
    // A context file holds no optimizer state: the context it adds starts fresh.
    TempDir dir("locus_nm_resume_");
    train_schedule(*net, 0, 1);
    save_context(*net, 1, dir.path / "one.ctx");
    const ContextId added = load_context(*net, dir.path / "one.ctx");
    REQUIRE(net->read_optimizer_state("layer0.gain", 1).steps == 1);
    REQUIRE(net->read_optimizer_state("layer0.gain", added).steps == 0);
  }
}

TEST_CASE("version-1 checkpoints still load, with the default optimizer and fresh state",
          "[neuromod][checkpoint]") {
  TempDir dir("locus_nm_resume_");
  for (const Setting& setting : settings()) {
    INFO(setting.label);
    auto net = fresh_network(setting, Backend::kCpu, config_of(OptimizerKind::kAdam));
    train_schedule(*net, 0, 3);
    const fs::path v2 = dir.path / "v2.ckpt";
    save_checkpoint(*net, v2);
    const RawFile file = decode(read_bytes(v2));
    REQUIRE(file.version == kCheckpointFormatVersion);
    REQUIRE(file.header.at("optimizer").at("kind") == "adam");
    REQUIRE(!file.header.at("optimizer_state").empty());

    const fs::path v1 = dir.path / "v1.ckpt";
    write_bytes(v1, encode(as_version_1(file)));
    auto loaded = load_checkpoint(v1);
    REQUIRE(same_parameters(*net, *loaded));
    REQUIRE(loaded->gradient_mode() == setting.mode);
    REQUIRE(same_config(loaded->optimizer(), OptimizerConfig{}));
    for (const ParameterInfo& info : loaded->parameters()) {
      REQUIRE(loaded->read_optimizer_state(info.name, info.context).steps == 0);
    }
    // It trains on, as version-1 files always did once given an optimizer.
    loaded->set_optimizer(config_of(OptimizerKind::kAdam));
    train_schedule(*loaded, 3, 1);
    REQUIRE(loaded->read_optimizer_state("layer0.bias", 0).steps == 1);
  }
  // Context files kept their layout: a version-1 one loads too.
  auto net = make_network(settings()[0].spec);
  save_context(*net, 0, dir.path / "v2.ctx");
  RawFile context = decode(read_bytes(dir.path / "v2.ctx"));
  context.version = 1;
  write_bytes(dir.path / "v1.ctx", encode(context));
  REQUIRE(load_context(*net, dir.path / "v1.ctx") == 1);
}

TEST_CASE("damaged version-2 checkpoints fail with a message naming the problem",
          "[neuromod][checkpoint]") {
  TempDir dir("locus_nm_resume_");
  auto net = fresh_network(settings()[0], Backend::kCpu, config_of(OptimizerKind::kAdam));
  train_schedule(*net, 0, 2);
  const fs::path good = dir.path / "good.ckpt";
  save_checkpoint(*net, good);
  const std::vector<unsigned char> bytes = read_bytes(good);
  REQUIRE(bytes.size() == checkpoint_bytes(*net));
  const RawFile file = decode(bytes);
  std::size_t state_floats = 0;
  for (const auto& entry : file.header.at("optimizer_state")) {
    state_floats += entry.at("arrays").get<std::size_t>() * entry.at("size").get<std::size_t>();
  }
  REQUIRE(state_floats > 0);
  // The optimizer state is the last part of the data, just before the 8-byte checksum.
  const std::size_t state_begin = bytes.size() - 8 - state_floats * sizeof(float);
  const fs::path bad = dir.path / "bad.ckpt";

  for (std::size_t keep : {state_begin, state_begin + 5, bytes.size() - 9, bytes.size() - 1}) {
    INFO("kept " << keep << " of " << bytes.size() << " bytes");
    write_bytes(bad,
                std::vector<unsigned char>(bytes.begin(), bytes.begin() + std::ptrdiff_t(keep)));
    REQUIRE_THROWS_WITH(load_checkpoint(bad), Contains("truncated"));
  }
  for (std::size_t at : {state_begin, state_begin + 4 * (state_floats / 2), bytes.size() - 9}) {
    INFO("flipped byte " << at);
    auto corrupt = bytes;
    corrupt[at] ^= 0x04;
    write_bytes(bad, corrupt);
    REQUIRE_THROWS_WITH(load_checkpoint(bad), Contains("corrupt") && Contains("checksum"));
  }

  // Files with a valid checksum whose header and data disagree.
  RawFile short_data = file;
  short_data.data.resize(short_data.data.size() - 3);
  write_bytes(bad, encode(short_data));
  REQUIRE_THROWS_WITH(load_checkpoint(bad),
                      Contains("optimizer state of") && Contains("runs past the data"));
  RawFile long_data = file;
  long_data.data.push_back(0.0f);
  write_bytes(bad, encode(long_data));
  REQUIRE_THROWS_WITH(load_checkpoint(bad), Contains("1 floats of data left over"));
  RawFile other_kind = file;
  other_kind.header["optimizer"]["kind"] = "momentum";
  write_bytes(bad, encode(other_kind));
  REQUIRE_THROWS_WITH(load_checkpoint(bad),
                      Contains("has 2 arrays; its momentum optimizer keeps 1"));
  RawFile bad_config = file;
  bad_config.header["optimizer"]["beta1"] = 1.5;
  write_bytes(bad, encode(bad_config));
  REQUIRE_THROWS_WITH(load_checkpoint(bad),
                      Contains("optimizer this build rejects") && Contains("beta1 = 1.5"));
  RawFile no_optimizer = file;
  no_optimizer.header.erase("optimizer");
  write_bytes(bad, encode(no_optimizer));
  REQUIRE_THROWS_WITH(load_checkpoint(bad), Contains("malformed header") && Contains("optimizer"));
  RawFile future = file;
  future.version = kCheckpointFormatVersion + 1;
  write_bytes(bad, encode(future));
  REQUIRE_THROWS_WITH(load_checkpoint(bad), Contains("format version 3") &&
                                                Contains("reads versions 1 to 2") &&
                                                Contains("newer locus"));
  RawFile ancient = file;
  ancient.version = 0;
  write_bytes(bad, encode(ancient));
  REQUIRE_THROWS_WITH(load_checkpoint(bad), Contains("format version 0"));
  // The undamaged file loads on the reference backend too, with the same state.
  auto reference = load_checkpoint(good, Backend::kReference);
  REQUIRE(reference->read_optimizer_state("layer1.gain", 2) ==
          net->read_optimizer_state("layer1.gain", 2));
}
