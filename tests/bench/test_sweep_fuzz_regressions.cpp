// Inputs the sweep-config fuzz target (tests/fuzz/fuzz_sweep_yaml.cpp) found to escape
// SweepConfig::from_yaml as something other than a bench error. The first two are fixed by the
// config/ reader, the last by from_yaml turning the reader's errors into its own.

#include <catch2/catch.hpp>

#include "bench/harness/errors.hpp"
#include "bench/harness/sweep.hpp"

TEST_CASE("a sweep config that is not UTF-8 is a bench error", "[sweep]") {
  // A byte 0xFF in a method's setting: the message quoting the value used to throw nlohmann's
  // type_error 316 (invalid UTF-8).
  REQUIRE_THROWS_AS(locus::bench::SweepConfig::from_yaml(
                        "name: x\nseeds: [0]\nmethods:\n  - {name: a, lr: \"f\xff\"}\n")
                        .expand(),
                    locus::bench::Error);
}

TEST_CASE("a sweep config with a key that is not a string is a bench error", "[sweep]") {
  // A sequence or a mapping as a key (YAML's "? " form): the key's conversion to a string, outside
  // the try around YAML::Load, used to throw YAML::TypedBadConversion out of from_yaml.
  REQUIRE_THROWS_AS(locus::bench::SweepConfig::from_yaml("? [a, b]\n: 1\n"), locus::bench::Error);
  REQUIRE_THROWS_AS(locus::bench::SweepConfig::from_yaml("name: x\nmethods:\n  ? {name: a}\n"),
                    locus::bench::Error);
}

TEST_CASE("a sweep config the YAML reader refuses is a bench error", "[sweep]") {
  // config::load_yaml refuses .INF with its line, but from_yaml let the config::ParseError out
  // instead of turning it into the harness's own error.
  REQUIRE_THROWS_AS(locus::bench::SweepConfig::from_yaml("name: x\nseeds: [0]\nmethods:\n"
                                                         "  - {name: a, lr: .INF}\n"),
                    locus::bench::Error);
}
