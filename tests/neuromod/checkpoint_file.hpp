#pragma once
// The checkpoint file layout, written independently of checkpoint.cpp from checkpoint.hpp's
// description, so tests can read a file's parts, edit them and write a file that still reads whole
// (checksum and lengths fixed), as a damaged or hand-edited file would be.

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/hash.hpp"

namespace locus::neuromod::testing {

// bugprone-exception-escape: a false positive on the implicit members of a struct holding a
// nlohmann::json (clang-tidy 14).
struct RawFile {  // NOLINT(bugprone-exception-escape)
  std::uint32_t version = 0;
  std::uint32_t kind = 0;
  nlohmann::json header;
  std::vector<float> data;
};

template <typename T>
inline void put(std::vector<unsigned char>& out, T value) {
  const auto* p = reinterpret_cast<const unsigned char*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

template <typename T>
inline T get(const std::vector<unsigned char>& in, std::size_t offset) {
  T value;
  std::memcpy(&value, in.data() + offset, sizeof(T));
  return value;
}

inline std::vector<unsigned char> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& path,
                        const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

inline RawFile decode(const std::vector<unsigned char>& bytes) {
  RawFile file;
  REQUIRE(std::memcmp(bytes.data(), "LOCUSNM", 8) == 0);
  file.version = get<std::uint32_t>(bytes, 8);
  file.kind = get<std::uint32_t>(bytes, 12);
  const auto header_bytes = get<std::uint64_t>(bytes, 16);
  std::size_t offset = 24;
  file.header = nlohmann::json::parse(bytes.begin() + std::ptrdiff_t(offset),
                                      bytes.begin() + std::ptrdiff_t(offset + header_bytes));
  offset += header_bytes;
  const auto data_bytes = get<std::uint64_t>(bytes, offset);
  offset += 8;
  REQUIRE(offset + data_bytes + 8 == bytes.size());
  file.data.resize(data_bytes / sizeof(float));
  std::memcpy(file.data.data(), bytes.data() + offset, data_bytes);
  REQUIRE(get<std::uint64_t>(bytes, offset + data_bytes) ==
          util::fnv1a64(bytes.data(), bytes.size() - 8));
  return file;
}

inline std::vector<unsigned char> encode(const RawFile& file) {
  std::vector<unsigned char> bytes = {'L', 'O', 'C', 'U', 'S', 'N', 'M', '\0'};
  put<std::uint32_t>(bytes, file.version);
  put<std::uint32_t>(bytes, file.kind);
  const std::string text = file.header.dump();
  put<std::uint64_t>(bytes, text.size());
  bytes.insert(bytes.end(), text.begin(), text.end());
  put<std::uint64_t>(bytes, file.data.size() * sizeof(float));
  const auto* raw = reinterpret_cast<const unsigned char*>(file.data.data());
  bytes.insert(bytes.end(), raw, raw + file.data.size() * sizeof(float));
  put<std::uint64_t>(bytes, util::fnv1a64(bytes.data(), bytes.size()));
  return bytes;
}

}  // namespace locus::neuromod::testing
