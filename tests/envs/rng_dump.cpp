// rng_dump: runs a script of locus RNG calls and prints every result, so that
// tests/envs/numpy_oracle_rng.py can compare them with numpy's.
//
// The script comes on stdin, one command per line; each command prints one line. Doubles are
// printed as the 16 hex digits of their bit pattern and floats as 8, so the comparison is exact.
//
//   seed S                      current generator = Rng(S)                      (prints "ok")
//   words W... [/ K...]         current generator = Rng(SeedSequence(words, spawn key))
//   spawn S N I                 current generator = Rng(SeedSequence(S).spawn(N)[I])
//   seedseq32 S N | seedseq64 S N    SeedSequence(S).generate_state32/64(N)
//   raw N | u32 N | random N | float N | std_normal N | std_exp N
//   uniform LO HI N | normal LOC SCALE N | exponential SCALE N   (N scalar calls)
//   uniform_fill LO HI N | normal_fill LOC SCALE N | std_normal_fill N | std_exp_fill N
//   random_fill N | float_fill N
//   integers LO HI N            N scalar int64 calls
//   integers_fill DTYPE LO HI N one size=N call; DTYPE int8 uint8 int16 uint16 int32 uint32
//                               int64 uint64 bool
//   choice N K                  K calls of choice(N)
//   choice_p P...               one choice(p) call
//   permutation N
//   advance DELTA | jumped J    (DELTA up to 2^128 - 1, decimal)
//   state                       state, inc (32 hex digits each), has_uint32, uinteger
//   error COMMAND...            runs COMMAND and prints "invalid_argument" if it threw that
//
// Real-valued arguments are read with strtod, so Python's float.hex() text passes exactly.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "envs/rng.hpp"

namespace {

using locus::envs::Rng;
using locus::envs::SeedSequence;
using locus::envs::Uint128;

std::string hex_bits(double value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  char text[24];
  std::snprintf(text, sizeof text, "%016" PRIx64, bits);
  return text;
}

std::string hex_bits(float value) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  char text[16];
  std::snprintf(text, sizeof text, "%08" PRIx32, bits);
  return text;
}

std::string hex128(Uint128 value) {
  char text[40];
  std::snprintf(text, sizeof text, "%016" PRIx64 "%016" PRIx64, static_cast<uint64_t>(value >> 64),
                static_cast<uint64_t>(value));
  return text;
}

Uint128 parse_u128(const std::string& text) {
  Uint128 value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') throw std::runtime_error("bad integer: " + text);
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

class Script {
 public:
  void run(std::istream& in, std::ostream& out) {
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string command;
      if (!(words >> command)) continue;
      if (command == "error") {
        words >> command;
        try {
          std::ostringstream ignored;
          execute(command, words, ignored);
          out << "no error\n";
        } catch (const std::invalid_argument&) {
          out << "invalid_argument\n";
        }
        continue;
      }
      execute(command, words, out);
      out << '\n';
    }
  }

 private:
  template <class T>
  static T next(std::istream& words) {
    std::string token;
    if (!(words >> token)) throw std::runtime_error("missing argument");
    if constexpr (std::is_same_v<T, double>) {
      return std::strtod(token.c_str(), nullptr);
    } else if constexpr (std::is_same_v<T, int64_t>) {
      return std::strtoll(token.c_str(), nullptr, 10);
    } else {
      return static_cast<T>(std::strtoull(token.c_str(), nullptr, 10));
    }
  }

  template <class T>
  void fill_integers(std::istream& words, std::ostream& out) {
    const auto low = next<int64_t>(words);
    const auto high = next<int64_t>(words);
    std::vector<T> values(next<std::size_t>(words));
    if constexpr (std::is_same_v<T, bool>) {
      // std::vector<bool> has no contiguous storage; go through a plain array.
      auto storage = std::make_unique<bool[]>(values.size());
      rng_.integers_fill(std::span<bool>(storage.get(), values.size()), low, high);
      for (std::size_t i = 0; i < values.size(); ++i) out << (storage[i] ? 1 : 0) << ' ';
    } else {
      rng_.integers_fill(std::span<T>(values), low, high);
      for (T value : values) out << static_cast<int64_t>(value) << ' ';
    }
  }

  template <class Draw>
  static void repeat(std::size_t n, std::ostream& out, Draw draw) {
    for (std::size_t i = 0; i < n; ++i) out << draw() << ' ';
  }

  static void print(std::span<const double> values, std::ostream& out) {
    for (double value : values) out << hex_bits(value) << ' ';
  }

  void execute(const std::string& command, std::istream& words, std::ostream& out) {
    if (command == "seed") {
      rng_ = Rng(next<uint64_t>(words));
      out << "ok";
    } else if (command == "words") {
      std::vector<uint32_t> entropy;
      std::vector<uint64_t> key;
      std::string token;
      bool in_key = false;
      while (words >> token) {
        if (token == "/") {
          in_key = true;
        } else if (in_key) {
          key.push_back(std::strtoull(token.c_str(), nullptr, 10));
        } else {
          entropy.push_back(static_cast<uint32_t>(std::strtoul(token.c_str(), nullptr, 10)));
        }
      }
      rng_ = Rng(SeedSequence(entropy, key));
      out << "ok";
    } else if (command == "spawn") {
      SeedSequence parent(next<uint64_t>(words));
      const auto n = next<std::size_t>(words);
      const auto index = next<std::size_t>(words);
      rng_ = Rng(parent.spawn(n).at(index));
      out << "ok";
    } else if (command == "seedseq32") {
      SeedSequence sequence(next<uint64_t>(words));
      for (uint32_t word : sequence.generate_state32(next<std::size_t>(words))) out << word << ' ';
    } else if (command == "seedseq64") {
      SeedSequence sequence(next<uint64_t>(words));
      for (uint64_t word : sequence.generate_state64(next<std::size_t>(words))) out << word << ' ';
    } else if (command == "raw") {
      repeat(next<std::size_t>(words), out, [&] { return rng_.bit_generator().next_u64(); });
    } else if (command == "u32") {
      repeat(next<std::size_t>(words), out, [&] { return rng_.bit_generator().next_u32(); });
    } else if (command == "random") {
      repeat(next<std::size_t>(words), out, [&] { return hex_bits(rng_.random()); });
    } else if (command == "float") {
      repeat(next<std::size_t>(words), out, [&] { return hex_bits(rng_.random_float()); });
    } else if (command == "std_normal") {
      repeat(next<std::size_t>(words), out, [&] { return hex_bits(rng_.standard_normal()); });
    } else if (command == "std_exp") {
      repeat(next<std::size_t>(words), out, [&] { return hex_bits(rng_.standard_exponential()); });
    } else if (command == "uniform") {
      const auto low = next<double>(words);
      const auto high = next<double>(words);
      repeat(next<std::size_t>(words), out, [&] { return hex_bits(rng_.uniform(low, high)); });
    } else if (command == "normal") {
      const auto loc = next<double>(words);
      const auto scale = next<double>(words);
      repeat(next<std::size_t>(words), out, [&] { return hex_bits(rng_.normal(loc, scale)); });
    } else if (command == "exponential") {
      const auto scale = next<double>(words);
      repeat(next<std::size_t>(words), out, [&] { return hex_bits(rng_.exponential(scale)); });
    } else if (command == "random_fill") {
      std::vector<double> values(next<std::size_t>(words));
      rng_.random_fill(values);
      print(values, out);
    } else if (command == "float_fill") {
      std::vector<float> values(next<std::size_t>(words));
      rng_.random_float_fill(values);
      for (float value : values) out << hex_bits(value) << ' ';
    } else if (command == "uniform_fill") {
      const auto low = next<double>(words);
      const auto high = next<double>(words);
      std::vector<double> values(next<std::size_t>(words));
      rng_.uniform_fill(values, low, high);
      print(values, out);
    } else if (command == "normal_fill") {
      const auto loc = next<double>(words);
      const auto scale = next<double>(words);
      std::vector<double> values(next<std::size_t>(words));
      rng_.normal_fill(values, loc, scale);
      print(values, out);
    } else if (command == "std_normal_fill") {
      std::vector<double> values(next<std::size_t>(words));
      rng_.standard_normal_fill(values);
      print(values, out);
    } else if (command == "std_exp_fill") {
      std::vector<double> values(next<std::size_t>(words));
      rng_.standard_exponential_fill(values);
      print(values, out);
    } else if (command == "integers") {
      const auto low = next<int64_t>(words);
      const auto high = next<int64_t>(words);
      repeat(next<std::size_t>(words), out, [&] { return rng_.integers(low, high); });
    } else if (command == "integers_fill") {
      std::string dtype;
      words >> dtype;
      if (dtype == "int8")
        fill_integers<int8_t>(words, out);
      else if (dtype == "uint8")
        fill_integers<uint8_t>(words, out);
      else if (dtype == "int16")
        fill_integers<int16_t>(words, out);
      else if (dtype == "uint16")
        fill_integers<uint16_t>(words, out);
      else if (dtype == "int32")
        fill_integers<int32_t>(words, out);
      else if (dtype == "uint32")
        fill_integers<uint32_t>(words, out);
      else if (dtype == "int64")
        fill_integers<int64_t>(words, out);
      else if (dtype == "uint64")
        fill_integers<uint64_t>(words, out);
      else if (dtype == "bool")
        fill_integers<bool>(words, out);
      else
        throw std::runtime_error("unknown dtype " + dtype);
    } else if (command == "choice") {
      const auto n = next<int64_t>(words);
      repeat(next<std::size_t>(words), out, [&] { return rng_.choice(n); });
    } else if (command == "choice_p") {
      std::vector<double> p;
      std::string token;
      while (words >> token) p.push_back(std::strtod(token.c_str(), nullptr));
      out << rng_.choice(p);
    } else if (command == "permutation") {
      for (int64_t value : rng_.permutation(next<int64_t>(words))) out << value << ' ';
    } else if (command == "advance") {
      std::string delta;
      words >> delta;
      rng_.bit_generator().advance(parse_u128(delta));
      out << "ok";
    } else if (command == "jumped") {
      rng_.bit_generator() = rng_.bit_generator().jumped(next<uint64_t>(words));
      out << "ok";
    } else if (command == "state") {
      const auto state = rng_.bit_generator().state();
      out << hex128(state.state) << ' ' << hex128(state.inc) << ' ' << (state.has_uint32 ? 1 : 0)
          << ' ' << state.uinteger;
    } else {
      throw std::runtime_error("unknown command " + command);
    }
  }

  Rng rng_{0};
};

}  // namespace

int main() {
  try {
    std::ios::sync_with_stdio(false);
    Script().run(std::cin, std::cout);
  } catch (const std::exception& e) {
    std::cerr << "rng_dump: " << e.what() << '\n';
    return 2;
  }
  return 0;
}
