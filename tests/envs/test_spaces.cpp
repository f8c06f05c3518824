// Gymnasium's spaces in C++. The golden samples below were printed by gymnasium 1.4 / numpy 2.4
// for the same seeds (doubles as hex literals, compared bit for bit);
// tests/envs/gymnasium_oracle_spaces.py compares many more seeds, spaces and contains() probes
// with Gymnasium at run time.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "envs/space.hpp"

using locus::envs::Array;
using locus::envs::Box;
using locus::envs::BufferError;
using locus::envs::Dict;
using locus::envs::Discrete;
using locus::envs::DType;
using locus::envs::InvalidArgumentError;
using locus::envs::MultiBinary;
using locus::envs::MultiDiscrete;
using locus::envs::Shape;
using locus::envs::Space;
using locus::envs::SpacePtr;
using locus::envs::Tuple;
using locus::envs::Value;
using locus::envs::ValueDict;
using locus::envs::ValueTuple;
using nlohmann::json;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <class T>
std::vector<T> values_of(const Value& v) {
  const auto span = v.array().as<T>();
  return {span.begin(), span.end()};
}

std::int64_t int_of(const Value& v) {
  return v.array().get_int(0);
}

// A one-dimensional array unless a shape is given (scalars come from scalar()).
template <class T>
Value array(std::vector<T> values, Shape shape) {
  return Array::from_vector(values, std::move(shape));
}
template <class T>
Value array(std::vector<T> values) {
  return Array::from_vector(values);
}

template <class T>
Value scalar(T v) {
  return Array::scalar<T>(v);
}

std::vector<std::byte> packed(const Space& space, const Value& v) {
  std::vector<std::byte> out(space.packed_bytes());
  space.pack(v, out);
  return out;
}

// One of every kind, with the corners that matter: offsets, unbounded and integer Boxes, nesting.
std::vector<SpacePtr> space_zoo() {
  using P = std::pair<std::string, SpacePtr>;
  return {
      std::make_shared<Discrete>(2),
      std::make_shared<Discrete>(5, -3),
      std::make_shared<Box>(-1.0, 1.0, Shape{4}),
      std::make_shared<Box>(-kInf, kInf, Shape{2, 3}, DType::kFloat64),
      std::make_shared<Box>(std::vector<double>{-kInf, 0, -kInf, -1},
                            std::vector<double>{kInf, kInf, 5, 2}),
      std::make_shared<Box>(0.0, 255.0, Shape{2, 2}, DType::kUInt8),
      std::make_shared<Box>(-kInf, 3.0, Shape{3}, DType::kInt16),
      std::make_shared<Box>(-kInf, kInf, Shape{3}, DType::kInt64),
      std::make_shared<Box>(0.0, 1.0, Shape{3}, DType::kBool),
      std::make_shared<Box>(-2.5, 7.25, Shape{}, DType::kFloat64),
      std::make_shared<MultiDiscrete>(std::vector<std::int64_t>{3, 5, 7},
                                      std::vector<std::int64_t>{0, -2, 10}),
      std::make_shared<MultiBinary>(Shape{2, 3}),
      std::make_shared<MultiBinary>(37),
      std::make_shared<Tuple>(std::vector<SpacePtr>{std::make_shared<Discrete>(3),
                                                    std::make_shared<MultiBinary>(3),
                                                    std::make_shared<Box>(0.0, 1.0, Shape{2})}),
      std::make_shared<Dict>(std::vector<P>{
          {"z", std::make_shared<Discrete>(4)},
          {"a", std::make_shared<Box>(-1.0, 1.0, Shape{3}, DType::kInt32)},
          {"m",
           std::make_shared<Tuple>(std::vector<SpacePtr>{
               std::make_shared<MultiBinary>(1),
               std::make_shared<Dict>(std::vector<P>{{"q", std::make_shared<Discrete>(9)}})})}}),
  };
}

}  // namespace

TEST_CASE("Discrete: seeded samples equal Gymnasium's", "[spaces]") {
  Discrete d(5, 2);
  CHECK(d.seed(42) == std::vector<std::uint64_t>{42});
  std::vector<std::int64_t> got;
  for (int i = 0; i < 8; ++i) {
    const Value v = d.sample();
    CHECK(v.array().dtype() == DType::kInt64);
    CHECK(v.array().shape().empty());
    got.push_back(int_of(v));
  }
  CHECK(got == std::vector<std::int64_t>{2, 5, 5, 4, 4, 6, 2, 5});

  // Gymnasium: Discrete(6, seed=42).sample(mask=[0, 1, 0, 1, 1, 0]), six times, then sample().
  Discrete m(6);
  m.seed(42);
  const std::vector<std::int8_t> mask = {0, 1, 0, 1, 1, 0};
  got.clear();
  for (int i = 0; i < 6; ++i) got.push_back(int_of(m.sample_masked(mask)));
  CHECK(got == std::vector<std::int64_t>{1, 4, 3, 3, 3, 4});
  CHECK(int_of(m.sample()) == 0);
}

TEST_CASE("Discrete: masks", "[spaces]") {
  Discrete d(4, 10);
  d.seed(0);
  CHECK(int_of(d.sample_masked(std::vector<std::int8_t>{0, 0, 0, 0})) == 10);
  CHECK(int_of(d.sample_masked(std::vector<std::int8_t>{0, 0, 1, 0})) == 12);
  CHECK_THROWS_WITH(d.sample_masked(std::vector<std::int8_t>{1, 0}),
                    Catch::Contains("mask has 2 entries, expected 4"));
  CHECK_THROWS_WITH(d.sample_masked(std::vector<std::int8_t>{1, 2, 0, 0}),
                    Catch::Contains("mask[1] = 2") && Catch::Contains("0 or 1"));
}

TEST_CASE("Discrete: contains follows Gymnasium (integer dtype, shape (), range)", "[spaces]") {
  const Discrete d(3, -1);
  CHECK(d.contains(scalar<std::int64_t>(-1)));
  CHECK(d.contains(scalar<std::int64_t>(1)));
  CHECK_FALSE(d.contains(scalar<std::int64_t>(2)));
  CHECK_FALSE(d.contains(scalar<std::int64_t>(-2)));
  CHECK(d.contains(scalar<std::int32_t>(0)));
  CHECK(d.contains(scalar<std::uint8_t>(1)));
  CHECK_FALSE(d.contains(scalar<double>(0.0)));  // a float is never in a Discrete
  CHECK_FALSE(d.contains(scalar<float>(1.0F)));
  CHECK_FALSE(d.contains(scalar<bool>(true)));             // bool is not an integer dtype for numpy
  CHECK_FALSE(d.contains(array<std::int64_t>({0}, {1})));  // shape (1,), not ()
  CHECK_FALSE(d.contains(Value(ValueTuple{scalar<std::int64_t>(0)})));
  CHECK_THROWS_WITH(Discrete(0), "Discrete(n=0): n must be positive");
  CHECK_THROWS_WITH(Discrete(-4), "Discrete(n=-4): n must be positive");
  CHECK_THROWS_AS(Discrete(2, std::numeric_limits<std::int64_t>::max()), InvalidArgumentError);
  CHECK(Discrete(2).to_string() == "Discrete(2)");
  CHECK(Discrete(3, -1).to_string() == "Discrete(3, start=-1)");
}

TEST_CASE("Box: construction casts bounds as Gymnasium and rejects bad ones", "[spaces]") {
  const Box f32(0.1, 0.3, Shape{2});
  CHECK(f32.low()[0] == static_cast<double>(0.1F));  // stored as the float32 bound
  CHECK(f32.high()[1] == static_cast<double>(0.3F));
  CHECK(f32.to_string() == "Box(0.1, 0.3, (2,), float32)");
  CHECK(f32.is_bounded());

  const Box unbounded_int(-kInf, 3.0, Shape{2}, DType::kInt32);
  CHECK(unbounded_int.low()[0] == -2147483648.0);  // -inf becomes the dtype's minimum
  CHECK_FALSE(unbounded_int.is_bounded());
  CHECK(unbounded_int.to_string() == "Box(-2147483648, 3, (2,), int32)");

  const Box mixed(std::vector<double>{-1, -2}, std::vector<double>{kInf, 3.5});
  CHECK(mixed.shape() == Shape{2});
  CHECK(mixed.to_string() == "Box([-1. -2.], [inf 3.5], (2,), float32)");
  CHECK(Box(-kInf, kInf, Shape{4}).to_string() == "Box(-inf, inf, (4,), float32)");
  CHECK(Box(0.0, 1.0, Shape{2}, DType::kBool).to_string() == "Box(False, True, (2,), bool)");
  CHECK(Box(0.0, 255.0, Shape{2, 3}, DType::kUInt8).to_string() == "Box(0, 255, (2, 3), uint8)");

  CHECK_THROWS_WITH(Box(1.0, 0.0, Shape{2}), "Box: low = 1 > high = 0; low must be <= high");
  CHECK_THROWS_WITH(Box(std::vector<double>{0, 2}, std::vector<double>{1, 1}),
                    Catch::Contains("low[1] = 2 > high[1] = 1"));
  CHECK_THROWS_WITH(Box(kNaN, 1.0, Shape{1}), Catch::Contains("low is NaN"));
  CHECK_THROWS_WITH(
      Box(-kInf, 1.0, Shape{1}, DType::kUInt8),
      Catch::Contains("uint8") && Catch::Contains("-inf") && Catch::Contains("signed integer"));
  CHECK_THROWS_WITH(Box(-200.0, 1.0, Shape{1}, DType::kInt8),
                    Catch::Contains("-200") && Catch::Contains("[-128, 127]"));
  CHECK_THROWS_AS(Box(0.0, 1e39, Shape{1}), InvalidArgumentError);  // past float32's range
  CHECK_THROWS_WITH(Box(std::vector<double>{0, 0}, std::vector<double>{1}),
                    Catch::Contains("low has 2 elements and high 1"));
  CHECK_THROWS_WITH(Box(std::vector<double>{0, 0}, std::vector<double>{1, 1}, Shape{3}),
                    Catch::Contains("shape (3,) needs 3 bounds, got 2"));
}

TEST_CASE("Box: contains applies numpy's safe casting, shape and bounds", "[spaces]") {
  const Box b32(-1.0, 1.0, Shape{2});
  CHECK(b32.contains(array<float>({0.5F, -1.0F})));
  CHECK_FALSE(b32.contains(array<double>({0.5, -1.0})));    // float64 is not in a float32 Box
  CHECK(b32.contains(array<std::int16_t>({1, -1})));        // int16 -> float32 is safe
  CHECK_FALSE(b32.contains(array<std::int32_t>({1, -1})));  // int32 -> float32 is not
  CHECK(b32.contains(array<bool>({true, false})));
  CHECK_FALSE(b32.contains(array<float>({0.5F, 1.5F})));
  CHECK_FALSE(b32.contains(array<float>({kNaN, 0.0F})));  // NaN is not contained
  CHECK_FALSE(b32.contains(array<float>({0.5F, 0.5F}, {1, 2})));
  CHECK_FALSE(b32.contains(array<float>({0.5F, 0.5F, 0.5F})));
  CHECK_FALSE(b32.contains(Value(ValueTuple{})));

  const Box b64(-1.0, 1.0, Shape{2}, DType::kFloat64);
  CHECK(b64.contains(array<float>({0.5F, -1.0F})));  // float32 in a float64 Box is fine
  CHECK(b64.contains(array<std::int64_t>({1, 0})));
  CHECK(b64.contains(array<std::int32_t>({1, 0})));

  const Box i8(-3.0, 3.0, Shape{2}, DType::kInt8);
  CHECK(i8.contains(array<std::int8_t>({-3, 3})));
  CHECK_FALSE(i8.contains(array<std::int16_t>({0, 0})));
  CHECK_FALSE(i8.contains(array<float>({0, 0})));

  const Box i64(-kInf, kInf, Shape{1}, DType::kInt64);
  CHECK(i64.contains(array<std::int64_t>({std::numeric_limits<std::int64_t>::max()})));
  CHECK(i64.contains(array<std::int64_t>({std::numeric_limits<std::int64_t>::min()})));

  const Box scalar_box(-2.5, 7.25, Shape{}, DType::kFloat64);
  CHECK(scalar_box.contains(scalar<double>(7.25)));
  CHECK_FALSE(scalar_box.contains(array<double>({7.0}, {1})));
}

TEST_CASE("Box: seeded samples equal Gymnasium's", "[spaces]") {
  Box b32(-1.0, 1.0, Shape{3});
  b32.seed(0);
  CHECK(values_of<float>(b32.sample()) ==
        std::vector<float>{0x1.187f5ep-2F, -0x1.d77a1p-2F, -0x1.d60b0ap-1F});
  CHECK(values_of<float>(b32.sample()) ==
        std::vector<float>{-0x1.ef1362p-1F, 0x1.40c9eap-1F, 0x1.a6a966p-1F});

  // Unbounded, low-bounded, high-bounded and bounded elements: numpy draws normals, then the
  // exponentials, then the uniforms, so the order of draws is not the order of elements.
  Box mixed(std::vector<double>{-kInf, 0, -kInf, -1}, std::vector<double>{kInf, kInf, 5, 2}, {},
            DType::kFloat64);
  mixed.seed(7);
  CHECK(values_of<double>(mixed.sample()) ==
        std::vector<double>{0x1.427a31c1ffc58p-10, 0x1.0673ba04ad22fp+0, 0x1.1b9ce61796abap+2,
                            -0x1.4c29dbf1ff068p-2});
  CHECK(values_of<double>(mixed.sample()) ==
        std::vector<double>{-0x1.d19537e309692p-2, 0x1.b11b075af8acap+1, 0x1.3f60325321adap+2,
                            0x1.76b413ae7fd60p+0});

  Box u8(0.0, 255.0, Shape{4}, DType::kUInt8);
  u8.seed(3);
  CHECK(values_of<std::uint8_t>(u8.sample()) == std::vector<std::uint8_t>{21, 60, 205, 149});
  CHECK(values_of<std::uint8_t>(u8.sample()) == std::vector<std::uint8_t>{24, 110, 122, 40});

  Box i16(-kInf, 3.0, Shape{3}, DType::kInt16);
  i16.seed(3);
  CHECK(values_of<std::int16_t>(i16.sample()) == std::vector<std::int16_t>{3, 3, 2});
  CHECK(values_of<std::int16_t>(i16.sample()) == std::vector<std::int16_t>{1, 3, 3});
}

TEST_CASE("MultiDiscrete: samples, contains and errors", "[spaces]") {
  MultiDiscrete md({3, 5, 7}, {0, -2, 10});
  md.seed(123);
  CHECK(values_of<std::int64_t>(md.sample()) == std::vector<std::int64_t>{2, -2, 11});
  CHECK(values_of<std::int64_t>(md.sample()) == std::vector<std::int64_t>{0, -2, 15});
  CHECK(values_of<std::int64_t>(md.sample()) == std::vector<std::int64_t>{2, -1, 15});

  CHECK(md.contains(array<std::int64_t>({2, 2, 16})));
  CHECK_FALSE(md.contains(array<std::int64_t>({3, 0, 10})));
  CHECK_FALSE(md.contains(array<std::int64_t>({0, -3, 10})));
  CHECK(md.contains(array<std::int8_t>({0, 0, 10})));
  CHECK_FALSE(md.contains(array<double>({0, 0, 10})));
  CHECK_FALSE(md.contains(array<std::int64_t>({0, 0})));
  const MultiDiscrete bits({2, 2});
  CHECK(bits.contains(array<bool>({true, false})));  // bool casts safely to int64

  CHECK(MultiDiscrete({2, 10}).to_string() == "MultiDiscrete([ 2 10])");
  CHECK(MultiDiscrete({2, 3}, {1, 0}).to_string() == "MultiDiscrete([2 3], start=[1 0])");
  CHECK_THROWS_WITH(MultiDiscrete({2, 0}), Catch::Contains("nvec[1] = 0"));
  CHECK_THROWS_WITH(MultiDiscrete({2, 2}, {1}), Catch::Contains("start has 1 elements"));
}

TEST_CASE("MultiBinary: samples, contains and errors", "[spaces]") {
  // numpy's integers(0, 2, size=n, dtype=int8) draws through its buffered 8-bit path.
  MultiBinary mb(10);
  mb.seed(5);
  CHECK(values_of<std::int8_t>(mb.sample()) ==
        std::vector<std::int8_t>{1, 1, 1, 1, 1, 1, 0, 1, 1, 1});
  CHECK(values_of<std::int8_t>(mb.sample()) ==
        std::vector<std::int8_t>{0, 0, 1, 1, 1, 1, 0, 0, 0, 0});

  const MultiBinary m(3);
  CHECK(m.contains(array<std::int8_t>({0, 1, 1})));
  CHECK(m.contains(array<double>({0.0, 1.0, 1.0})));  // Gymnasium accepts any dtype of 0s and 1s
  CHECK(m.contains(array<bool>({true, false, true})));
  CHECK_FALSE(m.contains(array<std::int8_t>({0, 2, 1})));
  CHECK_FALSE(m.contains(array<double>({0.0, 0.5, 1.0})));
  CHECK_FALSE(m.contains(array<std::int8_t>({0, 1})));
  CHECK(MultiBinary(5).to_string() == "MultiBinary(5)");
  CHECK(MultiBinary(Shape{2, 3}).to_string() == "MultiBinary((2, 3))");
  CHECK_THROWS_WITH(MultiBinary(0), Catch::Contains("must be positive"));
}

TEST_CASE("Tuple and Dict: seeding, samples and structure as Gymnasium", "[spaces]") {
  Tuple t(
      {std::make_shared<Discrete>(3), std::make_shared<Box>(0.0, 1.0, Shape{2}, DType::kFloat64)});
  // Gymnasium seeds the Tuple, then each child with np_random.integers(2**31 - 1).
  CHECK(t.seed(11) == std::vector<std::uint64_t>{287335974, 276102407});
  Value v = t.sample();
  CHECK(int_of(v.tuple()[0]) == 2);
  CHECK(values_of<double>(v.tuple()[1]) ==
        std::vector<double>{0x1.23949de33bc41p-1, 0x1.ef0aff8e16d7ep-1});
  v = t.sample();
  CHECK(int_of(v.tuple()[0]) == 2);
  CHECK(values_of<double>(v.tuple()[1]) ==
        std::vector<double>{0x1.8a34ae3bff635p-1, 0x1.a4d0ce03e9901p-1});
  CHECK(t.to_string() == "Tuple(Discrete(3), Box(0.0, 1.0, (2,), float64))");

  Dict d({{"z", std::make_shared<Discrete>(4)}, {"a", std::make_shared<MultiBinary>(3)}});
  CHECK(d.keys() == std::vector<std::string>{"a", "z"});
  CHECK(d.seed(2) == std::vector<std::uint64_t>{1798679647, 561807779});  // sorted key order
  v = d.sample();
  CHECK(v.dict().keys == std::vector<std::string>{"a", "z"});
  CHECK(values_of<std::int8_t>(*v.dict().find("a")) == std::vector<std::int8_t>{0, 1, 1});
  CHECK(int_of(*v.dict().find("z")) == 1);
  v = d.sample();
  CHECK(values_of<std::int8_t>(*v.dict().find("a")) == std::vector<std::int8_t>{0, 0, 1});
  CHECK(int_of(*v.dict().find("z")) == 0);
  CHECK(d.to_string() == "Dict('a': MultiBinary(3), 'z': Discrete(4))");

  // contains checks the structure as well as every child.
  CHECK(t.contains(Value(ValueTuple{scalar<std::int64_t>(1), array<double>({0.5, 0.5})})));
  CHECK_FALSE(t.contains(Value(ValueTuple{scalar<std::int64_t>(1)})));
  CHECK_FALSE(t.contains(Value(ValueTuple{scalar<double>(1), array<double>({0.5, 0.5})})));
  CHECK_FALSE(t.contains(scalar<std::int64_t>(1)));
  ValueDict good;
  good.insert("a", array<std::int8_t>({0, 1, 0}));
  good.insert("z", scalar<std::int64_t>(3));
  CHECK(d.contains(Value(good)));
  ValueDict extra = good;
  extra.insert("b", scalar<std::int64_t>(0));
  CHECK_FALSE(d.contains(Value(extra)));
  ValueDict missing;
  missing.insert("a", array<std::int8_t>({0, 1, 0}));
  CHECK_FALSE(d.contains(Value(missing)));

  CHECK(d.at("z")->to_string() == "Discrete(4)");
  CHECK_THROWS_WITH(d.at("y"), Catch::Contains("no key 'y'") && Catch::Contains("'a', 'z'"));
  using Entries = std::vector<std::pair<std::string, SpacePtr>>;
  CHECK_THROWS_WITH(
      Dict(Entries{{"a", std::make_shared<Discrete>(2)}, {"a", std::make_shared<Discrete>(3)}}),
      Catch::Contains("'a' appears twice"));
  CHECK_THROWS_AS(Tuple({nullptr}), InvalidArgumentError);
}

TEST_CASE("seed() without a value returns a seed that reproduces the stream", "[spaces]") {
  Box b(-1.0, 1.0, Shape{3});
  const auto seeds = b.seed();
  REQUIRE(seeds.size() == 1);
  const Value first = b.sample();
  b.seed(seeds[0]);
  CHECK(b.sample() == first);

  Tuple t({std::make_shared<Discrete>(3), std::make_shared<Discrete>(7)});
  CHECK(t.seed().size() == 2);
  Discrete unseeded(10);
  CHECK(unseeded.contains(unseeded.sample()));  // seeds itself from entropy on first use
}

TEST_CASE("every sample is contained, and the packed paths agree with the Value paths",
          "[spaces]") {
  for (const auto& space : space_zoo()) {
    INFO(space->to_string());
    for (std::uint64_t seed = 0; seed < 60; ++seed) {
      space->seed(seed);
      const SpacePtr twin = space->clone();  // same generator state
      const Value v = space->sample();
      REQUIRE(space->contains(v));
      // sample_packed draws the same numbers as sample().
      std::vector<std::byte> direct(space->packed_bytes());
      twin->sample_packed(direct);
      const auto via_pack = packed(*space, v);
      REQUIRE(direct == via_pack);
      // unpack(pack(v)) == v, and contains_packed agrees with contains.
      REQUIRE(space->unpack(via_pack) == v);
      REQUIRE(space->contains_packed(via_pack));
      // The streams stay in step afterwards too.
      REQUIRE(space->sample() == twin->sample());
    }
  }
}

TEST_CASE("contains_packed equals contains(unpack) for values outside the space", "[spaces]") {
  const Discrete d(3, 1);
  std::vector<std::byte> buf(8);
  for (std::int64_t x : {0, 1, 3, 4, -7}) {
    std::memcpy(buf.data(), &x, 8);
    CHECK(d.contains_packed(buf) == d.contains(d.unpack(buf)));
  }
  const Box b(-1.0, 1.0, Shape{2});
  for (float x : {0.0F, 1.0F, 1.5F, std::numeric_limits<float>::quiet_NaN(), -1.0F}) {
    const auto bytes = packed(b, array<float>({0.5F, x}));
    CHECK(b.contains_packed(bytes) == b.contains(b.unpack(bytes)));
  }
  const MultiDiscrete md({2, 3}, {0, 5});
  const auto bytes = packed(md, array<std::int64_t>({1, 8}));
  CHECK_FALSE(md.contains_packed(bytes));
  CHECK(md.contains_packed(bytes) == md.contains(md.unpack(bytes)));
  const MultiBinary mb(2);
  const auto bits = packed(mb, array<std::int8_t>({1, 3}));
  CHECK_FALSE(mb.contains_packed(bits));
}

TEST_CASE("pack converts safe dtypes and names what is wrong", "[spaces]") {
  const Discrete d(4);
  const auto p = packed(d, scalar<std::int32_t>(3));  // an int32 action into int64
  CHECK(d.unpack(p) == Value(scalar<std::int64_t>(3)));
  CHECK_THROWS_WITH(packed(d, scalar<double>(1.0)),
                    "Discrete(4).pack: dtype float64 cannot be cast safely to int64");
  CHECK_THROWS_WITH(packed(d, array<std::int64_t>({1}, {1})),
                    "Discrete(4).pack: expected shape (), got (1,)");
  CHECK_THROWS_WITH(packed(d, Value(ValueTuple{})),
                    Catch::Contains("expected an array, got a tuple"));
  std::vector<std::byte> small(4);
  CHECK_THROWS_WITH(d.pack(scalar<std::int64_t>(1), small),
                    "Discrete(4).pack: buffer of 4 bytes, the packed layout needs 8");
  CHECK_THROWS_AS(d.unpack(small), BufferError);
  CHECK_THROWS_AS(d.contains_packed(small), BufferError);

  const Box b(-1.0, 1.0, Shape{4});
  CHECK_THROWS_WITH(packed(b, array<float>({0, 0, 0})),
                    "Box(-1.0, 1.0, (4,), float32).pack: expected shape (4,), got (3,)");
  CHECK_THROWS_WITH(packed(b, array<double>({0, 0, 0, 0})),
                    Catch::Contains("dtype float64 cannot be cast safely to float32"));
  const auto from_int = packed(b, array<std::int16_t>({1, 0, -1, 0}));
  CHECK(b.unpack(from_int) == Value(array<float>({1, 0, -1, 0})));

  // MultiBinary packs what Gymnasium's contains accepts, whatever its dtype.
  const MultiBinary mb(3);
  CHECK(mb.unpack(packed(mb, array<std::int64_t>({1, 0, 1}))) ==
        Value(array<std::int8_t>({1, 0, 1})));
  CHECK_THROWS_AS(packed(mb, array<std::int64_t>({2, 0, 1})), BufferError);

  const Tuple t({std::make_shared<Discrete>(2), std::make_shared<Discrete>(2)});
  CHECK_THROWS_WITH(packed(t, Value(ValueTuple{scalar<std::int64_t>(0)})),
                    Catch::Contains("expected a tuple of 2 values, got 1"));
  const Dict dict({{"a", std::make_shared<Discrete>(2)}});
  CHECK_THROWS_WITH(packed(dict, Value(ValueDict{})), Catch::Contains("no key 'a'"));
}

TEST_CASE("packed layout: leaves are exact, composite children 8-byte aligned", "[spaces]") {
  CHECK(Discrete(3).packed_bytes() == 8);
  CHECK(Box(0.0, 1.0, Shape{3}).packed_bytes() == 12);
  CHECK(Box(0.0, 1.0, Shape{3}, DType::kUInt8).packed_bytes() == 3);
  CHECK(MultiDiscrete({2, 2}).packed_bytes() == 16);
  CHECK(MultiBinary(Shape{2, 3}).packed_bytes() == 6);

  Tuple t({std::make_shared<MultiBinary>(3), std::make_shared<Box>(0.0, 1.0, Shape{3}),
           std::make_shared<Discrete>(2)});
  CHECK(t.offset(0) == 0);
  CHECK(t.offset(1) == 8);
  CHECK(t.offset(2) == 24);
  CHECK(t.packed_bytes() == 32);
  Dict d({{"b", std::make_shared<MultiBinary>(1)}, {"a", std::make_shared<Discrete>(2)}});
  CHECK(d.offset(0) == 0);  // "a"
  CHECK(d.offset(1) == 8);  // "b"
  CHECK(d.packed_bytes() == 16);
  CHECK(Tuple({}).packed_bytes() == 0);

  // Padding is written as zeros, so packed buffers compare bytewise.
  std::vector<std::byte> out(t.packed_bytes(), std::byte{0xAB});
  t.seed(1);
  t.sample_packed(out);
  for (std::size_t i = 3; i < 8; ++i) CHECK(out[i] == std::byte{0});
  for (std::size_t i = 20; i < 24; ++i) CHECK(out[i] == std::byte{0});
}

TEST_CASE("to_json and space_from_json round-trip every space", "[spaces]") {
  for (const auto& space : space_zoo()) {
    INFO(space->to_string());
    const json j = space->to_json();
    const SpacePtr back = locus::envs::space_from_json(json::parse(j.dump()));
    CHECK(back->equals(*space));
    CHECK(space->equals(*back));
    CHECK(back->to_json() == j);
    CHECK(back->to_string() == space->to_string());
    // Same parameters sample the same numbers, unbounded integer sides included.
    back->seed(9);
    space->seed(9);
    CHECK(back->sample() == space->sample());
  }
  const Box b(std::vector<double>{-kInf, 0}, std::vector<double>{1, kInf});
  CHECK(b.to_json() == json::parse(R"({"type": "Box", "low": ["-inf", 0.0], "high": [1.0, "inf"],
                                        "shape": [2], "dtype": "float32"})"));
  CHECK(Box(-kInf, kInf, Shape{3}, DType::kInt32).to_json()["low"] == "-inf");
  CHECK(Box(0.1, 0.3, Shape{2}).to_json()["low"] == 0.1);  // float32 bounds as short decimals
  CHECK(Discrete(3, 1).to_json() == json::parse(R"({"type": "Discrete", "n": 3, "start": 1})"));
  CHECK_FALSE(Discrete(3).equals(Discrete(3, 1)));
  CHECK_FALSE(Discrete(3).equals(MultiBinary(3)));
}

TEST_CASE("space_from_json names what is malformed", "[spaces]") {
  using locus::envs::space_from_json;
  auto error_of = [](const char* text) {
    try {
      space_from_json(json::parse(text));
    } catch (const InvalidArgumentError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of("[1, 2]"), Catch::Contains("must be an object"));
  CHECK_THAT(error_of(R"({"n": 3})"), Catch::Contains("missing \"type\""));
  CHECK_THAT(error_of(R"({"type": "Circle"})"),
             Catch::Contains("unknown space type \"Circle\"") && Catch::Contains("Discrete"));
  CHECK_THAT(error_of(R"({"type": "Discrete", "n": "3"})"),
             Catch::Contains("\"n\" must be an integer"));
  CHECK_THAT(error_of(R"({"type": "Discrete", "n": 0})"), Catch::Contains("n must be positive"));
  CHECK_THAT(error_of(R"({"type": "Box", "low": [0, 0], "high": [1, 1, 1], "shape": [2]})"),
             Catch::Contains("\"high\" has 3 elements"));
  CHECK_THAT(error_of(R"({"type": "Box", "low": "abc", "high": 1, "shape": [2]})"),
             Catch::Contains("\"inf\" or \"-inf\""));
  CHECK_THAT(error_of(R"({"type": "Box", "low": 0, "high": 1, "shape": [2], "dtype": "f16"})"),
             Catch::Contains("unknown dtype 'f16'"));
  CHECK_THAT(error_of(R"({"type": "Box", "low": 0, "high": 1})"), Catch::Contains("\"shape\""));
  CHECK_THAT(error_of(R"({"type": "Tuple", "spaces": [{"type": "Discrete"}]})"),
             Catch::Contains("space.spaces[0]") && Catch::Contains("missing \"n\""));
  CHECK_THAT(error_of(R"({"type": "Dict", "spaces": [1]})"), Catch::Contains("must be an object"));
  // Shorthands that to_json does not write but that are accepted.
  CHECK(space_from_json(json::parse(R"({"type": "MultiBinary", "n": 4})"))->to_string() ==
        "MultiBinary(4)");
  CHECK(space_from_json(json::parse(R"({"type": "Box", "low": [0, 1], "high": 5})"))->to_string() ==
        "Box([0. 1.], 5.0, (2,), float32)");
}

TEST_CASE("clone copies parameters and generator state", "[spaces]") {
  for (const auto& space : space_zoo()) {
    INFO(space->to_string());
    space->seed(4);
    space->sample();
    const SpacePtr copy = space->clone();
    CHECK(copy->equals(*space));
    CHECK(copy->sample() == space->sample());
  }
}
