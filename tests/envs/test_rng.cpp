// Golden values for locus's numpy-exact RNG. Every expected value below was produced by numpy
// (Generator(PCG64(SeedSequence(seed))), numpy 2.4) and is compared exactly; doubles are written
// as hex literals so that the comparison is bit for bit. tests/envs/numpy_oracle_rng.py checks far
// more calls against numpy at run time; these keep the essentials checkable without Python.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "envs/rng.hpp"

using locus::envs::Pcg64;
using locus::envs::Rng;
using locus::envs::SeedSequence;
using locus::envs::Uint128;

namespace {

Uint128 make_u128(uint64_t hi, uint64_t lo) {
  return (static_cast<Uint128>(hi) << 64) | lo;
}

// One fixed call sequence per seed. It mixes calls that draw 32-bit halves (small integer ranges,
// float32) with 64-bit ones, so a wrong buffering rule shifts every later value.
struct GoldenRow {
  uint64_t seed;
  double random;
  double uniform;    // uniform(-0.05, 0.05)
  int64_t small;     // integers(0, 2)
  int64_t negative;  // integers(-5, 5)
  int64_t big;       // integers(0, 2^40)
  int64_t huge;      // integers(-2^63, 2^62)
  double standard_normal;
  double standard_exponential;
  float random_float;
  int64_t ten;  // integers(10)
  double random_again;
  double normal;  // normal(1.5, 0.25)
  bool has_uint32;
};

constexpr std::array<GoldenRow, 6> kGolden = {{
    {0ULL, 0x1.461fd79fb3850p-1, -0x1.792e736320f47p-6, 0, -5, 18172327443LL, 2028268937114205420LL,
     0x1.7245f95ced1e6p-2, 0x1.58dfdd61b2a00p-1, 0x1.f105340000000p-1F, 7, 0x1.165603cf43b8fp-1,
     0x1.2f0355a98cdd1p+0, false},
    {1ULL, 0x1.060d7be6f245cp-1, 0x1.7105158c043bcp-5, 0, -4, 1043051097810LL,
     -4909165794826775042LL, 0x1.c9166a7847147p-2, 0x1.ccbf807653e56p+0, 0x1.0728e80000000p-2F, 4,
     0x1.1964580549a3fp-1, 0x1.92d3111b74e25p+0, false},
    {42ULL, 0x1.8c43f79a2db24p-1, -0x1.9090f63c0b010p-8, 0, 3, 766764256790LL,
     -7920422961336639120LL, -0x1.4d5ba2db7ebc8p+0, 0x1.68f32f1e7b52ep+0, 0x1.6f592e0000000p-1F, 7,
     0x1.066070b41b168p-3, 0x1.4967ba7141490p+0, false},
    {123ULL, 0x1.5d5d393207e7dp-1, -0x1.6d8283a7b3db8p-5, 1, -3, 202718949697LL,
     -6789703683076659040LL, 0x1.277a25ebb1ec3p-1, 0x1.127643f521f69p+2, 0x1.cc40c00000000p-2F, 2,
     0x1.a3b6deb193d89p-1, 0x1.6b5dfa0a60b2fp+0, false},
    {4294967301ULL, 0x1.8c647d8643bd7p-1, -0x1.7fbe5fa4f4660p-9, 1, 1, 897792636121LL,
     -1780983392610781597LL, 0x1.6eeb318d3dc89p-2, 0x1.5ca4f6b3fead9p+0, 0x1.c935dc0000000p-1F, 0,
     0x1.eb8916611a1d8p-2, 0x1.cf59e8825fd46p-1, false},
    {9223372036854775808ULL, 0x1.9f6887c7122cfp-1, 0x1.3c0e55f839928p-7, 0, 3, 467430761623LL,
     -5771554288679781989LL, 0x1.fc87fc9e1a3dcp-2, 0x1.6b3a971f3cf78p-1, 0x1.0899b40000000p-2F, 8,
     0x1.d946b2d3460eep-2, 0x1.2dda5e2828bacp+0, false},
}};

std::vector<uint64_t> raw(Rng& rng, std::size_t n) {
  std::vector<uint64_t> out(n);
  for (auto& value : out) value = rng.bit_generator().next_u64();
  return out;
}

}  // namespace

TEST_CASE("SeedSequence matches numpy", "[rng]") {
  const SeedSequence seq(123);
  CHECK(seq.generate_state32(4) ==
        std::vector<uint32_t>{693650678U, 2973253328U, 387799215U, 2723177262U});
  CHECK(seq.generate_state64(2) ==
        std::vector<uint64_t>{12770025807176811766ULL, 11695957281888622767ULL});
  CHECK(SeedSequence(0).generate_state64(2) ==
        std::vector<uint64_t>{15793235383387715774ULL, 12390638538380655177ULL});
  CHECK(SeedSequence(4294967301ULL).generate_state64(2) ==
        std::vector<uint64_t>{17996766564426832300ULL, 12826844651305701079ULL});

  // Python-int splitting: 0 is one zero word, 2^32 + 5 is [5, 1].
  CHECK(SeedSequence(0).entropy() == std::vector<uint32_t>{0U});
  CHECK(SeedSequence(4294967301ULL).entropy() == std::vector<uint32_t>{5U, 1U});
  const std::array<uint32_t, 2> words = {5U, 1U};
  CHECK(SeedSequence(words).pool() == SeedSequence(4294967301ULL).pool());
}

TEST_CASE("SeedSequence spawn matches numpy", "[rng]") {
  SeedSequence parent(42);
  std::vector<SeedSequence> children = parent.spawn(2);
  children.push_back(parent.spawn(1).front());  // the counter continues: key (2,)
  const std::array<uint64_t, 3> expected = {16910944855483863638ULL, 8623682774590505111ULL,
                                            1314131344145802742ULL};
  for (std::size_t i = 0; i < children.size(); ++i) {
    CHECK(children[i].spawn_key() == std::vector<uint64_t>{i});
    CHECK(Pcg64(children[i]).next_u64() == expected[i]);
  }
}

TEST_CASE("PCG64 raw outputs and seeding match numpy", "[rng]") {
  Pcg64 bits(123);
  CHECK(bits.next_u64() == 12587170189557361101ULL);
  CHECK(bits.next_u64() == 992822559630912803ULL);

  const Pcg64::State state = Pcg64(0).state();
  CHECK(state.state == make_u128(0x1aa1b5345996452dULL, 0x09585eb7a69561e3ULL));
  CHECK(state.inc == make_u128(0x418ddadb3af71a82ULL, 0x588133bc447873a9ULL));
  CHECK_FALSE(state.has_uint32);
  CHECK(state.uinteger == 0U);

  Pcg64 jumped = Pcg64(0).jumped();
  CHECK(jumped.next_u64() == 1655283979027151008ULL);
  CHECK(jumped.next_u64() == 9866820394801929500ULL);
}

TEST_CASE("next_u32 splits one 64-bit output, low half first", "[rng]") {
  Pcg64 a(99);
  Pcg64 b(99);
  const uint64_t whole = a.next_u64();
  CHECK(b.next_u32() == static_cast<uint32_t>(whole));
  CHECK(b.state().has_uint32);
  CHECK(b.next_u32() == static_cast<uint32_t>(whole >> 32));
  CHECK_FALSE(b.state().has_uint32);
  // 64-bit draws leave a buffered half alone.
  const uint64_t second = a.next_u64();
  CHECK(b.next_u32() == static_cast<uint32_t>(second));
  CHECK(b.next_u64() == a.next_u64());
  CHECK(b.next_u32() == static_cast<uint32_t>(second >> 32));
}

TEST_CASE("Generator calls match numpy for several seeds", "[rng]") {
  for (const GoldenRow& row : kGolden) {
    INFO("seed " << row.seed);
    Rng rng(row.seed);
    CHECK(rng.random() == row.random);
    CHECK(rng.uniform(-0.05, 0.05) == row.uniform);
    CHECK(rng.integers(0, 2) == row.small);
    CHECK(rng.integers(-5, 5) == row.negative);
    CHECK(rng.integers(0, int64_t{1} << 40) == row.big);
    CHECK(rng.integers(std::numeric_limits<int64_t>::min(), int64_t{1} << 62) == row.huge);
    CHECK(rng.standard_normal() == row.standard_normal);
    CHECK(rng.standard_exponential() == row.standard_exponential);
    CHECK(rng.random_float() == row.random_float);
    CHECK(rng.integers(10) == row.ten);
    CHECK(rng.random() == row.random_again);
    CHECK(rng.normal(1.5, 0.25) == row.normal);
    CHECK(rng.bit_generator().state().has_uint32 == row.has_uint32);
  }
}

TEST_CASE("a range of one value consumes nothing", "[rng]") {
  Rng a(5);
  Rng b(5);
  CHECK(a.integers(17, 18) == 17);
  CHECK(a.integers(-3, -2) == -3);
  CHECK(a.bit_generator().state() == b.bit_generator().state());
}

TEST_CASE("sized integer calls match numpy", "[rng]") {
  // Gymnasium's MultiBinary samples int8 in one call: one 32-bit draw serves four values.
  Rng rng(7);
  std::array<int8_t, 12> bits{};
  rng.integers_fill(std::span<int8_t>(bits), 0, 2);
  CHECK(bits == std::array<int8_t, 12>{1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1});
  std::array<int64_t, 3> wide{};
  rng.integers_fill(std::span<int64_t>(wide), 0, 2);
  CHECK(wide == std::array<int64_t, 3>{1, 1, 1});
}

TEST_CASE("int64 and real fills equal the sequential calls", "[rng]") {
  Rng batch(11);
  Rng single(11);
  std::vector<int64_t> ints(9);
  batch.integers_fill(std::span<int64_t>(ints), -7, 1000);
  for (int64_t value : ints) CHECK(value == single.integers(-7, 1000));
  std::vector<double> reals(9);
  batch.uniform_fill(reals, -2.0, 3.0);
  for (double value : reals) CHECK(value == single.uniform(-2.0, 3.0));
  batch.normal_fill(reals, 1.0, 2.0);
  for (double value : reals) CHECK(value == single.normal(1.0, 2.0));
  batch.standard_exponential_fill(reals);
  for (double value : reals) CHECK(value == single.standard_exponential());
  std::vector<float> floats(5);
  batch.random_float_fill(floats);
  for (float value : floats) CHECK(value == single.random_float());
  CHECK(batch.bit_generator().state() == single.bit_generator().state());
}

TEST_CASE("permutation and weighted choice match numpy", "[rng]") {
  Rng rng(7);
  CHECK(rng.permutation(8) == std::vector<int64_t>{0, 6, 7, 2, 4, 5, 1, 3});
  const std::array<double, 3> p = {0.2, 0.5, 0.3};
  CHECK(rng.choice(p) == 1);
  CHECK(rng.choice(p) == 2);
}

TEST_CASE("state save and restore resumes the exact stream", "[rng]") {
  Rng rng(2024);
  rng.integers(0, 3);  // leaves a buffered 32-bit half in the state
  const Pcg64::State saved = rng.bit_generator().state();
  REQUIRE(saved.has_uint32);

  std::vector<double> first;
  for (int i = 0; i < 20; ++i) {
    first.push_back(i % 3 == 0 ? static_cast<double>(rng.integers(0, 5)) : rng.standard_normal());
  }
  rng.bit_generator().set_state(saved);
  for (int i = 0; i < 20; ++i) {
    const double again =
        i % 3 == 0 ? static_cast<double>(rng.integers(0, 5)) : rng.standard_normal();
    CHECK(again == first[static_cast<std::size_t>(i)]);
  }

  Rng other(1);
  other.bit_generator().set_state(saved);
  CHECK(other.bit_generator().state() == saved);
}

TEST_CASE("advance equals stepping and drops the buffered half", "[rng]") {
  Pcg64 stepped(3);
  Pcg64 advanced(3);
  for (int i = 0; i < 1000; ++i) stepped.next_u64();
  advanced.next_u32();
  advanced.advance(999);
  CHECK_FALSE(advanced.state().has_uint32);
  CHECK(advanced.next_u64() == stepped.next_u64());

  // A full cycle of the 2^128-periodic LCG returns to the start.
  Pcg64 cycled(3);
  const auto start = cycled.state();
  cycled.advance(~Uint128{0});
  cycled.next_u64();
  CHECK(cycled.state() == start);
}

TEST_CASE("seeding is deterministic and seeds give different streams", "[rng]") {
  Rng a(42);
  Rng b(42);
  CHECK(raw(a, 8) == raw(b, 8));
  Rng c(43);
  Rng d(42);
  CHECK(raw(c, 8) != raw(d, 8));
  // Different entropy words of the same value count are different seeds, too.
  CHECK(Pcg64(SeedSequence(1)).next_u64() != Pcg64(SeedSequence(uint64_t{1} << 32)).next_u64());
  // OS-entropy seeding: two generators colliding on 128 bits would mean the entropy is broken.
  Rng e;
  Rng f;
  CHECK(raw(e, 2) != raw(f, 2));
}

TEST_CASE("invalid arguments throw and name the values", "[rng]") {
  Rng rng(0);
  const Pcg64::State before = rng.bit_generator().state();
  try {
    rng.integers(5, 5);
    FAIL("integers(5, 5) did not throw");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    CHECK(message.find("low 5") != std::string::npos);
    CHECK(message.find("high 5") != std::string::npos);
  }
  CHECK_THROWS_AS(rng.integers(5, 4), std::invalid_argument);
  CHECK_THROWS_AS(rng.integers(0), std::invalid_argument);
  try {
    rng.normal(0.0, -2.5);
    FAIL("normal(0, -2.5) did not throw");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("-2.5") != std::string::npos);
  }
  CHECK_THROWS_AS(rng.normal(0.0, -0.0), std::invalid_argument);  // numpy checks the sign bit
  CHECK_THROWS_AS(rng.exponential(-1.0), std::invalid_argument);
  CHECK_THROWS_AS(rng.uniform(1.0, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(rng.uniform(0.0, std::numeric_limits<double>::infinity()), std::invalid_argument);
  std::array<int8_t, 2> out{};
  CHECK_THROWS_AS(rng.integers_fill(std::span<int8_t>(out), 0, 200), std::invalid_argument);
  const std::array<double, 2> bad_p = {0.5, 0.25};
  CHECK_THROWS_AS(rng.choice(bad_p), std::invalid_argument);
  // A rejected call consumes nothing.
  CHECK(rng.bit_generator().state() == before);
  // numpy lets a NaN scale through (the result is NaN).
  CHECK(std::isnan(rng.normal(0.0, std::numeric_limits<double>::quiet_NaN())));
}

TEST_CASE("distributions have the right moments", "[rng]") {
  Rng rng(314);
  constexpr int kN = 200000;
  double normal_sum = 0;
  double normal_sq = 0;
  double exp_sum = 0;
  double uniform_sum = 0;
  for (int i = 0; i < kN; ++i) {
    const double x = rng.standard_normal();
    normal_sum += x;
    normal_sq += x * x;
    exp_sum += rng.standard_exponential();
    uniform_sum += rng.uniform(2.0, 4.0);
  }
  CHECK(normal_sum / kN == Approx(0.0).margin(0.01));
  CHECK(normal_sq / kN == Approx(1.0).margin(0.01));
  CHECK(exp_sum / kN == Approx(1.0).margin(0.01));
  CHECK(uniform_sum / kN == Approx(3.0).margin(0.01));
}
