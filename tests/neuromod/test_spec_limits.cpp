// Size and range limits of network specs: layers past the unit limit and networks whose weights
// cannot fit in the available memory are refused by validate(), before any weight is allocated;
// spec JSON numbers are range-checked instead of wrapped (-1 as a size_t) or cast with undefined
// behaviour (1e300 as a float or an integer).

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "neuromod/errors.hpp"
#include "neuromod/network.hpp"
#include "neuromod/spec.hpp"

using namespace locus::neuromod;
using Catch::Matchers::Contains;

namespace {

std::string spec_json(const std::string& input_dim, const std::string& layer,
                      const std::string& head = R"({"units": 2})") {
  return R"({"input_dim": )" + input_dim + R"(, "layers": [)" + layer + R"(], "heads": [)" + head +
         "]}";
}

}  // namespace

TEST_CASE("spec JSON numbers are range-checked", "[spec][limits]") {
  const std::string layer = R"({"units": 4})";
  CHECK(network_spec_from_json(spec_json("3", layer)).input_dim == 3);
  CHECK_THROWS_WITH(network_spec_from_json(spec_json("-1", layer)),
                    Contains("network spec: the spec: key 'input_dim' is -1; allowed: 0 to"));
  CHECK_THROWS_WITH(network_spec_from_json(spec_json("1e300", layer)),
                    Contains("the spec: key 'input_dim' is 1e+300; allowed: 0 to"));
  CHECK_THROWS_WITH(network_spec_from_json(spec_json("3", R"({"units": -4})")),
                    Contains("a layer: key 'units' is -4; allowed: 0 to"));
  CHECK_THROWS_WITH(network_spec_from_json(spec_json("3", R"({"units": 4, "sparse_k": 1e300})")),
                    Contains("a layer: key 'sparse_k' is 1e+300; allowed: 0 to"));
  CHECK_THROWS_WITH(
      network_spec_from_json(spec_json("3", R"({"units": 4, "init_scale": 1e300})")),
      Contains("a layer: key 'init_scale' is 1e+300; allowed: -3.4028234663852886e+38 to"));
  CHECK_THROWS_WITH(network_spec_from_json(spec_json("3", layer, R"({"units": 2.5})")),
                    Contains("a head: key 'units' must be a whole number, got 2.5"));
  CHECK_THROWS_WITH(
      network_spec_from_json(spec_json("3", layer, R"({"units": 2, "init_scale": -1e39})")),
      Contains("a head: key 'init_scale' is -1e+39; allowed"));
  CHECK_THROWS_WITH(
      network_spec_from_json(R"({"input_dim": 3, "seed": -5, "heads": [{"units": 2}]})"),
      Contains("the spec: key 'seed' is -5; allowed: 0 to"));
}

TEST_CASE("absurd widths are refused before anything is allocated", "[spec][limits]") {
  CHECK_THROWS_WITH(modulated_mlp(4, {100'000'000}, 2, 0),
                    Contains("layer 0 has 100000000 units; at most 16777216"));
  CHECK_THROWS_WITH(baseline_mlp(100'000'000, {4}, 2, 0),
                    Contains("input_dim 100000000 must be at most 16777216"));
  NetworkSpec spec = baseline_mlp(4, {8}, 2, 0);
  spec.heads[0].units = 100'000'000;
  CHECK_THROWS_WITH(spec.validate(), Contains("units must be in [1, 16777216]"));
  // Within the unit limit, but 2^24 x 2^24 trainable weights with their gradients: 2 PiB.
  CHECK_THROWS_WITH(make_network(baseline_mlp(4, {1 << 24, 1 << 24}, 2, 0), Backend::kCpu),
                    Contains("network spec 'baseline_mlp' (its weights) needs at least 2.0 PiB") &&
                        Contains("but only") && Contains("narrower or fewer layers"));
}

TEST_CASE("weight and activation estimates count what the network holds", "[spec][limits]") {
  const NetworkSpec fixed = modulated_mlp(10, {20}, 3, 0);  // fixed weights, one set
  CHECK(fixed.weight_bytes() == (10 * 20 + 20 * 3) * 4);
  const NetworkSpec trainable = baseline_mlp(10, {20}, 3, 0);  // weights and gradients
  CHECK(trainable.weight_bytes() == 2 * (10 * 20 + 20 * 3) * 4);
  CHECK(trainable.activation_bytes(5) == 5 * (10 + 4 * 20 + 2 * 3) * 4);
  NetworkSpec huge = fixed;
  huge.layers[0].units = std::numeric_limits<std::size_t>::max();
  CHECK(huge.weight_bytes() == std::numeric_limits<std::uint64_t>::max());
}
