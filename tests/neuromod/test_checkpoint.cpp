// Checkpoints and context files: round trips that reproduce outputs bit for bit, and clear errors
// for missing, truncated, corrupt, foreign and wrong-version files. Also the presets and the
// memory report (bytes per context against a full network).

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "checkpoint_file.hpp"
#include "neuromod/checkpoint.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/losses.hpp"
#include "neuromod/presets.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// `steps` batches of one context.
void train_context(Network& net, ContextId context, int steps) {
  for (int i = 0; i < steps; ++i) {
    cross_entropy_step(net, random_matrix(16, net.spec().input_dim, 100 * context + i),
                       std::vector<ContextId>(16, context),
                       random_labels(16, net.spec().heads[0].units, i));
  }
}

bool same_outputs(Network& a, Network& b, ContextId context) {
  const Matrix x = random_matrix(9, a.spec().input_dim, 555);
  const std::vector<ContextId> ids(9, context);
  const Matrix ya = a.forward(x, ids)[0];
  const Matrix yb = b.forward(x, ids)[0];
  return std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("a checkpoint restores contexts, trainable weights and state exactly",
          "[neuromod][checkpoint]") {
  TempDir dir("locus_nm_test_");
  for (const NetworkSpec& spec : {modulated_mlp(12, {20, 9}, 4, 8), baseline_mlp(12, {20}, 4, 8)}) {
    auto net = make_network(spec);
    if (!spec.has_trainable_shared_weights()) {
      net->add_context();
      net->add_context();
    }
    for (ContextId c = 0; c < ContextId(net->context_count()); ++c) train_context(*net, c, 3);
    net->set_frozen(0, true);
    net->select_context(ContextId(net->context_count()) - 1);
    net->set_weight_gain(1, 1.25f);
    const fs::path file = dir.path / (spec.name + ".ckpt");
    save_checkpoint(*net, file);
    auto loaded = load_checkpoint(file);
    REQUIRE(loaded->context_count() == net->context_count());
    REQUIRE(loaded->is_frozen(0));
    REQUIRE(loaded->selected_context() == net->selected_context());
    REQUIRE(loaded->weight_gain(1) == 1.25f);
    for (ContextId c = 0; c < ContextId(net->context_count()); ++c) {
      REQUIRE(same_outputs(*net, *loaded, c));
    }
    // The reference backend reads the same file.
    auto on_reference = load_checkpoint(file, Backend::kReference);
    REQUIRE(on_reference->backend() == Backend::kReference);
    REQUIRE(on_reference->read_parameter("layer0.bias", 0) ==
            net->read_parameter("layer0.bias", 0));
  }
}

TEST_CASE("a context file moves one context between networks of the same spec",
          "[neuromod][checkpoint]") {
  TempDir dir("locus_nm_test_");
  const NetworkSpec spec = modulated_mlp(10, {15}, 3, 21);
  auto source = make_network(spec);
  train_context(*source, 0, 4);
  save_context(*source, 0, dir.path / "task0.ctx");
  auto target = make_network(spec);
  const ContextId id = load_context(*target, dir.path / "task0.ctx");
  REQUIRE(id == 1);
  for (const char* name :
       {"layer0.gain", "layer0.bias", "head.output.bias", "head.output.output_gain"}) {
    REQUIRE(target->read_parameter(name, id) == source->read_parameter(name, 0));
  }
  // A network with another seed has other fixed weights: the context does not fit it.
  NetworkSpec other = spec;
  other.seed = 22;
  auto foreign = make_network(other);
  REQUIRE_THROWS_WITH(load_context(*foreign, dir.path / "task0.ctx"), Contains("does not fit"));
  REQUIRE_THROWS_WITH(load_checkpoint(dir.path / "task0.ctx"), Contains("context file"));
  REQUIRE_THROWS_AS(save_context(*source, 4, dir.path / "x.ctx"), ContextError);
}

TEST_CASE("missing, truncated, corrupt and foreign checkpoints give clear errors",
          "[neuromod][checkpoint]") {
  TempDir dir("locus_nm_test_");
  auto net = make_network(modulated_mlp(10, {15}, 3, 5));
  train_context(*net, 0, 2);
  const fs::path good = dir.path / "good.ckpt";
  save_checkpoint(*net, good);
  const auto bytes = read_bytes(good);
  REQUIRE(bytes.size() == checkpoint_bytes(*net));
  REQUIRE_THROWS_WITH(load_checkpoint(dir.path / "absent.ckpt"), Contains("cannot open"));

  const fs::path bad = dir.path / "bad.ckpt";
  for (std::size_t keep : {std::size_t{0}, std::size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    write_bytes(bad,
                std::vector<unsigned char>(bytes.begin(), bytes.begin() + std::ptrdiff_t(keep)));
    INFO("kept " << keep << " of " << bytes.size() << " bytes");
    REQUIRE_THROWS_WITH(load_checkpoint(bad), Contains("truncated"));
  }
  // One flipped bit in the data, in the header, in the checksum.
  for (std::size_t at : {bytes.size() - 20, std::size_t{40}, bytes.size() - 3}) {
    auto corrupt = bytes;
    corrupt[at] ^= 0x10;
    write_bytes(bad, corrupt);
    INFO("flipped byte " << at);
    REQUIRE_THROWS_WITH(load_checkpoint(bad), Contains("corrupt"));
  }
  auto version = bytes;
  version[8] = 99;
  write_bytes(bad, version);
  REQUIRE_THROWS_WITH(load_checkpoint(bad), Contains("format version 99"));
  write_bytes(bad, std::vector<unsigned char>(64, 'x'));
  REQUIRE_THROWS_WITH(load_checkpoint(bad), Contains("not a locus neuromod checkpoint"));
  // The same bytes in memory (a format that embeds a network, as agents' checkpoints do): they
  // decode to the same network, and damaged ones fail with the name the caller gives them.
  const std::vector<unsigned char> encoded = encode_checkpoint(*net);
  REQUIRE(encoded == bytes);
  REQUIRE(same_outputs(*net, *decode_checkpoint(encoded, "embedded"), 0));
  auto damaged = encoded;
  damaged[damaged.size() - 20] ^= 0x10;
  REQUIRE_THROWS_WITH(decode_checkpoint(damaged, "the network in run.bin"),
                      Contains("'the network in run.bin' is corrupt"));
  // Saving is atomic: no temporary file is left beside the checkpoint.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path)) ++files;
  REQUIRE(files == 2);
}

TEST_CASE("the published preset of arXiv 2204.04297 and its memory footprint",
          "[neuromod][presets]") {
  const TrainingPreset preset = find_preset("arXiv:2204.04297", 3);
  REQUIRE(preset.name == "hong_pavlic_2022");
  REQUIRE(preset.optimizer.kind == OptimizerKind::kRmsprop);
  REQUIRE(preset.optimizer.learning_rate == 1e-2f);
  REQUIRE(preset.batch_size == 128);
  const NetworkSpec& spec = preset.network;
  REQUIRE(spec.input_dim == 784);
  REQUIRE(spec.layers.size() == 1);
  REQUIRE(spec.layers[0].units == 7840);
  REQUIRE(spec.layers[0].sparse_k == 7);
  REQUIRE(spec.layers[0].center);
  REQUIRE(spec.layers[0].site == ModulationSite::kPostActivation);
  REQUIRE(spec.heads[0].weights == ReadoutWeights::kFixedRandom);
  auto net = make_network(spec);
  // Each hidden unit sums exactly 7 distinct inputs, with binary weights, regenerated from the
  // seed.
  const std::vector<std::int32_t> inputs = net->connectivity(0);
  REQUIRE(inputs.size() == 7840 * 7);
  std::vector<std::size_t> uses(784, 0);
  for (std::size_t unit = 0; unit < 7840; ++unit) {
    for (std::size_t t = 0; t < 7; ++t) {
      const std::int32_t i = inputs[unit * 7 + t];
      REQUIRE((i >= 0 && i < 784));
      if (t > 0) REQUIRE(i > inputs[unit * 7 + t - 1]);  // sorted and distinct
      ++uses[std::size_t(i)];
    }
  }
  // Uniform choice: every input is used about 7840 * 7 / 784 = 70 times (binomial sd ~8.3).
  for (std::size_t count : uses) REQUIRE((count > 20 && count < 130));
  for (float v : net->read_parameter("layer0.weight")) REQUIRE(v == 1.0f);
  REQUIRE(make_network(spec)->connectivity(0) == inputs);
  REQUIRE(make_network(hong_pavlic_2022(4).network)->connectivity(0) != inputs);
  const MemoryReport report = memory_report(*net);
  REQUIRE(report.context_bytes == (7840 + 1) * 4);
  REQUIRE(report.trainable_shared_bytes == 0);
  REQUIRE(report.dense_equivalent_bytes == (784 * 7840 + 7840 + 7840 * 10 + 10) * 4);
  REQUIRE(report.context_bytes * 700 < report.dense_equivalent_bytes);
  // A checkpoint of 10 tasks holds contexts, not weights.
  for (int i = 0; i < 9; ++i) net->add_context();
  REQUIRE(checkpoint_bytes(*net) < 10 * report.context_bytes + 4096);
  REQUIRE(preset_names().size() == 2);
  REQUIRE_THROWS_WITH(find_preset("nope"), Contains("hong_pavlic_2022"));
  const TrainingPreset ngm = find_preset("ngm_mlp_2025");
  REQUIRE(ngm.uses_ngm);
  REQUIRE(ngm.network.layers.size() == 2);
  REQUIRE(ngm.ngm.eta == 0.4f);
}

TEST_CASE("specs round-trip through JSON and reject unknown fields", "[neuromod][presets]") {
  NetworkSpec spec = hong_pavlic_2022(9).network;
  set_actor_critic_heads(spec, 4);
  const NetworkSpec back = network_spec_from_json(to_json(spec));
  REQUIRE(to_json(back) == to_json(spec));
  REQUIRE(back.head_index("value") == 1);
  REQUIRE_THROWS_WITH(network_spec_from_json(R"({"input_dim": 3, "colour": 1, "heads": []})"),
                      Contains("colour"));
  REQUIRE_THROWS_WITH(
      network_spec_from_json(
          R"({"input_dim": 3, "layers": [{"units": 2, "kind": "conv"}], "heads": [{"units": 1}]})"),
      Contains("'conv'") && Contains("sparse_binary"));
}
