// numpy-exact random numbers: SeedSequence, PCG64 and the Generator distributions that
// Gymnasium's spaces and environments draw from.
//
// Gymnasium seeds everything through `gymnasium.utils.seeding.np_random(seed)`, which is
// `numpy.random.Generator(PCG64(SeedSequence(seed)))`. For `reset(seed=s)` of a locus environment
// to reproduce its Gymnasium twin, every bit consumed from the generator has to match numpy's,
// not just the distribution. This file therefore follows numpy's C sources step by step
// (bit_generator.pyx, pcg64.h, distributions.c, _bounded_integers.pyx.in), including which raw
// outputs each call consumes, and tests/envs/numpy_oracle_rng.py checks it against numpy itself.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace locus::envs {

// `unsigned __int128` is a GNU extension; `__extension__` keeps -Wpedantic quiet about it.
__extension__ typedef unsigned __int128 Uint128;

// A seed as Python's reset(seed=...) takes it: a non-negative integer of any size (numpy's
// SeedSequence accepts 2**64, 2**128 + 1, ...), held as numpy reads it: little-endian 32-bit
// words without high zero words, at least one (0 is [0]).
class Seed {
 public:
  // Implicit, so that reset(42) reads as in Python: every uint64 is a seed.
  Seed(uint64_t value);  // NOLINT(google-explicit-constructor)
  // The integer sum(words[k] * 2^(32 k)); high zero words are dropped, no words is 0.
  static Seed from_words(std::span<const uint32_t> little_endian_words);

  std::span<const uint32_t> words() const { return words_; }
  bool fits_uint64() const { return words_.size() <= 2; }
  // The value when fits_uint64(); throws std::out_of_range otherwise.
  uint64_t to_uint64() const;
  // seed + offset, carried into a new word where needed (no wrap-around, as Python's int).
  Seed plus(uint64_t offset) const;
  // Decimal, for messages ("18446744073709551616").
  std::string to_string() const;

  friend bool operator==(const Seed&, const Seed&) = default;

 private:
  Seed() = default;
  void trim();
  std::vector<uint32_t> words_;
};

// numpy.random.SeedSequence: turns a seed of any size into well-mixed state words. Modelled:
// entropy, spawn key, spawning, pool size 4 (numpy's default; other pool sizes are not offered).
class SeedSequence {
 public:
  static constexpr std::size_t kPoolSize = 4;

  // SeedSequence(seed) for a Python int seed: split into little-endian 32-bit words, 0 being the
  // one-word array [0] (numpy's _int_to_uint32_array).
  explicit SeedSequence(uint64_t seed);
  explicit SeedSequence(const Seed& seed) : SeedSequence(seed.words()) {}
  // SeedSequence(np.array(words, dtype=np.uint32), spawn_key=key): the words are used as they
  // are, and each spawn key element is split into words like an int seed. A Python int seed of
  // 2^64 or more is this constructor with the int's little-endian words (no high zero words).
  explicit SeedSequence(std::span<const uint32_t> entropy_words,
                        std::span<const uint64_t> spawn_key = {});

  // numpy's SeedSequence(None): 128 bits from the OS (std::random_device). The entropy keeps
  // numpy's int semantics, so high zero words are dropped just as Python's int would drop them.
  static SeedSequence from_os_entropy();

  std::vector<uint32_t> generate_state32(std::size_t n) const;
  // numpy's generate_state(n, np.uint64): 2n words paired little-endian.
  std::vector<uint64_t> generate_state64(std::size_t n) const;

  // numpy's spawn(n): children share the entropy and extend the spawn key with a counter that
  // continues across calls, so two spawn() calls never hand out the same child.
  std::vector<SeedSequence> spawn(std::size_t n);

  const std::vector<uint32_t>& entropy() const { return entropy_; }
  const std::vector<uint64_t>& spawn_key() const { return spawn_key_; }
  const std::array<uint32_t, kPoolSize>& pool() const { return pool_; }

 private:
  void mix_entropy();

  std::vector<uint32_t> entropy_;
  std::vector<uint64_t> spawn_key_;
  std::array<uint32_t, kPoolSize> pool_{};
  uint64_t n_children_spawned_ = 0;
};

// numpy.random.PCG64: 128-bit LCG with the XSL-RR output function. The core steps are inline
// because every draw of every environment goes through them.
class Pcg64 {
 public:
  static constexpr Uint128 kMultiplier =
      (static_cast<Uint128>(2549297995355413924ULL) << 64) | 4865540595714422341ULL;

  // Everything numpy's `bit_generator.state` holds; restoring it resumes the exact stream,
  // including a half-used 32-bit buffer.
  struct State {
    Uint128 state = 0;
    Uint128 inc = 0;
    bool has_uint32 = false;
    uint32_t uinteger = 0;
    friend bool operator==(const State&, const State&) = default;
  };

  explicit Pcg64(const SeedSequence& seed_sequence);
  explicit Pcg64(uint64_t seed);

  uint64_t next_u64() {
    state_ = state_ * kMultiplier + inc_;
    const auto hi = static_cast<uint64_t>(state_ >> 64);
    const auto lo = static_cast<uint64_t>(state_);
    const auto rot = static_cast<unsigned>(state_ >> 122);
    const uint64_t folded = hi ^ lo;
    return (folded >> rot) | (folded << ((64U - rot) & 63U));
  }

  // numpy splits one 64-bit output into two 32-bit ones, low half first. The spare half lives in
  // the generator state, so it survives across calls and across distributions.
  uint32_t next_u32() {
    if (has_uint32_) {
      has_uint32_ = false;
      return uinteger_;
    }
    const uint64_t next = next_u64();
    has_uint32_ = true;
    uinteger_ = static_cast<uint32_t>(next >> 32);
    return static_cast<uint32_t>(next);
  }

  // Top 53 bits, so every double in [0, 1) on the 2^-53 grid is equally likely. It does not
  // touch the 32-bit buffer, as in numpy.
  double next_double() {
    return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
  }

  State state() const { return {state_, inc_, has_uint32_, uinteger_}; }
  void set_state(const State& s);

  // numpy's PCG64.advance(delta): jumps delta steps in O(log delta) and, as numpy does, drops the
  // buffered 32-bit half.
  void advance(Uint128 delta);
  // numpy's PCG64.jumped(jumps): a copy advanced by jumps * (golden ratio * 2^128).
  Pcg64 jumped(uint64_t jumps = 1) const;

 private:
  Uint128 state_ = 0;
  Uint128 inc_ = 0;
  bool has_uint32_ = false;
  uint32_t uinteger_ = 0;
};

// numpy.random.Generator(PCG64(SeedSequence(seed))), which is what
// gymnasium.utils.seeding.np_random(seed) returns.
//
// Scalar methods match numpy's scalar calls (size=None); each *_fill method matches the
// equivalent size=n call element by element. For int64 integers, random doubles, floats, normals
// and exponentials a size=n call equals n scalar calls, so the two agree. For the 8- and 16-bit
// and bool integer types they do not: numpy buffers sub-32-bit draws only within one call.
// An Rng is not thread-safe; each environment (or thread) owns its own.
class Rng {
 public:
  // np_random(None): fresh OS entropy.
  Rng();
  explicit Rng(uint64_t seed);
  // np_random(seed) for a Python int of any size.
  explicit Rng(const Seed& seed);
  explicit Rng(const SeedSequence& seed_sequence);

  // Generator.random(): uniform in [0, 1).
  double random() { return bit_generator_.next_double(); }
  // Generator.random(dtype=np.float32): 24 bits of one 32-bit draw.
  float random_float() {
    return static_cast<float>(bit_generator_.next_u32() >> 8) * (1.0F / 16777216.0F);
  }
  // Generator.uniform(low, high): low + (high - low) * random(). numpy rejects high < low and a
  // non-finite range (NaN included); so does this, with std::invalid_argument.
  double uniform(double low, double high);

  // Generator.integers(low, high) with the default int64 dtype: uniform in [low, high).
  int64_t integers(int64_t low, int64_t high);
  // Generator.integers(high): uniform in [0, high).
  int64_t integers(int64_t high) { return integers(0, high); }

  // Generator.standard_normal(): numpy's 256-layer ziggurat.
  double standard_normal();
  // Generator.normal(loc, scale): loc + scale * standard_normal(). numpy rejects any scale with
  // the sign bit set (-0.0 too) and lets NaN through; so does this.
  double normal(double loc, double scale);
  // Generator.standard_exponential(): numpy's 256-layer ziggurat.
  double standard_exponential();
  // Generator.exponential(scale): scale * standard_exponential(), scale checked like normal's.
  double exponential(double scale);

  // Generator.choice(n): an index uniform in [0, n).
  int64_t choice(int64_t n);
  // Generator.choice(len(p), p=p): one uniform draw looked up in the normalized cumulative sum.
  // numpy's checks apply: p non-empty, finite, non-negative, summing to 1 within sqrt(eps).
  int64_t choice(std::span<const double> p);

  // Batch forms, each equal to numpy's call with size=out.size().
  void random_fill(std::span<double> out);
  void random_float_fill(std::span<float> out);
  void uniform_fill(std::span<double> out, double low, double high);
  void standard_normal_fill(std::span<double> out);
  void normal_fill(std::span<double> out, double loc, double scale);
  void standard_exponential_fill(std::span<double> out);

  // Generator.integers(low, high, size=out.size(), dtype=T) for T one of int8/16/32/64_t,
  // uint8/16/32/64_t and bool: [low, high) must lie within T's range (for bool, within [0, 1]).
  // Gymnasium's MultiBinary, for one, samples int8 this way, and the sub-32-bit types consume
  // the stream differently from int64.
  template <class T>
  void integers_fill(std::span<T> out, int64_t low, int64_t high);

  // Generator.shuffle(x) for a one-dimensional x: numpy's Fisher-Yates with masked rejection.
  template <class T>
  void shuffle(std::span<T> values) {
    for (std::size_t i = values.size(); i-- > 1;) {
      const auto j = static_cast<std::size_t>(random_interval(i));
      std::swap(values[i], values[j]);
    }
  }
  // Generator.permutation(n).
  std::vector<int64_t> permutation(int64_t n);

  Pcg64& bit_generator() { return bit_generator_; }
  const Pcg64& bit_generator() const { return bit_generator_; }

 private:
  // numpy's random_interval: uniform in [0, max] by masking and rejecting, used by shuffle.
  uint64_t random_interval(uint64_t max);

  Pcg64 bit_generator_;
};

}  // namespace locus::envs
