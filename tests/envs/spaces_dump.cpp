// spaces_dump: prints what locus's spaces and arrays do, one JSON object per line, so that
// tests/envs/gymnasium_oracle_spaces.py can redo every step with Gymnasium and numpy and compare.
//
//   spaces_dump [--samples K] SEED...
//
// Lines:
//   {"space": to_json, "repr": ..., "runs": [{"seed": S, "seeds": [...], "samples": [...],
//    "masked": [...]}], "probes": [[value, contains], ...]}
//   {"array": value, "repr": ..., "str": ...}          numpy's repr()/str() of the same array
//   {"astype": value, "to": dtype, "result": value}     numpy's astype
//   {"can_cast": [[from, to, bool], ...]}               numpy.can_cast(from, to, "safe")
// A value is {"dtype", "shape", "data"} (floats as hex bit patterns, so the comparison is exact),
// {"tuple": [...]} or {"dict": {...}}.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "envs/array.hpp"
#include "envs/rng.hpp"
#include "envs/space.hpp"

namespace {

using locus::envs::Array;
using locus::envs::Box;
using locus::envs::Dict;
using locus::envs::Discrete;
using locus::envs::DType;
using locus::envs::MultiBinary;
using locus::envs::MultiDiscrete;
using locus::envs::Rng;
using locus::envs::Shape;
using locus::envs::Space;
using locus::envs::SpacePtr;
using locus::envs::Tuple;
using locus::envs::Value;
using locus::envs::ValueDict;
using locus::envs::ValueTuple;
using nlohmann::json;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const std::vector<DType> kDTypes = {DType::kBool,  DType::kInt8,  DType::kUInt8,   DType::kInt16,
                                    DType::kInt32, DType::kInt64, DType::kFloat32, DType::kFloat64};

std::string hex_bits(double v) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  char text[24];
  std::snprintf(text, sizeof text, "%016" PRIx64, bits);
  return text;
}

std::string hex_bits(float v) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  char text[16];
  std::snprintf(text, sizeof text, "%08" PRIx32, bits);
  return text;
}

json to_json(const Value& value) {
  if (value.is_tuple()) {
    json items = json::array();
    for (const auto& v : value.tuple()) items.push_back(to_json(v));
    return {{"tuple", items}};
  }
  if (value.is_dict()) {
    json items = json::object();
    const auto& d = value.dict();
    for (std::size_t i = 0; i < d.keys.size(); ++i) items[d.keys[i]] = to_json(d.values[i]);
    return {{"dict", items}};
  }
  const Array& a = value.array();
  json data = json::array();
  for (std::int64_t i = 0; i < a.size(); ++i) {
    if (a.dtype() == DType::kFloat32) {
      data.push_back(hex_bits(a.as<float>()[static_cast<std::size_t>(i)]));
    } else if (a.dtype() == DType::kFloat64) {
      data.push_back(hex_bits(a.as<double>()[static_cast<std::size_t>(i)]));
    } else {
      data.push_back(a.get_int(i));
    }
  }
  return {{"dtype", std::string(locus::envs::dtype_name(a.dtype()))},
          {"shape", a.shape()},
          {"data", data}};
}

Array reshaped(const Array& a, Shape shape) {
  return Array::from_bytes(a.dtype(), shape, a.bytes());
}

Array filled(const Shape& shape, double v) {
  return Array::from_vector(
      std::vector<double>(static_cast<std::size_t>(locus::envs::shape_size(shape)), v), shape);
}

// Values around the edges of the space that contains() must judge as numpy does.
std::vector<Value> probes(const Space& space, const Value& sample) {
  std::vector<Value> out{sample};
  if (!sample.is_array()) {
    if (sample.is_tuple() && !sample.tuple().empty()) {
      ValueTuple t = sample.tuple();
      t.pop_back();
      out.emplace_back(t);
      t = sample.tuple();
      if (t[0].is_array()) t[0] = t[0].array().astype(DType::kFloat64);
      out.emplace_back(t);
    }
    if (sample.is_dict() && !sample.dict().keys.empty()) {
      ValueDict d = sample.dict();
      d.keys.pop_back();
      d.values.pop_back();
      out.emplace_back(d);
      d = sample.dict();
      if (d.values[0].is_array()) d.values[0] = d.values[0].array().astype(DType::kFloat64);
      out.emplace_back(d);
    }
    return out;
  }
  const Array& a = sample.array();
  for (DType d : kDTypes) out.emplace_back(a.astype(d));
  Shape longer = a.shape();
  longer.insert(longer.begin(), 1);
  out.emplace_back(reshaped(a, longer));
  if (const auto* box = dynamic_cast<const Box*>(&space)) {
    const auto n = static_cast<std::size_t>(a.size());
    for (const auto& bound : {box->low(), box->high()}) {
      for (double delta : {0.0, -1.0, 1.0, -1e-3, 1e-3}) {
        std::vector<double> v(n);
        for (std::size_t i = 0; i < n; ++i) v[i] = bound[i] + delta;
        out.emplace_back(Array::from_vector(v, box->shape()).astype(box->dtype()));
        out.emplace_back(Array::from_vector(v, box->shape()));
      }
    }
    out.emplace_back(filled(box->shape(), kNaN));
    out.emplace_back(filled(box->shape(), kNaN).astype(DType::kFloat32));
  }
  if (const auto* d = dynamic_cast<const Discrete*>(&space)) {
    for (std::int64_t v :
         {d->start() - 1, d->start(), d->start() + d->n() - 1, d->start() + d->n()}) {
      for (DType t : kDTypes) out.emplace_back(Array::scalar<std::int64_t>(v).astype(t));
    }
  }
  if (dynamic_cast<const MultiBinary*>(&space) != nullptr) {
    out.emplace_back(filled(a.shape(), 2.0));
    out.emplace_back(filled(a.shape(), 1.0));
    out.emplace_back(filled(a.shape(), 0.5));
  }
  if (const auto* md = dynamic_cast<const MultiDiscrete*>(&space)) {
    std::vector<std::int64_t> top;
    for (std::size_t i = 0; i < md->nvec().size(); ++i)
      top.push_back(md->start()[i] + md->nvec()[i]);
    out.emplace_back(Array::from_vector(top));
    for (auto& t : top) t -= 1;
    out.emplace_back(Array::from_vector(top));
  }
  return out;
}

SpacePtr box(double lo, double hi, Shape shape, DType dtype) {
  return std::make_shared<Box>(lo, hi, std::move(shape), dtype);
}
SpacePtr box(std::vector<double> lo, std::vector<double> hi, Shape shape, DType dtype) {
  return std::make_shared<Box>(std::move(lo), std::move(hi), std::move(shape), dtype);
}

std::vector<SpacePtr> make_spaces() {
  using P = std::pair<std::string, SpacePtr>;
  std::vector<SpacePtr> s;
  s.push_back(std::make_shared<Discrete>(2));
  s.push_back(std::make_shared<Discrete>(3, -1));
  s.push_back(std::make_shared<Discrete>(7, 10));
  s.push_back(std::make_shared<Discrete>(1000000007));
  s.push_back(std::make_shared<Discrete>(int64_t{1} << 40, -5));
  s.push_back(box(-1, 1, {4}, DType::kFloat32));
  s.push_back(box(-kInf, kInf, {3}, DType::kFloat32));
  s.push_back(box(-kInf, kInf, {2, 3}, DType::kFloat64));
  s.push_back(
      box({-kInf, 0, -kInf, -1, 0.1, -2}, {kInf, kInf, 5, 2, 0.7, -2}, {}, DType::kFloat32));
  s.push_back(box({-kInf, 0, -kInf, -1, -3.5, 1e30}, {kInf, kInf, 5, 2, 1e-3, 1e31}, {2, 3},
                  DType::kFloat64));
  s.push_back(box(0, 255, {2, 2, 3}, DType::kUInt8));
  s.push_back(box(-10, 10, {5}, DType::kInt32));
  s.push_back(box(-128, 127, {6}, DType::kInt8));
  s.push_back(box(-kInf, 3, {2}, DType::kInt16));
  s.push_back(box({-kInf, -5, -kInf}, {kInf, kInf, 100}, {}, DType::kInt32));
  s.push_back(box(-kInf, kInf, {3}, DType::kInt64));
  s.push_back(box(-1000000, 1000000000000, {3}, DType::kInt64));
  s.push_back(box(0, 1, {3}, DType::kBool));
  s.push_back(box(-2.5, 7.25, {}, DType::kFloat64));
  s.push_back(box(0, 0, {0}, DType::kFloat32));
  s.push_back(box(-3.4e38, 3.4e38, {2}, DType::kFloat32));
  s.push_back(box(0.1, 0.3, {2}, DType::kFloat32));
  s.push_back(box(-1e-5, 1e-5, {2}, DType::kFloat64));
  s.push_back(std::make_shared<MultiDiscrete>(std::vector<std::int64_t>{2, 3, 5}));
  s.push_back(std::make_shared<MultiDiscrete>(std::vector<std::int64_t>{4, 7},
                                              std::vector<std::int64_t>{-2, 100}));
  s.push_back(std::make_shared<MultiDiscrete>(std::vector<std::int64_t>{1000000, 3, 10, 1}));
  s.push_back(std::make_shared<MultiBinary>(5));
  s.push_back(std::make_shared<MultiBinary>(Shape{2, 3}));
  s.push_back(std::make_shared<MultiBinary>(41));
  s.push_back(std::make_shared<Tuple>(
      std::vector<SpacePtr>{std::make_shared<Discrete>(2), box(-1, 1, {2}, DType::kFloat32)}));
  s.push_back(std::make_shared<Tuple>(std::vector<SpacePtr>{}));
  s.push_back(std::make_shared<Dict>(
      std::vector<P>{{"b", std::make_shared<Discrete>(3)},
                     {"a", std::make_shared<MultiBinary>(4)},
                     {"c", std::make_shared<Tuple>(std::vector<SpacePtr>{
                               std::make_shared<Discrete>(5),
                               std::make_shared<MultiDiscrete>(std::vector<std::int64_t>{2, 2})})},
                     {"position", box(-kInf, kInf, {2}, DType::kFloat32)}}));
  s.push_back(std::make_shared<Tuple>(std::vector<SpacePtr>{
      std::make_shared<Tuple>(std::vector<SpacePtr>{std::make_shared<Discrete>(4)}),
      std::make_shared<Dict>(std::vector<P>{{"x", box(0, 10, {3}, DType::kInt32)},
                                            {"it's", std::make_shared<Discrete>(9)}})}));
  return s;
}

// Masks that Gymnasium's Discrete.sample(mask=...) takes: several valid actions, one, none.
std::vector<std::vector<std::int8_t>> masks_for(const Discrete& d) {
  const auto n = static_cast<std::size_t>(d.n());
  std::vector<std::vector<std::int8_t>> masks(3, std::vector<std::int8_t>(n, 0));
  for (std::size_t i = 0; i < n; ++i) masks[0][i] = (i % 3 == 1 || i + 1 == n) ? 1 : 0;
  masks[1][n - 1] = 1;
  return masks;
}

void dump_spaces(const std::vector<std::uint64_t>& seeds, int samples) {
  for (const auto& space : make_spaces()) {
    json line{{"space", space->to_json()}, {"repr", space->to_string()}};
    json runs = json::array();
    Value first;
    for (const auto seed : seeds) {
      json run{{"seed", seed}, {"seeds", space->seed(seed)}};
      json values = json::array();
      for (int k = 0; k < samples; ++k) {
        Value v = space->sample();
        if (k == 0 && seed == seeds.front()) first = v;
        values.push_back(to_json(v));
      }
      run["samples"] = values;
      if (auto* d = dynamic_cast<Discrete*>(space.get()); d != nullptr && d->n() <= 100) {
        json masked = json::array();
        for (const auto& mask : masks_for(*d)) {
          masked.push_back(to_json(d->sample_masked(mask)));
          masked.push_back(to_json(d->sample()));
        }
        run["masked"] = masked;
      }
      runs.push_back(run);
    }
    line["runs"] = runs;
    json checks = json::array();
    for (const auto& p : probes(*space, first)) checks.push_back({to_json(p), space->contains(p)});
    line["probes"] = checks;
    std::cout << line.dump() << "\n";
  }
}

void dump_arrays() {
  Rng rng(2024);
  std::vector<Array> arrays;
  // Floats across magnitudes, with and without non-finite values, integral or not.
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (double scale : {1e-6, 1e-3, 0.5, 1.0, 7.0, 1e3, 1e5, 1e7, 1e9, 1e17}) {
      for (std::size_t n : {1U, 2U, 5U, 13U, 40U}) {
        std::vector<double> v(n);
        for (auto& x : v) x = rng.standard_normal() * scale;
        arrays.push_back(Array::from_vector(v).astype(dtype));
        for (auto& x : v) x = std::round(x);
        arrays.push_back(Array::from_vector(v).astype(dtype));
        v[0] = kInf;
        if (n > 2) v[2] = kNaN;
        if (n > 3) v[3] = -kInf;
        arrays.push_back(Array::from_vector(v).astype(dtype));
      }
    }
    arrays.push_back(Array::from_vector(std::vector<double>{kNaN, -kInf}).astype(dtype));
    arrays.push_back(Array::from_vector(std::vector<double>{0.0, -0.0, 1.5}).astype(dtype));
    arrays.push_back(Array::from_vector(std::vector<double>{0.1, 0.2, 0.3}).astype(dtype));
    arrays.push_back(Array::from_vector(std::vector<double>{1e-5, 1.0}).astype(dtype));
    arrays.push_back(Array::from_vector(std::vector<double>{1.5e-5, 1e20}).astype(dtype));
    arrays.push_back(Array::from_vector(std::vector<double>{0.5, 1000.0}).astype(dtype));
    arrays.push_back(
        Array::from_vector(std::vector<double>{-3.4028235e38, 3.4028235e38}).astype(dtype));
    std::vector<double> grid(24);
    for (std::size_t i = 0; i < grid.size(); ++i) grid[i] = static_cast<double>(i) / 7.0;
    arrays.push_back(Array::from_vector(grid, {2, 3, 4}).astype(dtype));
    arrays.push_back(Array::from_vector(grid, {4, 6}).astype(dtype));
  }
  // Integers and bools, flat and nested.
  for (DType dtype : kDTypes) {
    if (dtype == DType::kFloat32 || dtype == DType::kFloat64) continue;
    std::vector<double> v(30);
    for (auto& x : v) x = std::floor(rng.uniform(-200, 200));
    arrays.push_back(Array::from_vector(v).astype(dtype));
    arrays.push_back(Array::from_vector(v, {5, 6}).astype(dtype));
    arrays.push_back(Array::from_vector(v, {2, 3, 5}).astype(dtype));
    arrays.push_back(Array::scalar<double>(v[0]).astype(dtype));
    arrays.push_back(Array(dtype, {0}));
    arrays.push_back(Array(dtype, {0, 3}));
  }
  arrays.push_back(Array::from_vector(std::vector<std::int64_t>{
      std::numeric_limits<std::int64_t>::min(), 0, std::numeric_limits<std::int64_t>::max()}));
  for (double v : {0.0, -0.0, 1.0, 0.1, 1e-4, 9.9e-5, 123456.0, 1234567.0, 1e15, 1e16, 1e17,
                   -2.5e-7, kInf, -kInf, kNaN}) {
    arrays.push_back(Array::scalar<double>(v));
    arrays.push_back(Array::scalar<double>(v).astype(DType::kFloat32));
  }
  // Summarized (more than 1000 elements), flat and nested.
  std::vector<double> big(2400);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<double>(i) * 0.25;
  arrays.push_back(Array::from_vector(big));
  arrays.push_back(Array::from_vector(big).astype(DType::kInt32));
  arrays.push_back(Array::from_vector(big, {10, 20, 12}).astype(DType::kFloat32));
  arrays.push_back(Array::from_vector(big, {3, 800}).astype(DType::kInt64));
  arrays.push_back(Array::from_vector(big, {800, 3}).astype(DType::kBool));
  for (const auto& a : arrays) {
    std::cout << json{{"array", to_json(a)}, {"repr", a.to_string()}, {"str", a.to_str()}}.dump()
              << "\n";
  }

  const Array special = Array::from_vector(
      std::vector<double>{kNaN, kInf, -kInf, 1e20, -1e20, 300.7, -300.7, 3e9, -3e9, 70000.5, 9.3e18,
                          -0.9, 255.9, 0.0, -0.0, 1.0, 3.5e38, -3.5e38, 3.4028235677973366e38});
  for (const Array& source : {special, special.astype(DType::kFloat32),
                              Array::from_vector(std::vector<std::int64_t>{
                                  -1, 300, 70000, 5000000000, -5000000000, 0, 1})}) {
    for (DType to : kDTypes) {
      std::cout << json{{"astype", to_json(source)},
                        {"to", std::string(locus::envs::dtype_name(to))},
                        {"result", to_json(source.astype(to))}}
                       .dump()
                << "\n";
    }
  }

  json table = json::array();
  for (DType from : kDTypes) {
    for (DType to : kDTypes) {
      table.push_back({std::string(locus::envs::dtype_name(from)),
                       std::string(locus::envs::dtype_name(to)),
                       locus::envs::can_cast_safely(from, to)});
    }
  }
  std::cout << json{{"can_cast", table}}.dump() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  int samples = 5;
  std::vector<std::uint64_t> seeds;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--samples" && i + 1 < argc) {
      samples = std::atoi(argv[++i]);
    } else {
      seeds.push_back(std::strtoull(arg.c_str(), nullptr, 10));
    }
  }
  if (seeds.empty()) {
    std::cerr << "usage: spaces_dump [--samples K] SEED...\n";
    return 2;
  }
  dump_spaces(seeds, samples);
  dump_arrays();
  return 0;
}
