// The fallback for compilers without libFuzzer (LOCUS_FUZZ with GCC): a seeded random-input
// driver for the same targets. It runs every corpus file given (files or directories), then
// `-runs=N` mutations (default 2000) drawn from them with a fixed seed (`-seed=S`, default 1):
// byte flips, insertions, deletions, truncations and splices, as libFuzzer's mutators do, but
// without coverage feedback. Options libFuzzer takes that this driver does not know are ignored,
// so scripts can pass the same command line to both. A crash aborts the process, as with
// libFuzzer; the input that caused it is written to ./crash-standalone first.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void run(const Bytes& input) {
  {
    std::ofstream out("crash-standalone", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(input.data()), std::streamsize(input.size()));
  }
  LLVMFuzzerTestOneInput(input.data(), input.size());
}

Bytes mutate(Bytes input, const std::vector<Bytes>& corpus, std::mt19937_64& rng) {
  const auto pick = [&](std::size_t n) { return n == 0 ? 0 : std::size_t(rng() % n); };
  for (int k = 1 + int(rng() % 4); k > 0; --k) {
    switch (rng() % 5) {
      case 0:
        if (!input.empty()) input[pick(input.size())] ^= std::uint8_t(1u << (rng() % 8));
        break;
      case 1:
        input.insert(input.begin() + std::ptrdiff_t(pick(input.size() + 1)), std::uint8_t(rng()));
        break;
      case 2:
        if (!input.empty()) input.erase(input.begin() + std::ptrdiff_t(pick(input.size())));
        break;
      case 3:
        input.resize(pick(input.size() + 1));
        break;
      default: {
        const Bytes& other = corpus[pick(corpus.size())];
        const std::size_t from = pick(other.size() + 1);
        input.insert(input.begin() + std::ptrdiff_t(pick(input.size() + 1)),
                     other.begin() + std::ptrdiff_t(from), other.end());
        break;
      }
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 2000;
  std::uint64_t seed = 1;
  std::vector<Bytes> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind("-runs=", 0) == 0) {
      runs = std::stol(std::string(arg.substr(6)));
    } else if (arg.rfind("-seed=", 0) == 0) {
      seed = std::stoull(std::string(arg.substr(6)));
    } else if (arg.rfind("-", 0) == 0) {
      continue;  // a libFuzzer option
    } else if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) corpus.push_back(read_file(entry.path()));
      }
    } else {
      corpus.push_back(read_file(arg));
    }
  }
  if (corpus.empty()) corpus.emplace_back();
  for (const Bytes& input : corpus) run(input);
  std::mt19937_64 rng(seed);
  for (long i = 0; i < runs; ++i) run(mutate(corpus[rng() % corpus.size()], corpus, rng));
  std::filesystem::remove("crash-standalone");
  std::printf("standalone fuzz driver: %zu corpus inputs and %ld mutations ran clean\n",
              corpus.size(), runs);
  return 0;
}
