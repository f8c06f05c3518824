// The one reader of config values (config/reader.hpp): typed getters with range checks, unknown
// keys refused with the closest accepted one, and the caller's own error type.

#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "config/reader.hpp"

using Catch::Contains;
using locus::config::ConfigError;
using locus::config::Reader;
using nlohmann::json;

TEST_CASE("Reader returns typed values and fallbacks", "[config][reader]") {
  const json object = {{"n", 3},        {"big", 1e6},      {"x", 2.5},        {"flag", true},
                       {"name", "gru"}, {"none", nullptr}, {"list", {1, 2.5}}};
  Reader reader(object, "test");
  CHECK(reader.get<int>("n", 0) == 3);
  CHECK(reader.get<std::size_t>("n", 0) == 3);          // a C++ int is a signed JSON integer
  CHECK(reader.get<std::size_t>("big", 0) == 1000000);  // YAML's 1e6 is a double
  CHECK(reader.get<double>("x", 0.0) == 2.5);
  CHECK(reader.get<float>("x", 0.0f) == 2.5f);
  CHECK(reader.get<bool>("flag", false));
  CHECK(reader.get<std::string>("name", "mlp") == "gru");
  CHECK(reader.get<int>("none", 7) == 7);  // null is absent
  CHECK(reader.get<int>("missing", 9) == 9);
  CHECK(reader.get_numbers("list", {}) == std::vector<double>{1.0, 2.5});
  CHECK_FALSE(reader.get_optional<double>("missing").has_value());
  reader.finish();
}

TEST_CASE("Reader refuses values outside the target type or the caller's range",
          "[config][reader]") {
  const json object = {{"huge", 1e300}, {"negative", -1},       {"fraction", 2.5},
                       {"text", "4"},   {"past_int", 1u << 31}, {"too_big_float", 1e300}};
  Reader reader(object, "ctx");
  // A double beyond int64 cannot be cast (undefined behaviour): refused with the allowed range.
  CHECK_THROWS_WITH(reader.get<std::int64_t>("huge", 0),
                    Contains("ctx: key 'huge' is 1e+300; allowed: -9223372036854775808 to"));
  CHECK_THROWS_WITH(reader.get<std::size_t>("negative", 0),
                    Contains("key 'negative' is -1; allowed: 0 to 18446744073709551615"));
  CHECK_THROWS_WITH(reader.get<int>("fraction", 0), Contains("must be an integer, got 2.5"));
  CHECK_THROWS_WITH(reader.get<double>("text", 0.0),
                    Contains("must be a finite number, got \"4\""));
  CHECK_THROWS_WITH(reader.get<std::int32_t>("past_int", 0), Contains("allowed: -2147483648 to"));
  CHECK_THROWS_WITH(reader.get<float>("too_big_float", 0.0f),
                    Contains("'too_big_float' is 1e+300"));
  CHECK_THROWS_WITH(reader.get_in<int>("negative", 0, 0, 10), Contains("is -1; allowed: 0 to 10"));
  CHECK_THROWS_AS(reader.get<bool>("text", false), ConfigError);
}

TEST_CASE("Reader refuses non-finite numbers (from Python floats)", "[config][reader]") {
  const json object = {{"nan", std::nan("")}, {"inf", INFINITY}};
  Reader reader(object, "ctx");
  CHECK_THROWS_WITH(reader.get<double>("nan", 0.0), Contains("must be a finite number"));
  CHECK_THROWS_WITH(reader.get<double>("inf", 0.0), Contains("must be a finite number"));
}

TEST_CASE("Reader refuses unknown keys, naming the closest accepted one", "[config][reader]") {
  const json object = {{"learning_rat", 0.1}, {"seed", 1}};
  Reader reader(object, "agent config");
  (void)reader.get<double>("learning_rate", 0.01);
  (void)reader.get<int>("seed", 0);
  CHECK_THROWS_WITH(reader.finish(),
                    Contains("agent config: unknown key 'learning_rat' (did you mean "
                             "'learning_rate'?); accepted: learning_rate, seed"));
  const json far = {{"zzzzzz", 1}};
  Reader other(far, "x");
  (void)other.get<int>("seed", 0);
  CHECK_THROWS_WITH(other.finish(), Contains("unknown key 'zzzzzz'; accepted: seed"));
}

TEST_CASE("Reader's choices name the closest one", "[config][reader]") {
  const json object = {{"policy", "gur"}};
  Reader reader(object, "");
  CHECK_THROWS_WITH(reader.get_choice("policy", "mlp", {"mlp", "rnn", "gru", "lstm"}),
                    Contains("unknown key 'policy' value 'gur' (did you mean 'gru'?); choose one "
                             "of: mlp, rnn, gru, lstm"));
}

namespace {
struct CallersError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
void raise_callers_error(const std::string& message) {
  throw CallersError(message);
}
}  // namespace

TEST_CASE("Reader throws the caller's error type and names keys in the caller's words",
          "[config][reader]") {
  const json object = {{"gravity", "high"}};
  Reader reader(object, "CartPole", {.key_noun = "argument", .raise = &raise_callers_error});
  CHECK_THROWS_AS(reader.get<double>("gravity", 9.8), CallersError);
  CHECK_THROWS_WITH(reader.get<double>("gravity", 9.8),
                    Contains("CartPole: argument 'gravity' must be a finite number"));
  const json not_object = json::array({1});
  CHECK_THROWS_AS(Reader(not_object, "CartPole", {.raise = &raise_callers_error}), CallersError);
}

TEST_CASE("A config error is a usage error of the one locus error type", "[config][reader]") {
  const json object = {{"n", "x"}};
  Reader reader(object, "ctx");
  try {
    (void)reader.get<int>("n", 0);
    FAIL("no error");
  } catch (const locus::Error& error) {
    CHECK(error.kind() == locus::ErrorKind::kUsage);
  }
}
