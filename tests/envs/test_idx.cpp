// The IDX reader and MNIST-format data sets: the format byte for byte (files written by hand here,
// not only by write_idx), gzip and plain input, and every kind of damage a file can have, each of
// which must name the file. The Fashion-MNIST figures were computed independently with Python's
// gzip module and numpy on Debian's dataset-fashion-mnist files.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "envs/data/idx.hpp"

using namespace locus::envs;
using namespace locus::envs::data;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test case, removed at the end.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("locus_test_idx_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

void write_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

IdxArray uint8_array(std::vector<std::int64_t> dims, std::uint8_t first = 0) {
  IdxArray array;
  array.type = IdxType::kUInt8;
  array.dims = std::move(dims);
  array.data.resize(static_cast<std::size_t>(array.size()));
  for (std::size_t i = 0; i < array.data.size(); ++i) {
    array.data[i] = static_cast<std::byte>((first + i * 7) % 256);
  }
  return array;
}

// An MNIST-format pair: `count` images of rows x cols with labels i % classes.
void write_split(const fs::path& dir, const std::string& prefix, std::int64_t count,
                 std::int64_t rows, std::int64_t cols, int classes, bool gzip,
                 const std::string& suffix = "") {
  write_idx(dir / (prefix + "-images-idx3-ubyte" + suffix), uint8_array({count, rows, cols}), gzip);
  IdxArray labels = uint8_array({count});
  for (std::int64_t i = 0; i < count; ++i) labels.data[i] = static_cast<std::byte>(i % classes);
  write_idx(dir / (prefix + "-labels-idx1-ubyte" + suffix), labels, gzip);
}

}  // namespace

TEST_CASE("read_idx reads a hand-written plain file", "[idx]") {
  TempDir dir;
  // int16, shape (2, 3), values 1, 258, -2, 0, 32767, -32768 big-endian.
  write_bytes(dir / "a.idx", {0, 0, 0x0B, 2, 0,    0,    0, 2, 0,    0,    0,    3,
                              0, 1, 1,    2, 0xFF, 0xFE, 0, 0, 0x7F, 0xFF, 0x80, 0});
  const IdxArray array = read_idx(dir / "a.idx");
  REQUIRE(array.type == IdxType::kInt16);
  REQUIRE(array.dims == std::vector<std::int64_t>{2, 3});
  REQUIRE_FALSE(array.gzip);
  REQUIRE(array.data.size() == 12);
  std::vector<std::int16_t> values(6);
  std::memcpy(values.data(), array.data.data(), 12);
  REQUIRE(values == std::vector<std::int16_t>{1, 258, -2, 0, 32767, -32768});

  const IdxArray header = read_idx_header(dir / "a.idx");
  REQUIRE(header.dims == array.dims);
  REQUIRE(header.data.empty());
}

TEST_CASE("write_idx and read_idx round-trip every type, plain and gzip", "[idx]") {
  TempDir dir;
  for (const bool gzip : {false, true}) {
    for (const IdxType type : {IdxType::kUInt8, IdxType::kInt8, IdxType::kInt16, IdxType::kInt32,
                               IdxType::kFloat32, IdxType::kFloat64}) {
      INFO("type " << idx_type_name(type) << (gzip ? " gzip" : " plain"));
      IdxArray array;
      array.type = type;
      array.dims = {3, 5, 2};
      array.data.resize(30 * idx_type_size(type));
      for (std::size_t i = 0; i < array.data.size(); ++i) {
        array.data[i] = static_cast<std::byte>((i * 37 + 11) % 251);
      }
      const fs::path path = dir / (std::string(idx_type_name(type)) + (gzip ? ".gz" : ""));
      write_idx(path, array, gzip);
      const IdxArray back = read_idx(path);
      REQUIRE(back.type == type);
      REQUIRE(back.dims == array.dims);
      REQUIRE(back.data == array.data);
      REQUIRE(back.gzip == gzip);
      // The gzip file really is compressed: it starts with gzip's magic bytes.
      const auto raw = read_bytes(path);
      REQUIRE((raw[0] == 0x1F && raw[1] == 0x8B) == gzip);
    }
  }
  // No temporary files are left behind by the atomic write.
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    REQUIRE(entry.path().string().find(".tmp.") == std::string::npos);
  }
}

TEST_CASE("read_idx rejects damaged files with a message naming the file", "[idx]") {
  TempDir dir;
  const fs::path good = dir / "good";
  write_idx(good, uint8_array({4, 3, 3}), false);
  const auto bytes = read_bytes(good);
  REQUIRE(bytes.size() == 16 + 36);

  SECTION("a missing file") {
    REQUIRE_THROWS_WITH(read_idx(dir / "nope"),
                        Catch::Contains((dir / "nope").string()) && Catch::Contains("not exist"));
  }
  SECTION("a directory") {
    REQUIRE_THROWS_WITH(read_idx(dir.path()), Catch::Contains("is a directory"));
  }
  SECTION("a wrong magic number") {
    for (const std::vector<std::uint8_t>& magic : std::vector<std::vector<std::uint8_t>>{
             {1, 0, 8, 3}, {0, 0, 0x0A, 3}, {0, 0, 8, 0}, {0, 1, 8, 3}}) {
      auto damaged = bytes;
      std::copy(magic.begin(), magic.end(), damaged.begin());
      write_bytes(dir / "bad", damaged);
      REQUIRE_THROWS_AS(read_idx(dir / "bad"), DataError);
      REQUIRE_THROWS_WITH(read_idx(dir / "bad"), Catch::Contains((dir / "bad").string()) &&
                                                     Catch::Contains("wrong magic number"));
    }
    // A file that starts like gzip is read as gzip, and is then not valid gzip.
    auto damaged = bytes;
    damaged[0] = 0x1F;
    damaged[1] = 0x8B;
    write_bytes(dir / "bad", damaged);
    REQUIRE_THROWS_WITH(read_idx(dir / "bad"), Catch::Contains((dir / "bad").string()) &&
                                                   Catch::Contains("corrupt gzip data"));
  }
  SECTION("a file shorter than the magic number") {
    write_bytes(dir / "bad", {0, 0});
    REQUIRE_THROWS_WITH(read_idx(dir / "bad"),
                        Catch::Contains("truncated") && Catch::Contains((dir / "bad").string()));
  }
  SECTION("a truncated header") {
    write_bytes(dir / "bad", {bytes.begin(), bytes.begin() + 10});
    REQUIRE_THROWS_WITH(read_idx(dir / "bad"),
                        Catch::Contains("truncated") && Catch::Contains("3 dimensions"));
  }
  SECTION("a truncated payload, plain and gzip") {
    write_bytes(dir / "bad", {bytes.begin(), bytes.end() - 1});
    REQUIRE_THROWS_WITH(read_idx(dir / "bad"), Catch::Contains((dir / "bad").string()) &&
                                                   Catch::Contains("truncated") &&
                                                   Catch::Contains("36 bytes"));
    REQUIRE_THROWS_WITH(read_idx_header(dir / "bad"), Catch::Contains("truncated"));
    // A complete, valid gzip stream whose content is cut short (gzip is Essential on Debian).
    write_bytes(dir / "short", {bytes.begin(), bytes.begin() + 16 + 20});
    const std::string command =
        "gzip -c '" + (dir / "short").string() + "' > '" + (dir / "short.gz").string() + "'";
    REQUIRE(std::system(command.c_str()) == 0);
    REQUIRE_THROWS_WITH(read_idx(dir / "short.gz"),
                        Catch::Contains("truncated") && Catch::Contains("20 bytes follow"));
  }
  SECTION("a gzip stream cut off") {
    write_idx(dir / "good.gz", uint8_array({64, 28, 28}), true);
    const auto gz = read_bytes(dir / "good.gz");
    write_bytes(dir / "cut.gz",
                {gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2)});
    REQUIRE_THROWS_AS(read_idx(dir / "cut.gz"), DataError);
    REQUIRE_THROWS_WITH(read_idx(dir / "cut.gz"),
                        Catch::Contains((dir / "cut.gz").string()) && Catch::Contains("truncated"));
    // Only the 8-byte trailer missing: the data is complete but the checksum cannot be verified.
    write_bytes(dir / "notrailer.gz", {gz.begin(), gz.end() - 8});
    REQUIRE_THROWS_WITH(read_idx(dir / "notrailer.gz"), Catch::Contains("truncated"));
  }
  SECTION("corrupt gzip data") {
    write_idx(dir / "good.gz", uint8_array({64, 28, 28}), true);
    auto gz = read_bytes(dir / "good.gz");
    // Damage the stored CRC-32 in the trailer: the data inflates but does not check out.
    gz[gz.size() - 6] ^= 0xFF;
    write_bytes(dir / "crc.gz", gz);
    REQUIRE_THROWS_WITH(read_idx(dir / "crc.gz"), Catch::Contains((dir / "crc.gz").string()) &&
                                                      Catch::Contains("corrupt gzip data"));
  }
  SECTION("bytes after the payload") {
    auto longer = bytes;
    longer.push_back(0);
    longer.push_back(0);
    write_bytes(dir / "bad", longer);
    REQUIRE_THROWS_WITH(read_idx(dir / "bad"), Catch::Contains("2 bytes after the data"));
  }
  SECTION("a header promising more than a terabyte") {
    write_bytes(dir / "bad", {0, 0, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                              0xFF, 0xFF, 0xFF});
    REQUIRE_THROWS_WITH(read_idx(dir / "bad"), Catch::Contains("corrupt header"));
  }
}

TEST_CASE("write_idx checks its input", "[idx]") {
  TempDir dir;
  IdxArray array = uint8_array({2, 2});
  array.data.pop_back();
  REQUIRE_THROWS_WITH(write_idx(dir / "x", array, false), Catch::Contains("needs 4 bytes"));
  array.dims = {};
  REQUIRE_THROWS_WITH(write_idx(dir / "x", array, false), Catch::Contains("1 to 255 dimensions"));
  REQUIRE_THROWS_WITH(write_idx(dir / "missing" / "x", uint8_array({2}), false),
                      Catch::Contains("cannot write"));
}

// Found by the IDX fuzz target (tests/fuzz/fuzz_idx.cpp): a valid empty file whose other sizes
// multiply past int64 made IdxArray::size() overflow (undefined behaviour, caught by UBSan in
// scripts/sanitize.sh); sizes whose product does not fit are an error, not a wrapped count.
TEST_CASE("IdxArray::size() of huge shapes: 0 with a zero dimension, else an error", "[idx]") {
  TempDir dir;
  write_bytes(dir / "empty",
              {0, 0, 8, 3, 0xFF, 0xFF, 0xA7, 0x41, 0xCB, 0xCB, 0xC7, 0xFE, 0, 0, 0, 0});
  const IdxArray empty = read_idx(dir / "empty");
  REQUIRE(empty.dims == std::vector<std::int64_t>{4294944577, 3419129854, 0});
  REQUIRE(empty.size() == 0);
  IdxArray huge;
  huge.dims = {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF};
  REQUIRE_THROWS_AS(huge.size(), DataError);
  REQUIRE_THROWS_WITH(huge.size(), Catch::Contains("(4294967295, 4294967295, 4294967295)") &&
                                       Catch::Contains("more elements than an int64 holds"));
  REQUIRE_THROWS_AS(write_idx(dir / "huge", huge, false), DataError);
}

TEST_CASE("load_idx_pair checks types, shapes and counts", "[idx]") {
  TempDir dir;
  write_split(dir.path(), "train", 6, 4, 5, 3, false);
  const ImageDataset dataset =
      load_idx_pair(dir / "train-images-idx3-ubyte", dir / "train-labels-idx1-ubyte");
  REQUIRE(dataset.count == 6);
  REQUIRE(dataset.rows == 4);
  REQUIRE(dataset.cols == 5);
  REQUIRE(dataset.image(1)[0] == static_cast<std::uint8_t>(20 * 7));
  REQUIRE(dataset.num_classes() == 3);
  REQUIRE(dataset.class_counts() == std::vector<std::int64_t>{2, 2, 2});

  write_idx(dir / "labels5", uint8_array({5}), false);
  REQUIRE_THROWS_WITH(load_idx_pair(dir / "train-images-idx3-ubyte", dir / "labels5"),
                      Catch::Contains("6 images") && Catch::Contains("5 labels") &&
                          Catch::Contains((dir / "labels5").string()) &&
                          Catch::Contains((dir / "train-images-idx3-ubyte").string()));
  REQUIRE_THROWS_WITH(load_idx_pair(dir / "labels5", dir / "labels5"),
                      Catch::Contains("images must be uint8 with 3 dimensions"));
  REQUIRE_THROWS_WITH(
      load_idx_pair(dir / "train-images-idx3-ubyte", dir / "train-images-idx3-ubyte"),
      Catch::Contains("labels must be uint8 with 1 dimension"));
  write_idx(dir / "empty", uint8_array({0, 28, 28}), false);
  REQUIRE_THROWS_WITH(load_idx_pair(dir / "empty", dir / "labels5"),
                      Catch::Contains("no image data"));
}

TEST_CASE("MNIST-format directories: file names, gzip and missing files", "[idx]") {
  TempDir dir;
  write_split(dir.path(), "train", 10, 3, 3, 5, true, ".gz");
  // Test split with the '.' naming of some MNIST copies, plain.
  write_idx(dir / "t10k-images.idx3-ubyte", uint8_array({4, 3, 3}), false);
  write_idx(dir / "t10k-labels.idx1-ubyte", uint8_array({4}), false);

  const ImageDataset train = load_image_dataset(dir.path(), Split::kTrain);
  REQUIRE(train.count == 10);
  REQUIRE(train.images_path.filename() == "train-images-idx3-ubyte.gz");
  const ImageDataset test = load_image_dataset(dir.path(), Split::kTest);
  REQUIRE(test.count == 4);

  const auto shared_a = load_image_dataset_shared(dir.path(), Split::kTrain);
  const auto shared_b = load_image_dataset_shared(dir.path() / "." / "", Split::kTrain);
  REQUIRE(shared_a == shared_b);
  REQUIRE(shared_a != load_image_dataset_shared(dir.path(), Split::kTest));

  TempDir lonely;
  write_idx(lonely / "train-images-idx3-ubyte", uint8_array({2, 2, 2}), false);
  REQUIRE_THROWS_WITH(load_image_dataset(lonely.path(), Split::kTrain),
                      Catch::Contains("no train-labels-idx1-ubyte"));
  REQUIRE_THROWS_WITH(load_image_dataset(lonely.path(), Split::kTest),
                      Catch::Contains("has no test split") && Catch::Contains("t10k-images"));
  REQUIRE_FALSE(find_split_files(lonely.path(), Split::kTest).has_value());
  REQUIRE_THROWS_WITH(load_image_dataset(dir / "absent"), Catch::Contains("does not exist"));
  REQUIRE_THROWS_WITH(load_image_dataset(dir / "train-images-idx3-ubyte.gz"),
                      Catch::Contains("not a directory"));

  REQUIRE(split_from_name("t10k") == Split::kTest);
  REQUIRE_THROWS_WITH(split_from_name("validation"), Catch::Contains("train, test, t10k"));
}

TEST_CASE("Debian's Fashion-MNIST loads with the figures numpy reads from it", "[idx][data]") {
  INFO("needs Debian's dataset-fashion-mnist at " << default_data_dir());
  const auto train = load_image_dataset_shared(default_data_dir(), Split::kTrain);
  REQUIRE(train->count == 60000);
  REQUIRE(train->rows == 28);
  REQUIRE(train->cols == 28);
  REQUIRE(train->class_counts() == std::vector<std::int64_t>(10, 6000));
  const std::vector<std::uint8_t> first_labels(train->labels.begin(), train->labels.begin() + 10);
  REQUIRE(first_labels == std::vector<std::uint8_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5});
  REQUIRE(std::accumulate(train->images.begin(), train->images.end(), std::int64_t{0}) ==
          3431114169);
  const auto row = train->image(0).subspan(14 * 28 + 10, 8);
  REQUIRE(std::vector<std::uint8_t>(row.begin(), row.end()) ==
          std::vector<std::uint8_t>{0, 0, 237, 226, 217, 223, 222, 219});

  const auto test = load_image_dataset_shared(default_data_dir(), Split::kTest);
  REQUIRE(test->count == 10000);
  REQUIRE(test->class_counts() == std::vector<std::int64_t>(10, 1000));
  REQUIRE(std::accumulate(test->images.begin(), test->images.end(), std::int64_t{0}) == 573469082);
}
