// Size and range limits of the env layer: keyword arguments that no C++ integer or double setting
// can hold are refused instead of cast (a double outside int64's range is undefined behaviour),
// and vector envs that are absurd or cannot fit in memory are refused before the envs and their
// buffers are allocated.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>

#include "envs/env.hpp"
#include "envs/errors.hpp"
#include "envs/vector_env.hpp"

using namespace locus::envs;
using Catch::Matchers::Contains;

namespace {

// An env with a Box observation of `size` float32 values (its space's bounds take 16 bytes per
// value, its batch 4 more per env).
class WideEnv final : public Env {
 public:
  explicit WideEnv(std::int64_t size) {
    set_observation_space(std::make_shared<Box>(-1.0, 1.0, Shape{size}, DType::kFloat32));
    set_action_space(std::make_shared<Discrete>(2));
  }
  std::string name() const override { return "WideEnv"; }

 protected:
  void reset_impl(const std::optional<Seed>&, const Kwargs&, std::span<std::byte>, Info&) override {
  }
  StepOutcome step_impl(std::span<const std::byte>, std::span<std::byte>, Info&) override {
    return {0.0, false, false};
  }
};

}  // namespace

TEST_CASE("KwargsReader refuses integers outside int64 instead of casting them",
          "[env][kwargs][limits]") {
  const Kwargs kwargs = {{"whole_float", 3.0},
                         {"huge", 1e300},
                         {"two_to_63", 9223372036854775808.0},
                         {"minus_two_to_63", -9223372036854775808.0},
                         {"past_int64", std::numeric_limits<std::uint64_t>::max()},
                         {"int64_max", std::numeric_limits<std::int64_t>::max()},
                         {"fraction", 2.5}};
  KwargsReader reader(kwargs, "Test-v0");
  CHECK(reader.get<std::int64_t>("whole_float", 0) == 3);
  CHECK(reader.get<std::int64_t>("minus_two_to_63", 0) == std::numeric_limits<std::int64_t>::min());
  CHECK(reader.get<std::int64_t>("int64_max", 0) == std::numeric_limits<std::int64_t>::max());
  CHECK_THROWS_WITH(reader.get<std::int64_t>("huge", 0),
                    Contains("Test-v0: argument 'huge' is 1e+300; allowed: -9223372036854775808 "
                             "to 9223372036854775807"));
  CHECK_THROWS_WITH(reader.get<std::int64_t>("two_to_63", 0),
                    Contains("allowed: -9223372036854775808"));
  CHECK_THROWS_WITH(reader.get<std::int64_t>("past_int64", 0),
                    Contains("'past_int64' is 18446744073709551615; allowed:"));
  CHECK_THROWS_WITH(reader.get<std::int64_t>("fraction", 0),
                    Contains("'fraction' must be an integer"));
}

TEST_CASE("KwargsReader refuses NaN and infinite numbers", "[env][kwargs][limits]") {
  const Kwargs kwargs = {
      {"nan", std::nan("")}, {"inf", std::numeric_limits<double>::infinity()}, {"big", 1e300}};
  KwargsReader reader(kwargs, "Test-v0");
  CHECK(reader.get<double>("big", 0.0) == 1e300);
  CHECK_THROWS_WITH(reader.get<double>("nan", 0.0), Contains("'nan' must be a finite number"));
  CHECK_THROWS_WITH(reader.get_optional<double>("inf"), Contains("'inf' must be a finite number"));
}

TEST_CASE("make_vec refuses an absurd num_envs at once", "[vector][limits]") {
  CHECK_THROWS_WITH(make_vec("CartPole-v1", 100'000'000),
                    Contains("make_vec('CartPole-v1'): num_envs 100000000 is more than the most "
                             "a vector env holds (1048576)"));
  CHECK_THROWS_AS(make_vec("CartPole-v1", kMaxNumEnvs + 1), InvalidArgumentError);
  int made = 0;
  const auto factory = [&](std::size_t) -> std::unique_ptr<Env> {
    ++made;
    return std::make_unique<WideEnv>(1);
  };
  CHECK_THROWS_WITH(VectorEnv(factory, 1'000'000'000),
                    Contains("VectorEnv: num_envs 1000000000 is more than the most"));
  CHECK(made == 0);
}

TEST_CASE("a vector env that cannot fit in memory is refused after its first env",
          "[vector][limits]") {
  // 2^20 envs of 2^20 observation values: at least 2^40 x 20 bytes (20 TiB).
  int made = 0;
  const auto factory = [&](std::size_t) -> std::unique_ptr<Env> {
    ++made;
    return std::make_unique<WideEnv>(std::int64_t{1} << 20);
  };
  CHECK_THROWS_WITH(VectorEnv(factory, kMaxNumEnvs),
                    Contains("a vector env of 1048576 WideEnv envs needs at least") &&
                        Contains("TiB of memory, but only") && Contains("use fewer envs"));
  CHECK(made == 1);
  // What fits is built as before.
  VectorEnv small(factory, 4);
  CHECK(small.num_envs() == 4);
}
