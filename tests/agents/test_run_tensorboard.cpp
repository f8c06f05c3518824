// TensorBoard's event files (util/tensorboard_events.hpp, agents/run_tensorboard.hpp): CRC-32C's
// check value, the record framing and the protobuf bytes of an event, checked by hand against the
// formats' definitions. tests/cli/test_tensorboard.py reads whole files with TensorBoard's reader.
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "agents/run_tensorboard.hpp"
#include "util/hash.hpp"
#include "util/tensorboard_events.hpp"

namespace tb = locus::util::tensorboard;

namespace {
std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}
std::uint32_t little_endian_u32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}
}  // namespace

TEST_CASE("CRC-32C gives the check value of RFC 3720") {
  CHECK(locus::util::crc32c("123456789") == 0xE3069283u);
  CHECK(locus::util::crc32c("") == 0u);
  // RFC 3720, B.4: 32 bytes of zeros.
  CHECK(locus::util::crc32c(std::string(32, '\0')) == 0x8A9136AAu);
}

TEST_CASE("A record frames its data with the length and both masked checksums") {
  const std::string data = "abc";
  const std::string record = tb::record(data);
  REQUIRE(record.size() == 8 + 4 + 3 + 4);
  CHECK(record.substr(0, 8) == bytes({3, 0, 0, 0, 0, 0, 0, 0}));
  const auto masked = [](std::string_view s) {
    const std::uint32_t crc = locus::util::crc32c(s);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
  };
  CHECK(little_endian_u32(record, 8) == masked(record.substr(0, 8)));
  CHECK(record.substr(12, 3) == data);
  CHECK(little_endian_u32(record, 15) == masked(data));
}

TEST_CASE("A scalar event is the Event protobuf TensorBoard reads") {
  const tb::Scalar scalar{"a", 1.0};
  const std::string record = tb::scalars_record({&scalar, 1}, 5, 0.0);
  // Event{wall_time: 0.0 (field 1, fixed64), step: 5 (field 2, varint), summary (field 5):
  // Summary{value (field 1): Value{tag: "a" (field 1), simple_value: 1.0f (field 2, fixed32)}}}.
  const std::string event =
      bytes({0x09, 0,    0,    0,    0,    0,   0,    0,    0,    0x10, 0x05, 0x2a,
             0x0a, 0x0a, 0x08, 0x0a, 0x01, 'a', 0x15, 0x00, 0x00, 0x80, 0x3f});
  CHECK(record == tb::record(event));
  CHECK(tb::scalars_record({}, 5, 0.0).empty());
  // The first event names the format.
  CHECK(tb::file_version_record(0.0).find("brain.Event:2") != std::string::npos);
}

TEST_CASE("A metrics row's event holds its finite scalars only, at its environment steps") {
  const nlohmann::json row = {{"steps", 300},       {"loss", 2.0},
                              {"entropy", nullptr}, {"episode_returns", {1.0, 3.0}},
                              {"gain", 1.5},        {"eval", {{"return_mean", 9.0}}},
                              {"time_s", 0.5}};
  const std::string record = locus::agents::tensorboard_record(row, 0.0);
  for (const char* tag :
       {"loss/total", "noradrenaline/gain", "eval/return_mean", "rollout/episode_return"}) {
    CHECK(record.find(tag) != std::string::npos);
  }
  CHECK(record.find("policy/entropy") == std::string::npos);           // null: NaN in the run
  CHECK(record.find(bytes({0x10, 0xac, 0x02})) != std::string::npos);  // step 300 as a varint
  CHECK(locus::agents::tensorboard_record({{"steps", 1}}, 0.0).empty());
  // A file: the version event, then one event per row.
  const std::string file = locus::agents::tensorboard_file({row, row}, 100.0);
  CHECK(file == tb::file_version_record(99.5) + locus::agents::tensorboard_record(row, 100.0) +
                    locus::agents::tensorboard_record(row, 100.0));
}
