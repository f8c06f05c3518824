// Checkpoints and context files whose checksum is valid but whose contents are not (a file written
// wrong, or edited and re-summed): every header field is checked on load, and the error names the
// file, the field and the problem. The files are edited with the independent reader/writer of
// checkpoint_file.hpp, which writes a valid checksum over the edited content.

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
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

namespace {

// Three contexts trained with Adam, so that the file has every kind of field: several contexts,
// a trainable shared readout, per-context tensors and optimizer state.
std::unique_ptr<Network> trained_network() {
  NetworkSpec spec = modulated_mlp(6, {8, 5}, 3, 17);
  spec.heads[0].weights = ReadoutWeights::kTrainableShared;
  auto net = make_network(spec);
  net->add_context();
  net->add_context();
  net->set_gradient_mode(GradientMode::kAllTrainable);
  OptimizerConfig adam;
  adam.kind = OptimizerKind::kAdam;
  net->set_optimizer(adam);
  for (std::uint64_t step = 0; step < 2; ++step) {
    const auto& out =
        net->forward(random_matrix(9, 6, 10 + step), random_contexts(9, 3, 20 + step));
    Matrix grad;
    softmax_cross_entropy(out[0], random_labels(9, 3, 30 + step), &grad);
    net->zero_grad();
    net->backward(grad);
    net->step();
  }
  return net;
}

const RawFile& good_file() {
  static const RawFile file = decode(encode_checkpoint(*trained_network()));
  return file;
}

std::unique_ptr<Network> load_edited(const RawFile& file) {
  return decode_checkpoint(encode(file), "edited.ckpt");
}

// The floats tensor `index` of the header occupies in the data.
std::pair<std::size_t, std::size_t> tensor_span(const RawFile& file, std::size_t index) {
  std::size_t offset = 0;
  for (std::size_t i = 0; i < index; ++i) {
    offset += file.header["tensors"][i]["size"].get<std::size_t>();
  }
  return {offset, file.header["tensors"][index]["size"].get<std::size_t>()};
}

}  // namespace

TEST_CASE("the unedited file loads", "[neuromod][checkpoint]") {
  REQUIRE(load_edited(good_file())->context_count() == 3);
}

TEST_CASE("a checkpoint's context count must agree with its frozen flags and tensors",
          "[neuromod][checkpoint]") {
  RawFile more = good_file();
  more.header["contexts"] = 4;  // the fourth context would silently keep its initial values
  REQUIRE_THROWS_WITH(load_edited(more), Contains("'edited.ckpt' is corrupt") &&
                                             Contains("header field 'frozen'") &&
                                             Contains("3 entries for 4 contexts"));
  RawFile fewer_flags = good_file();
  fewer_flags.header["frozen"].erase(2);
  REQUIRE_THROWS_WITH(load_edited(fewer_flags),
                      Contains("header field 'frozen'") && Contains("2 entries for 3 contexts"));
  RawFile negative = good_file();
  negative.header["contexts"] = -1;  // was read as 2^64 - 1 contexts and allocated until OOM
  REQUIRE_THROWS_WITH(load_edited(negative), Contains("malformed header") &&
                                                 Contains("field 'contexts'") &&
                                                 Contains("not a non-negative integer"));
  RawFile fraction = good_file();
  fraction.header["contexts"] = 2.5;
  REQUIRE_THROWS_WITH(load_edited(fraction), Contains("field 'contexts'"));
  RawFile flag = good_file();
  flag.header["frozen"][1] = "yes";
  REQUIRE_THROWS_WITH(load_edited(flag),
                      Contains("field 'frozen[1]'") && Contains("not true or false"));
}

TEST_CASE("a checkpoint's tensors must be the network's, each once, with their data",
          "[neuromod][checkpoint]") {
  const RawFile& good = good_file();
  const std::size_t count = good.header["tensors"].size();
  SECTION("a missing tensor (with its data) no longer loads as the seed's initial values") {
    RawFile missing = good;
    const auto [offset, size] = tensor_span(good, count - 1);
    missing.header["tensors"].erase(count - 1);
    missing.data.erase(missing.data.begin() + std::ptrdiff_t(offset),
                       missing.data.begin() + std::ptrdiff_t(offset + size));
    // Its optimizer state goes too, so that only the tensor list is wrong.
    auto& state = missing.header["optimizer_state"];
    const auto last = state.back();
    REQUIRE(last["name"] == good.header["tensors"][count - 1]["name"]);
    missing.data.resize(missing.data.size() - 2 * last["size"].get<std::size_t>());
    state.erase(state.size() - 1);
    REQUIRE_THROWS_WITH(load_edited(missing),
                        Contains("'edited.ckpt' is corrupt: header field 'tensors' lists " +
                                 std::to_string(count - 1) + " tensors") &&
                            Contains("have " + std::to_string(count)));
  }
  SECTION("a tensor listed twice") {
    RawFile twice = good;
    twice.header["tensors"][2] = twice.header["tensors"][1];
    REQUIRE_THROWS_WITH(load_edited(twice), Contains("header field 'tensors[2]'") &&
                                                Contains("the network's tensor there is"));
  }
  SECTION("a size that disagrees with the spec") {
    RawFile sized = good;
    sized.header["tensors"][1]["size"] = 1;
    REQUIRE_THROWS_WITH(load_edited(sized),
                        Contains("header field 'tensors[1].size' is 1") && Contains("elements"));
  }
  SECTION("NaN and infinity in a tensor's data") {
    RawFile nan = good;
    const auto [offset, size] = tensor_span(good, 3);
    nan.data[offset + 2] = std::numeric_limits<float>::quiet_NaN();
    const std::string name = good.header["tensors"][3]["name"].get<std::string>();
    REQUIRE_THROWS_WITH(load_edited(nan), Contains("'edited.ckpt' is corrupt: tensor '" + name) &&
                                              Contains("non-finite value nan at element 2"));
  }
}

TEST_CASE("a checkpoint's settings must fit the network", "[neuromod][checkpoint]") {
  RawFile gains = good_file();
  gains.header["weight_gains"].erase(0);  // the remaining gains were applied to the wrong slots
  REQUIRE_THROWS_WITH(load_edited(gains), Contains("header field 'weight_gains' has 2 gains") &&
                                              Contains("3 weighted layers"));
  RawFile huge_gain = good_file();
  huge_gain.header["weight_gains"][1] = 1e300;
  REQUIRE_THROWS_WITH(
      load_edited(huge_gain),
      Contains("header field 'weight_gains[1]' is 1e+300") && Contains("finite float32"));
  RawFile mode = good_file();
  mode.header["gradient_mode"] = "everything";  // was read as all_trainable
  REQUIRE_THROWS_WITH(load_edited(mode), Contains("header field 'gradient_mode' is 'everything'"));
  RawFile selected = good_file();
  selected.header["selected"] = 3;
  REQUIRE_THROWS_WITH(load_edited(selected),
                      Contains("header field 'selected' is 3; it must be 0 to 2"));
  RawFile rate = good_file();
  rate.header["optimizer"]["learning_rate"] = "fast";
  REQUIRE_THROWS_WITH(load_edited(rate), Contains("malformed header") &&
                                             Contains("field 'optimizer.learning_rate'") &&
                                             Contains("not a number"));
  RawFile spec = good_file();
  spec.header["spec"]["layers"][0]["units"] = 1000000;
  spec.header["spec"]["input_dim"] = 1000000;  // 4 TB of fixed weights: refused before allocating
  REQUIRE_THROWS_AS(load_edited(spec), CheckpointError);
  REQUIRE_THROWS_WITH(load_edited(spec),
                      Contains("'edited.ckpt' is corrupt: header field 'spec'") && Contains("TiB"));
}

TEST_CASE("a checkpoint's optimizer state must name distinct trainable tensors",
          "[neuromod][checkpoint]") {
  const RawFile& good = good_file();
  REQUIRE(good.header["optimizer_state"].size() >= 2);
  RawFile repeated = good;
  repeated.header["optimizer_state"][1]["name"] = good.header["optimizer_state"][0]["name"];
  repeated.header["optimizer_state"][1]["context"] = good.header["optimizer_state"][0]["context"];
  repeated.header["optimizer_state"][1]["size"] = good.header["optimizer_state"][0]["size"];
  const std::size_t size0 = good.header["optimizer_state"][0]["size"].get<std::size_t>();
  const std::size_t size1 = good.header["optimizer_state"][1]["size"].get<std::size_t>();
  // Keep the data's length consistent with the edited sizes.
  const std::size_t state_begin = good.data.size() - [&] {
    std::size_t floats = 0;
    for (const auto& entry : good.header["optimizer_state"]) {
      floats += 2 * entry["size"].get<std::size_t>();
    }
    return floats;
  }();
  repeated.data.erase(repeated.data.begin() + std::ptrdiff_t(state_begin + 2 * size0),
                      repeated.data.begin() + std::ptrdiff_t(state_begin + 2 * size0 + 2 * size1));
  repeated.data.insert(repeated.data.begin() + std::ptrdiff_t(state_begin + 2 * size0), 2 * size0,
                       0.0f);
  REQUIRE_THROWS_WITH(load_edited(repeated),
                      Contains("header field 'optimizer_state[1]' repeats the state of"));
  RawFile steps = good;
  steps.header["optimizer_state"][0]["steps"] = -4;
  REQUIRE_THROWS_WITH(load_edited(steps),
                      Contains("header field 'optimizer_state[0].steps' is -4"));
}

TEST_CASE("a context file is checked whole before the network gets a context",
          "[neuromod][checkpoint]") {
  TempDir dir("locus_nm_fields_");
  auto net = trained_network();
  save_context(*net, 1, dir.path / "c1.ctx");
  const RawFile good = decode(read_bytes(dir.path / "c1.ctx"));
  RawFile nan = good;
  nan.data.back() = std::numeric_limits<float>::infinity();
  write_bytes(dir.path / "nan.ctx", encode(nan));
  REQUIRE_THROWS_AS(load_context(*net, dir.path / "nan.ctx"), CheckpointError);
  REQUIRE_THROWS_WITH(
      load_context(*net, dir.path / "nan.ctx"),
      Contains((dir.path / "nan.ctx").string()) && Contains("non-finite value inf"));
  RawFile renamed = good;
  renamed.header["tensors"][0]["name"] = "layer9.gain";
  write_bytes(dir.path / "renamed.ctx", encode(renamed));
  REQUIRE_THROWS_AS(load_context(*net, dir.path / "renamed.ctx"), CheckpointError);
  REQUIRE_THROWS_WITH(load_context(*net, dir.path / "renamed.ctx"),
                      Contains("header field 'tensors[0]' is 'layer9.gain' (context 1)"));
  // A refused file leaves the network as it was (it used to keep a half-loaded context).
  REQUIRE(net->context_count() == 3);
  REQUIRE(load_context(*net, dir.path / "c1.ctx") == 3);
}

// Found by the checkpoint fuzz target: a file with no data (a network without trainable tensors,
// or one edited to none) was copied with memcpy from a null pointer, undefined behaviour that
// UBSan reports (the fuzz build, tests/fuzz); it must load, or fail with a CheckpointError.
TEST_CASE("a checkpoint with no data", "[neuromod][checkpoint]") {
  NetworkSpec fixed = modulated_mlp(3, {4}, 2, 5);
  fixed.layers[0].gain = false;
  fixed.layers[0].bias = false;
  fixed.heads[0].output_gain = false;
  fixed.heads[0].bias = BiasKind::kNone;
  auto net = make_network(fixed);
  REQUIRE(decode(encode_checkpoint(*net)).data.empty());
  REQUIRE(decode_checkpoint(encode_checkpoint(*net), "empty.ckpt")->context_count() == 1);
  RawFile emptied = good_file();
  emptied.data.clear();
  REQUIRE_THROWS_AS(load_edited(emptied), CheckpointError);
}
