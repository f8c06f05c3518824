// The config readers (config/yaml.hpp, config/json.hpp): what a scalar means, and the mistakes
// they refuse with the line or object that holds them.

#include <catch2/catch.hpp>

#include "config/json.hpp"
#include "config/yaml.hpp"

using Catch::Contains;
using locus::config::parse_json;
using locus::config::parse_yaml;
using locus::config::ParseError;

TEST_CASE("YAML scalars read as a config means them", "[config]") {
  const auto json = parse_yaml(
      "int: 42\nneg: -7\nhex: 0x10\noct: 0o17\nfloat: 2.5\nexp: 1e3\nbig: 99999999999999999999\n"
      "yes_bool: true\nno_bool: False\nnull_value: ~\nempty:\nquoted: \"12\"\ntext: CartPole-v1\n"
      "list: [1, two, 3.0]\nnested: {a: {b: 1}}\n",
      "test.yaml");
  CHECK(json["int"] == 42);
  CHECK(json["int"].is_number_integer());
  CHECK(json["neg"] == -7);
  CHECK(json["hex"] == 16);
  CHECK(json["oct"] == 15);
  CHECK(json["float"] == 2.5);
  CHECK(json["exp"].is_number_float());
  CHECK(json["exp"] == 1000.0);
  CHECK(json["big"].is_number_float());
  CHECK(json["yes_bool"] == true);
  CHECK(json["no_bool"] == false);
  CHECK(json["null_value"].is_null());
  CHECK(json["empty"].is_null());
  CHECK(json["quoted"] == "12");
  CHECK(json["text"] == "CartPole-v1");
  CHECK(json["list"] == nlohmann::json::parse(R"([1, "two", 3.0])"));
  CHECK(json["nested"]["a"]["b"] == 1);
}

TEST_CASE("a YAML key given twice is refused with both lines", "[config]") {
  REQUIRE_THROWS_AS(parse_yaml("lr: 0.1\nsteps: 10\nlr: 0.2\n", "run.yaml"), ParseError);
  REQUIRE_THROWS_WITH(
      parse_yaml("lr: 0.1\nsteps: 10\nlr: 0.2\n", "run.yaml"),
      Contains("run.yaml, line 3: key 'lr' is given twice in one mapping (first on line 1)"));
  // Nested mappings and mappings inside lists are checked too.
  REQUIRE_THROWS_WITH(parse_yaml("grid:\n  a: [1]\n  a: [2]\n", "sweep config"),
                      Contains("sweep config, line 3: key 'a' is given twice"));
  REQUIRE_THROWS_WITH(parse_yaml("methods:\n  - {name: x, lr: 1, lr: 2}\n", "s.yaml"),
                      Contains("key 'lr' is given twice"));
  // The same key in two different mappings is fine.
  REQUIRE_NOTHROW(parse_yaml("a: {x: 1}\nb: {x: 2}\n", "ok.yaml"));
}

TEST_CASE("YAML a config cannot hold is refused with its line", "[config]") {
  REQUIRE_THROWS_WITH(parse_yaml("a: 1\nb: .nan\n", "c.yaml"),
                      Contains("c.yaml, line 2: '.nan' is not a finite number"));
  REQUIRE_THROWS_WITH(parse_yaml("a: -.inf\n", "c.yaml"), Contains("not a finite number"));
  REQUIRE_THROWS_WITH(parse_yaml("a: 1e999\n", "c.yaml"), Contains("out of range for a double"));
  REQUIRE_THROWS_WITH(parse_yaml("? [1, 2]\n: 3\n", "c.yaml"),
                      Contains("a key must be a plain name"));
  REQUIRE_THROWS_WITH(parse_yaml("a: [1, 2\nb: 3\n", "c.yaml"), Contains("c.yaml, line"));
  REQUIRE_THROWS_WITH(parse_yaml("a: [1, 2\nb: 3\n", "c.yaml"), Contains("not valid YAML"));
  REQUIRE_THROWS_WITH(parse_yaml("a: 1\nname: caf\xE9\n", "c.yaml"),
                      Contains("c.yaml, line 2: byte 0xE9 is not UTF-8 text"));
  REQUIRE_THROWS_WITH(parse_yaml("a: \xED\xA0\x80\n", "c.yaml"),
                      Contains("not UTF-8"));  // surrogate
  REQUIRE(parse_yaml("name: caf\xC3\xA9 \xF0\x9F\x99\x82\n", "c.yaml")["name"] ==
          "caf\xC3\xA9 \xF0\x9F\x99\x82");
  // Aliases: a self-referencing one made a cyclic node graph (SIGSEGV in every walk over it).
  REQUIRE_THROWS_WITH(parse_yaml("env: x\nenv_kwargs: &a {k: *a}\n", "c.yaml"),
                      Contains("c.yaml, line 2: an alias (*name) repeats another part"));
  REQUIRE_THROWS_WITH(parse_yaml("x: &a [*a]\n", "c.yaml"), Contains("an alias"));
  REQUIRE_THROWS_WITH(parse_yaml("a: &v 1\nb: *v\n", "c.yaml"), Contains("an alias"));
  REQUIRE(parse_yaml("a: &v 1\n", "c.yaml")["a"] == 1);  // an anchor alone is harmless
  std::string huge = "x: [";
  for (int i = 0; i < 1000001; ++i) huge += "0,";
  huge += "0]\n";
  REQUIRE_THROWS_WITH(parse_yaml(huge, "c.yaml"), Contains("more than 1000000 values"));
  // Quoted, the same text is a string.
  REQUIRE(parse_yaml("a: \".nan\"\n", "c.yaml")["a"] == ".nan");
}

TEST_CASE("a JSON key given twice is refused with the object that holds it", "[config]") {
  REQUIRE_THROWS_WITH(parse_json(R"({"lr": 0.1, "lr": 0.2})", "run.json"),
                      Contains("run.json: key 'lr' is given twice in the top level"));
  REQUIRE_THROWS_WITH(parse_json(R"({"net": {"width": 1, "width": 2}})", "run.json"),
                      Contains("key 'width' is given twice in the object under 'net'"));
  REQUIRE_NOTHROW(parse_json(R"({"a": {"x": 1}, "b": {"x": 2}, "x": [{"x": 1}, {"x": 2}]})", "ok"));
  REQUIRE_THROWS_WITH(parse_json("{\"a\": 1,", "bad.json"), Contains("bad.json: not valid JSON"));
}
