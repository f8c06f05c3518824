// Arrays and values: numpy's dtype rules, astype, printing, and the Value tree. numpy itself checks
// far more printing and casting cases through tests/envs/gymnasium_oracle_spaces.py; the expected
// strings here were printed by numpy 2.4.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "envs/array.hpp"

using locus::envs::Array;
using locus::envs::BufferError;
using locus::envs::DType;
using locus::envs::InvalidArgumentError;
using locus::envs::Shape;
using locus::envs::Value;
using locus::envs::ValueDict;
using locus::envs::ValueTuple;
namespace envs = locus::envs;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const std::vector<DType> kAll = {DType::kBool,  DType::kInt8,  DType::kUInt8,   DType::kInt16,
                                 DType::kInt32, DType::kInt64, DType::kFloat32, DType::kFloat64};

}  // namespace

TEST_CASE("dtype names, sizes and kinds follow numpy", "[array]") {
  const std::vector<std::string> names = {"bool",  "int8",  "uint8",   "int16",
                                          "int32", "int64", "float32", "float64"};
  const std::vector<std::size_t> sizes = {1, 1, 1, 2, 4, 8, 4, 8};
  for (std::size_t i = 0; i < kAll.size(); ++i) {
    CHECK(envs::dtype_name(kAll[i]) == names[i]);
    CHECK(envs::dtype_from_name(names[i]) == kAll[i]);
    CHECK(envs::dtype_size(kAll[i]) == sizes[i]);
  }
  CHECK_THROWS_WITH(envs::dtype_from_name("float16"),
                    Catch::Contains("'float16'") && Catch::Contains("float32"));
  CHECK(envs::is_floating(DType::kFloat32));
  CHECK_FALSE(envs::is_integer(DType::kBool));
  CHECK(envs::is_integer(DType::kUInt8));
  CHECK_FALSE(envs::is_signed(DType::kUInt8));
  CHECK(envs::is_signed(DType::kInt8));
}

TEST_CASE("can_cast_safely is numpy.can_cast(from, to, 'safe')", "[array]") {
  // Rows: from; columns: to; order bool int8 uint8 int16 int32 int64 float32 float64 (numpy 2.4).
  const std::vector<std::string> table = {
      "11111111",  // bool
      "01011111",  // int8
      "00111111",  // uint8
      "00011111",  // int16
      "00001101",  // int32: float32 cannot hold every int32
      "00000101",  // int64
      "00000011",  // float32
      "00000001",  // float64
  };
  for (std::size_t f = 0; f < kAll.size(); ++f) {
    for (std::size_t t = 0; t < kAll.size(); ++t) {
      INFO(envs::dtype_name(kAll[f]) << " -> " << envs::dtype_name(kAll[t]));
      CHECK(envs::can_cast_safely(kAll[f], kAll[t]) == (table[f][t] == '1'));
    }
  }
}

TEST_CASE("shapes", "[array]") {
  CHECK(envs::shape_size({}) == 1);
  CHECK(envs::shape_size({2, 3}) == 6);
  CHECK(envs::shape_size({4, 0}) == 0);
  CHECK(envs::shape_to_string({}) == "()");
  CHECK(envs::shape_to_string({4}) == "(4,)");
  CHECK(envs::shape_to_string({2, 3}) == "(2, 3)");
  CHECK_THROWS_AS(envs::shape_size({2, -1}), InvalidArgumentError);
  CHECK_THROWS_AS(Array(DType::kFloat32, {-3}), InvalidArgumentError);
}

TEST_CASE("Array construction and typed access", "[array]") {
  const Array zeros(DType::kFloat32, {2, 3});
  CHECK(zeros.size() == 6);
  CHECK(zeros.ndim() == 2);
  CHECK(zeros.nbytes() == 24);
  for (float v : zeros.as<float>()) CHECK(v == 0.0F);

  const Array a = Array::from_vector(std::vector<std::int32_t>{1, -2, 3});
  CHECK(a.dtype() == DType::kInt32);
  CHECK(a.shape() == Shape{3});
  CHECK(a.get_int(1) == -2);
  CHECK(a.get_double(2) == 3.0);
  CHECK_THROWS_WITH(a.as<float>(), "Array holds int32, requested float32");
  CHECK_THROWS_WITH(Array().as<float>(), "Array holds float64, requested float32");
  CHECK_THROWS_AS(a.get_int(3), BufferError);
  CHECK_THROWS_AS(a.get_double(-1), BufferError);

  const Array b = Array::from_vector(std::vector<bool>{true, false, true});
  CHECK(b.dtype() == DType::kBool);
  CHECK(b.get_int(0) == 1);
  CHECK(b.get_int(1) == 0);

  const Array s = Array::scalar<std::int64_t>(7);
  CHECK(s.shape().empty());
  CHECK(s.size() == 1);

  CHECK_THROWS_WITH(Array::from_vector(std::vector<float>{1, 2, 3}, {2, 2}),
                    Catch::Contains("3 values") && Catch::Contains("(2, 2)"));
  const std::vector<std::byte> bytes(5);
  CHECK_THROWS_AS(Array::from_bytes(DType::kInt32, {2}, bytes), BufferError);
  const Array r = Array::from_bytes(DType::kInt8, {5}, bytes);
  CHECK(r.size() == 5);
}

TEST_CASE("astype follows numpy's C casts, including numpy's out-of-range results", "[array]") {
  const Array f = Array::from_vector(std::vector<double>{1.9, -1.9, -1.5, 300.7, kNaN, kInf, 0.0});
  CHECK(f.astype(DType::kInt64).as<std::int64_t>()[0] == 1);
  CHECK(f.astype(DType::kInt64).as<std::int64_t>()[1] == -1);
  CHECK(f.astype(DType::kUInt8).as<std::uint8_t>()[2] == 255);  // -1 wraps
  CHECK(f.astype(DType::kInt8).as<std::int8_t>()[3] == 44);     // 300 keeps its low byte
  CHECK(f.astype(DType::kInt16).as<std::int16_t>()[3] == 300);
  // NaN and inf become the integer minimum (x86's cvttsd2si), 0 for the 8/16-bit types.
  CHECK(f.astype(DType::kInt64).as<std::int64_t>()[4] == std::numeric_limits<std::int64_t>::min());
  CHECK(f.astype(DType::kInt32).as<std::int32_t>()[5] == std::numeric_limits<std::int32_t>::min());
  CHECK(f.astype(DType::kInt8).as<std::int8_t>()[4] == 0);
  const auto as_bool = f.astype(DType::kBool);
  CHECK(as_bool.get_int(4) == 1);  // NaN is truthy
  CHECK(as_bool.get_int(6) == 0);
  const Array big = Array::from_vector(std::vector<double>{1e39, -1e39, 0.1});
  const Array big32 = big.astype(DType::kFloat32);
  const auto f32 = big32.as<float>();
  CHECK(std::isinf(f32[0]));
  CHECK(f32[1] < 0);
  CHECK(f32[2] == 0.1F);
  const Array i = Array::from_vector(std::vector<std::int64_t>{300, -1});
  CHECK(i.astype(DType::kInt8).as<std::int8_t>()[0] == 44);
  CHECK(i.astype(DType::kUInt8).as<std::uint8_t>()[1] == 255);
  CHECK(i.astype(DType::kInt64) == i);

  std::vector<std::byte> out(8);
  CHECK_THROWS_AS(envs::cast_elements(DType::kFloat32, i.bytes(), DType::kFloat32, out),
                  BufferError);
  envs::cast_elements(DType::kInt64, i.bytes(), DType::kInt32, out);
  CHECK(envs::as_span<const std::int32_t>(std::span<const std::byte>(out))[1] == -1);
}

TEST_CASE("Array equality compares dtype, shape and bytes", "[array]") {
  const Array a = Array::from_vector(std::vector<float>{1, 2});
  CHECK(a == Array::from_vector(std::vector<float>{1, 2}));
  CHECK_FALSE(a == Array::from_vector(std::vector<double>{1, 2}));
  CHECK_FALSE(a == Array::from_vector(std::vector<float>{1, 2}, {1, 2}));
  CHECK_FALSE(a == Array::from_vector(std::vector<float>{1, 3}));
}

TEST_CASE("to_string and to_str print like numpy's repr and str", "[array]") {
  CHECK(Array::from_vector(std::vector<float>{1, 2}).to_string() ==
        "array([1., 2.], dtype=float32)");
  CHECK(Array::from_vector(std::vector<float>{-1, 2.5}).to_string() ==
        "array([-1. ,  2.5], dtype=float32)");
  CHECK(Array::from_vector(std::vector<float>{-1, -2}).to_str() == "[-1. -2.]");
  CHECK(Array::from_vector(std::vector<std::int64_t>{1, 10, -5}).to_string() ==
        "array([ 1, 10, -5])");
  CHECK(Array::from_vector(std::vector<std::int8_t>{1, 2}).to_string() ==
        "array([1, 2], dtype=int8)");
  CHECK(Array::from_vector(std::vector<bool>{true, false}).to_string() == "array([ True, False])");
  CHECK(Array::from_vector(std::vector<double>{kInf, 1.0}).to_string() == "array([inf,  1.])");
  CHECK(Array::from_vector(std::vector<double>{kNaN, -kInf}).to_string() == "array([ nan, -inf])");
  CHECK(Array::from_vector(std::vector<double>{1e-5, 1.0}).to_string() ==
        "array([1.e-05, 1.e+00])");
  CHECK(Array::from_vector(std::vector<double>{1.5e-5, 1.0}).to_string() ==
        "array([1.5e-05, 1.0e+00])");
  CHECK(Array(DType::kFloat32, {0}).to_string() == "array([], dtype=float32)");
  CHECK(Array(DType::kFloat64, {0, 3}).to_string() == "array([], shape=(0, 3), dtype=float64)");
  CHECK(Array(DType::kFloat32, {2, 3}).to_string() ==
        "array([[0., 0., 0.],\n       [0., 0., 0.]], dtype=float32)");
  // A 0-d array prints as its scalar (numpy would print "array(3)").
  CHECK(Array::scalar<std::int64_t>(3).to_string() == "3");
  CHECK(Array::scalar<float>(0.1F).to_string() == "0.1");
  CHECK(Array::scalar<double>(1e16).to_string() == "1e+16");
  CHECK(Array::scalar<float>(1234567.0F).to_str() == "1.234567e+06");
  CHECK(Array::scalar<bool>(true).to_str() == "True");

  std::vector<std::int64_t> many(2000);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<std::int64_t>(i);
  CHECK(Array::from_vector(many).to_string() ==
        "array([   0,    1,    2, ..., 1997, 1998, 1999], shape=(2000,))");
}

TEST_CASE("ValueDict keeps keys sorted", "[array]") {
  ValueDict d;
  d.insert("b", Array::scalar<std::int64_t>(2));
  d.insert("a", Array::scalar<std::int64_t>(1));
  d.insert("c", Array::scalar<std::int64_t>(3));
  d.insert("b", Array::scalar<std::int64_t>(20));
  CHECK(d.keys == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(d.find("b") != nullptr);
  CHECK(d.find("b")->array().get_int(0) == 20);
  CHECK(d.find("x") == nullptr);
  ValueDict e;
  e.insert("c", Array::scalar<std::int64_t>(3));
  e.insert("a", Array::scalar<std::int64_t>(1));
  e.insert("b", Array::scalar<std::int64_t>(20));
  CHECK(d == e);
}

TEST_CASE("Value kinds, accessors and printing", "[array]") {
  const Value a = Array::scalar<std::int64_t>(1);
  const Value t = ValueTuple{a, Array::from_vector(std::vector<double>{0.5})};
  ValueDict dict;
  dict.insert("it's", a);
  dict.insert("a", t);
  const Value d = dict;
  CHECK(a.is_array());
  CHECK(t.is_tuple());
  CHECK(d.is_dict());
  CHECK_THROWS_WITH(t.array(), "Value holds a tuple, not an array");
  CHECK_THROWS_WITH(a.tuple(), "Value holds an array, not a tuple");
  CHECK_THROWS_WITH(a.dict(), "Value holds an array, not a dict");
  CHECK(t.to_string() == "(1, array([0.5]))");
  CHECK(Value(ValueTuple{a}).to_string() == "(1,)");
  CHECK(d.to_string() == "{'a': (1, array([0.5])), \"it's\": 1}");
  CHECK(t == Value(ValueTuple{a, Array::from_vector(std::vector<double>{0.5})}));
  CHECK_FALSE(t == d);
}

TEST_CASE("py_repr quotes like Python", "[array]") {
  CHECK(envs::py_repr("key") == "'key'");
  CHECK(envs::py_repr("it's") == "\"it's\"");
  CHECK(envs::py_repr("a'b\"c") == "'a\\'b\"c'");
  CHECK(envs::py_repr("tab\there") == "'tab\\there'");
}
