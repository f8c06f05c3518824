// Weight sets (NetworkSpec::weight_sets): one network holding several independent draws of its
// fixed weights, each context on one of them, as many agents with their own random networks.
//
// The oracle is a plain double-precision forward pass written here from the spec's formula and the
// weights read back from the network, so the grouping of rows by set (in place, gathered, or, on
// CUDA, strided batched GEMMs) is checked against something that never groups. Then the CPU and
// CUDA backends are compared with the reference backend on batches that come grouped with equal
// counts (one batched product), grouped with unequal counts, with a set missing, and interleaved;
// gradients are checked by finite differences in test_gradients.cpp.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "checkpoint_file.hpp"
#include "neuromod/checkpoint.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/kernels.hpp"
#include "neuromod/losses.hpp"
#include "neuromod/presets.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;
using Catch::Matchers::Contains;

namespace {

constexpr std::size_t kSets = 3;

NetworkSpec three_set_spec() {
  NetworkSpec spec = modulated_mlp(11, {19, 14}, 6, 21);
  spec.name = "three-sets";
  spec.weight_sets = kSets;
  return spec;
}

// The other head kinds a multi-set network may have: a fixed readout and a trainable per-context
// one (two heads whose input gradients add up), a centered tanh layer with its gain after the
// activation; and a network with no layers, whose heads read the inputs.
NetworkSpec two_head_spec() {
  NetworkSpec spec = three_set_spec();
  spec.name = "three-sets-two-heads";
  spec.layers[1].center = true;
  spec.layers[1].activation = Activation::kTanh;
  spec.layers[1].site = ModulationSite::kPostActivation;
  spec.heads.push_back(head("own", 4, ReadoutWeights::kTrainablePerContext, BiasKind::kPerContext));
  return spec;
}
NetworkSpec no_layer_spec() {
  NetworkSpec spec = three_set_spec();
  spec.name = "three-sets-no-layers";
  spec.layers.clear();
  return spec;
}

// "layer1.gain" from ("layer", 1, ".gain").
std::string fmt_name(const char* prefix, std::size_t index, const char* suffix) {
  return std::string(prefix) + std::to_string(index) + suffix;
}

// y for each row of x, from the modulated MLP's formula: h = relu(g[c] * s_w * (W_set h) + b[c])
// per layer, y = s[c] * s_w * (R_set h) + b[c], every sum in double.
Matrix oracle_forward(const Network& net, const Matrix& x, const std::vector<ContextId>& ids) {
  const NetworkSpec& spec = net.spec();
  const std::size_t rows = x.shape()[0];
  const std::size_t outputs = spec.heads[0].units;
  Matrix y({rows, outputs});
  std::vector<std::vector<float>> layer_weights;
  for (std::size_t l = 0; l < spec.layers.size(); ++l) {
    layer_weights.push_back(net.read_parameter(fmt_name("layer", l, ".weight")));
  }
  const std::vector<float> readout = net.read_parameter("head.output.weight");
  for (std::size_t r = 0; r < rows; ++r) {
    const ContextId c = ids[r];
    const std::size_t set = net.weight_set(c);
    std::vector<double> h(x.data() + r * spec.input_dim, x.data() + (r + 1) * spec.input_dim);
    for (std::size_t l = 0; l < spec.layers.size(); ++l) {
      const std::size_t units = spec.layers[l].units, fan_in = h.size();
      const float* w = layer_weights[l].data() + set * units * fan_in;
      const auto gain = net.read_parameter(fmt_name("layer", l, ".gain"), c);
      const auto bias = net.read_parameter(fmt_name("layer", l, ".bias"), c);
      std::vector<double> next(units);
      for (std::size_t j = 0; j < units; ++j) {
        double z = 0.0;
        for (std::size_t i = 0; i < fan_in; ++i) z += double(w[j * fan_in + i]) * h[i];
        const double u = gain[j] * (net.weight_gain(l) * z) + bias[j];
        next[j] = u > 0.0 ? u : 0.0;
      }
      h = std::move(next);
    }
    const std::size_t features = h.size();
    const float* w = readout.data() + set * outputs * features;
    const float s = net.read_parameter("head.output.output_gain", c)[0];
    const auto b = net.read_parameter("head.output.bias", c);
    for (std::size_t j = 0; j < outputs; ++j) {
      double dot = 0.0;
      for (std::size_t i = 0; i < features; ++i) dot += double(w[j * features + i]) * h[i];
      y(r, j) = static_cast<float>(s * net.weight_gain(spec.layers.size()) * dot + b[j]);
    }
  }
  return y;
}

// Context ids of the batch shapes the products treat differently. Contexts 0..5 run on sets
// 0, 1, 2, 0, 1, 2.
struct Batch {
  const char* name;
  std::vector<ContextId> ids;
};
std::vector<Batch> batches() {
  std::vector<Batch> result;
  auto grouped = [](std::vector<std::size_t> rows_per_set) {
    std::vector<ContextId> ids;
    for (std::size_t set = 0; set < rows_per_set.size(); ++set) {
      for (std::size_t i = 0; i < rows_per_set[set]; ++i) {
        ids.push_back(static_cast<ContextId>(set + kSets * (i % 2)));  // both contexts of the set
      }
    }
    return ids;
  };
  result.push_back({"grouped, equal counts", grouped({40, 40, 40})});
  result.push_back({"grouped, unequal counts", grouped({5, 33, 17})});
  result.push_back({"set 1 missing", grouped({21, 0, 21})});
  result.push_back({"set 0 alone", grouped({9})});
  std::vector<ContextId> reversed = grouped({12, 12, 12});
  std::reverse(reversed.begin(), reversed.end());
  result.push_back({"grouped, sets in reverse order", reversed});
  result.push_back({"interleaved", random_contexts(301, 6, 5)});
  return result;
}

}  // namespace

TEST_CASE("weight set 0 is the one-set network's draw, the other sets are new draws",
          "[neuromod][weight_sets]") {
  NetworkSpec one = three_set_spec();
  one.weight_sets = 1;
  auto single = make_network(one, Backend::kReference);
  auto three = make_network(three_set_spec(), Backend::kReference);
  for (const char* name : {"layer0.weight", "layer1.weight", "head.output.weight"}) {
    INFO(name);
    const std::vector<float> a = single->read_parameter(name);
    const std::vector<float> b = three->read_parameter(name);
    REQUIRE(b.size() == kSets * a.size());
    REQUIRE(std::equal(a.begin(), a.end(), b.begin()));
    for (std::size_t set = 1; set < kSets; ++set) {
      REQUIRE_FALSE(std::equal(a.begin(), a.end(), b.begin() + std::ptrdiff_t(set * a.size())));
    }
  }
  for (const ParameterInfo& info : three->parameters()) {
    if (info.name == "layer0.weight")
      REQUIRE(info.shape == std::vector<std::size_t>{kSets, 19, 11});
  }
  REQUIRE(single->structure_digest() != three->structure_digest());
  // The spec's JSON names the sets only when there are several, so one-set files read as before.
  REQUIRE(to_json(one).find("weight_sets") == std::string::npos);
  REQUIRE(network_spec_from_json(to_json(three_set_spec())).weight_sets == kSets);
}

TEST_CASE("each row runs through its context's weight set (plain double oracle)",
          "[neuromod][weight_sets]") {
  for (Backend backend : {Backend::kReference, Backend::kCpu}) {
    auto net = make_network(three_set_spec(), backend);
    add_perturbed_contexts(*net, 6, 3);
    REQUIRE(net->weight_set(4) == 1);
    net->set_weight_gain(1, 0.7f);
    net->set_weight_gain(2, 1.2f);
    for (const Batch& batch : batches()) {
      INFO(to_string(backend) << ": " << batch.name);
      const Matrix x = random_matrix(batch.ids.size(), 11, batch.ids.size());
      const Matrix expected = oracle_forward(*net, x, batch.ids);
      REQUIRE(relative_error(net->forward(x, batch.ids)[0], expected) < 1e-5);
    }
  }
}

TEST_CASE("weight sets on every backend match the reference, forward and training",
          "[neuromod][weight_sets][cuda]") {
  struct Run {
    Backend backend;
    MatmulPrecision precision;
    NetworkSpec spec;
  };
  std::vector<Run> runs;
  for (Backend backend : semantic_backends()) {
    for (const NetworkSpec& spec : {three_set_spec(), two_head_spec(), no_layer_spec()}) {
      runs.push_back({backend, MatmulPrecision::kFloat32, spec});
    }
  }
  if (cpu_supports_bf16_products()) {
    runs.push_back({Backend::kCpu, MatmulPrecision::kBfloat16, two_head_spec()});
  }
  for (const auto& [backend, precision, spec] : runs) {
    auto net = make_network(spec, backend);
    auto reference = make_network(spec, Backend::kReference);
    const bool bf16 = precision == MatmulPrecision::kBfloat16;
    net->set_matmul_precision(precision);
    reference->set_matmul_precision(precision);
    for (Network* n : {net.get(), reference.get()}) {
      add_perturbed_contexts(*n, 6, 4);
      n->set_gradient_mode(GradientMode::kContextOnly);
      OptimizerConfig config;
      config.kind = OptimizerKind::kMomentum;
      config.learning_rate = 1e-2f;
      n->set_optimizer(config);
      n->set_weight_gain(0, 1.1f);
    }
    // bfloat16 rounds the activations (8 bits of mantissa) on both sides, but they sum in another
    // order: a rounding that lands on the other side of a tie differs by one bfloat16 step.
    const double tolerance = bf16 ? 2e-3 : 1e-5;
    std::uint64_t seed = 100;
    for (const Batch& batch : batches()) {
      INFO(spec.name << " on " << to_string(backend) << " " << to_string(precision) << ": "
                     << batch.name);
      const std::size_t rows = batch.ids.size();
      const Matrix x = random_matrix(rows, 11, ++seed);
      const std::vector<Matrix> expected = reference->forward(x, batch.ids);
      const std::vector<Matrix>& outputs = net->forward(x, batch.ids);
      for (std::size_t h = 0; h < outputs.size(); ++h) {
        REQUIRE(relative_error(outputs[h], expected[h]) < tolerance);
      }
      const auto labels = random_labels(rows, 6, ++seed);
      for (Network* n : {net.get(), reference.get()}) {
        const std::vector<Matrix> grads = head_gradients(n->forward(x, batch.ids), labels);
        n->zero_grad();
        n->backward(grads);
      }
      for (const ParameterInfo& info : net->parameters()) {
        if (!info.trainable) continue;
        INFO(info.name << " context " << info.context);
        const auto a = net->read_gradient(info.name, info.context);
        const auto b = reference->read_gradient(info.name, info.context);
        double norm = 0.0;
        for (float v : b) norm += double(v) * v;
        if (norm == 0.0) {  // a context absent from the batch
          for (float v : a) REQUIRE(v == 0.0f);
          continue;
        }
        REQUIRE(relative_error(a, b) < (bf16 ? 2e-2 : 1e-4));
      }
      net->step();
      reference->step();
    }
  }
}

TEST_CASE("training one weight set's contexts leaves the other sets' outputs unchanged",
          "[neuromod][weight_sets][cuda]") {
  for (Backend backend : semantic_backends()) {
    INFO(to_string(backend));
    auto net = make_network(three_set_spec(), backend);
    add_perturbed_contexts(*net, 6, 5);
    OptimizerConfig config;
    config.kind = OptimizerKind::kAdam;
    config.learning_rate = 1e-2f;
    net->set_optimizer(config);
    net->set_gradient_mode(GradientMode::kContextOnly);
    const Matrix probe = random_matrix(30, 11, 1);
    const std::vector<ContextId> others = random_contexts(30, 6, 2);
    std::vector<ContextId> probe_ids;  // contexts on sets 0 and 2
    probe_ids.reserve(others.size());
    for (ContextId c : others) probe_ids.push_back(net->weight_set(c) == 1 ? c - 1 : c);
    const Matrix before = net->forward(probe, probe_ids)[0];
    for (int i = 0; i < 4; ++i) {
      const std::vector<ContextId> on_set_1 = {1, 4, 4, 1, 1, 4, 1};
      Matrix grad;
      softmax_cross_entropy(net->forward(random_matrix(7, 11, 10 + i), on_set_1)[0],
                            random_labels(7, 6, 20 + i), &grad);
      net->zero_grad();
      net->backward(grad);
      net->step();
    }
    const Matrix after = net->forward(probe, probe_ids)[0];
    REQUIRE(std::memcmp(before.data(), after.data(), before.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("a context's weight set survives checkpoints, context files and cloning",
          "[neuromod][weight_sets][cuda]") {
  TempDir dir("locus-weight-sets-");
  for (Backend backend : semantic_backends()) {
    INFO("saved on " << to_string(backend));
    auto net = make_network(three_set_spec(), backend);
    add_perturbed_contexts(*net, 5, 6);  // sets 0, 1, 2, 0, 1
    const ContextId clone = net->clone_context(2);
    REQUIRE(net->weight_set(clone) == 2);
    const Matrix x = random_matrix(12, 11, 7);
    const std::vector<ContextId> ids = {0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0};
    const Matrix expected = net->forward(x, ids)[0];

    save_checkpoint(*net, dir.path / "net.ckpt");
    for (Backend target : semantic_backends()) {  // and loaded on every backend
      INFO("loaded on " << to_string(target));
      auto loaded = load_checkpoint(dir.path / "net.ckpt", target);
      for (ContextId c = 0; c < 6; ++c) REQUIRE(loaded->weight_set(c) == net->weight_set(c));
      const Matrix again = loaded->forward(x, ids)[0];
      if (target == backend) {
        REQUIRE(std::memcmp(again.data(), expected.data(), expected.size() * sizeof(float)) == 0);
      } else {
        REQUIRE(relative_error(again, expected) < 1e-5);
      }
    }

    save_context(*net, 4, dir.path / "context4.ctx");
    auto fresh = make_network(three_set_spec(), backend);
    const ContextId id = load_context(*fresh, dir.path / "context4.ctx");
    REQUIRE(fresh->weight_set(id) == 1);
    const Matrix row = random_matrix(3, 11, 8);
    REQUIRE(relative_error(fresh->forward(row, std::vector<ContextId>(3, id))[0],
                           net->forward(row, std::vector<ContextId>(3, 4))[0]) == 0.0);
  }
}

namespace {

// A file's bytes with its header's `key` set to `value` (lengths and checksum fixed).
std::vector<unsigned char> with_header(const std::vector<unsigned char>& bytes,
                                       const std::string& key, const nlohmann::json& value) {
  RawFile file = decode(bytes);
  file.header[key] = value;
  return encode(file);
}

}  // namespace

TEST_CASE("a checkpoint whose contexts' weight sets do not fit says so",
          "[neuromod][weight_sets]") {
  TempDir dir("locus-weight-sets-bad-");
  auto net = make_network(three_set_spec(), Backend::kCpu);
  add_perturbed_contexts(*net, 3, 6);  // sets 0, 1, 2
  const std::vector<unsigned char> good = encode_checkpoint(*net);
  REQUIRE(decode_checkpoint(with_header(good, "context_weight_sets", {0, 1, 2}), "same")
              ->weight_set(2) == 2);
  REQUIRE_THROWS_WITH(
      decode_checkpoint(with_header(good, "context_weight_sets", {0, 7, 2}), "edited"),
      Contains("'edited' is corrupt: context 1 on weight set 7; the network has 3 (0..2)"));
  REQUIRE_THROWS_WITH(
      decode_checkpoint(with_header(good, "context_weight_sets", {1, 1, 2}), "edited"),
      Contains("context 0 on weight set 1"));
  REQUIRE_THROWS_WITH(decode_checkpoint(with_header(good, "context_weight_sets", {0, 1}), "edited"),
                      Contains("2 context weight sets for 3 contexts"));

  save_context(*net, 2, dir.path / "c2.ctx");
  write_bytes(dir.path / "c5.ctx", with_header(read_bytes(dir.path / "c2.ctx"), "weight_set", 5));
  REQUIRE_THROWS_WITH(load_context(*net, dir.path / "c5.ctx"),
                      Contains("its context is on weight set 5; the network has 3 (0..2)"));
  REQUIRE(net->context_count() == 3);
}

TEST_CASE("bad weight sets are clear errors", "[neuromod][weight_sets]") {
  NetworkSpec spec = three_set_spec();
  spec.weight_sets = 0;
  REQUIRE_THROWS_WITH(spec.validate(), Contains("weight_sets = 0 must be in [1, 65535]"));
  NetworkSpec sparse = three_set_spec();
  sparse.layers[0].kind = LayerKind::kSparseBinary;
  sparse.layers[0].sparse_k = 3;
  REQUIRE_THROWS_WITH(sparse.validate(), Contains("layer 0 is sparse"));
  NetworkSpec baseline = baseline_mlp(5, {7}, 3, 1);
  baseline.weight_sets = 2;
  REQUIRE_THROWS_WITH(baseline.validate(), Contains("needs every shared weight fixed"));
  NetworkSpec too_many = three_set_spec();
  too_many.weight_sets = kMaxWeightSets + 1;
  REQUIRE_THROWS_WITH(too_many.validate(), Contains("must be in [1, 65535]"));
  for (auto readout : {ReadoutWeights::kTrainableShared}) {
    NetworkSpec shared_readout = three_set_spec();
    shared_readout.heads[0].weights = readout;
    REQUIRE_THROWS_WITH(shared_readout.validate(), Contains("needs every shared weight fixed"));
  }
  NetworkSpec shared_bias = three_set_spec();
  shared_bias.heads[0].bias = BiasKind::kShared;
  REQUIRE_THROWS_WITH(shared_bias.validate(), Contains("needs every shared weight fixed"));
  auto json_with = [](const std::string& sets) {
    return R"({"input_dim": 3, "weight_sets": )" + sets +
           R"(, "layers": [{"units": 4}], "heads": [{"units": 2}]})";
  };
  REQUIRE(network_spec_from_json(json_with("2")).weight_sets == 2);
  REQUIRE_THROWS_WITH(network_spec_from_json(json_with("0")), Contains("weight_sets = 0"));
  for (const char* bad : {"-1", "2.5", "\"2\""}) {
    INFO(bad);
    REQUIRE_THROWS_WITH(network_spec_from_json(json_with(bad)),
                        Contains("key 'weight_sets'") && Contains(std::string(bad)));
  }

  auto net = make_network(three_set_spec(), Backend::kCpu);
  REQUIRE_THROWS_AS(net->add_context(3), ContextError);
  REQUIRE_THROWS_WITH(net->add_context(3),
                      Contains("weight set 3 does not exist") && Contains("3 weight sets (0..2)"));
  REQUIRE(net->context_count() == 1);  // nothing added by the failed calls
  REQUIRE_THROWS_WITH(make_network(modulated_mlp(4, {5}, 2, 1), Backend::kCpu)->add_context(1),
                      Contains("1 weight set (0..0)"));
}
