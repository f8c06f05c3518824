#pragma once
// IDX files (the format of MNIST and Fashion-MNIST) and image data sets made of them.
//
// An IDX file is a big-endian header followed by the elements in row-major order:
//   bytes 0-1  zero
//   byte  2    element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
//              0x0E float64
//   byte  3    number of dimensions d
//   then d big-endian uint32 sizes, then the elements (big-endian).
// Files may be gzip-compressed (Debian's dataset-fashion-mnist ships them as .gz); the reader
// detects compression from the content, not from the name.
//
// Every problem is a DataError whose message names the file: a missing or unreadable file, a wrong
// magic number or type code, a truncated header or payload, bytes after the payload, corrupt gzip
// data, and, for a data set, images and labels that do not pair up.
//
// Typical use:
//   using namespace locus::envs::data;
//   ImageDataset train = load_image_dataset();                    // Fashion-MNIST, train split
//   ImageDataset test = load_image_dataset("/data/mnist", Split::kTest);
//   train.image(0);   // 28 * 28 uint8 pixels of the first image
//   train.labels[0];  // its class, 0..9

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "envs/errors.hpp"

namespace locus::envs::data {

// A data file or directory that is missing, unreadable or malformed. The message names the file.
class DataError : public Error {
 public:
  using Error::Error;
};

// Element types of the IDX format, with their type codes.
enum class IdxType : std::uint8_t {
  kUInt8 = 0x08,
  kInt8 = 0x09,
  kInt16 = 0x0B,
  kInt32 = 0x0C,
  kFloat32 = 0x0D,
  kFloat64 = 0x0E,
};
std::size_t idx_type_size(IdxType type);
std::string_view idx_type_name(IdxType type);  // numpy's names: "uint8", "int16", "float32", ...

// The content of one IDX file.
struct IdxArray {
  IdxType type = IdxType::kUInt8;
  std::vector<std::int64_t> dims;  // e.g. (60000, 28, 28)
  std::vector<std::byte> data;     // the elements in host byte order, row-major
  bool gzip = false;               // whether the file was gzip-compressed (set by read_idx)

  // Number of elements: the product of dims (0 if any is 0). Throws DataError for a negative size
  // or a product past int64.
  std::int64_t size() const;
};

// Reads an IDX file, gzip-compressed or plain. Throws DataError naming `path` and the problem.
IdxArray read_idx(const std::filesystem::path& path);
// Reads only the header (type and dims) and checks that the payload is complete, without keeping
// the elements; `data` is left empty. Throws as read_idx does.
IdxArray read_idx_header(const std::filesystem::path& path);
// Writes `array` as an IDX file, gzip-compressed when `gzip` is set, atomically (a temporary file
// renamed into place). Throws DataError if dims and data do not agree or the file cannot be
// written.
void write_idx(const std::filesystem::path& path, const IdxArray& array, bool gzip);

// The two splits of an MNIST-format data set.
enum class Split { kTrain, kTest };
std::string_view split_name(Split split);  // "train", "test"
// "train", or "test"/"t10k"; throws InvalidArgumentError naming the value and the choices.
Split split_from_name(std::string_view name);

// Images with one class label each, as an MNIST-format pair of files holds them.
struct ImageDataset {
  std::filesystem::path images_path;
  std::filesystem::path labels_path;
  std::int64_t count = 0;  // number of images (and labels)
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::uint8_t> images;  // (count, rows, cols)
  std::vector<std::uint8_t> labels;  // (count)

  std::int64_t image_size() const { return rows * cols; }
  std::span<const std::uint8_t> image(std::int64_t i) const {
    return {images.data() + i * image_size(), static_cast<std::size_t>(image_size())};
  }
  // The largest label + 1 (labels are class indices 0..num_classes-1).
  std::int64_t num_classes() const;
  // How many images each class has, indexed by label (num_classes() entries).
  std::vector<std::int64_t> class_counts() const;
};

// Builds a data set from an images file (uint8, 3 dimensions: count, rows, cols) and a labels
// file (uint8, 1 dimension: count). Throws DataError naming the file for a wrong element type or
// number of dimensions, an empty set, and naming both files when the counts differ.
ImageDataset load_idx_pair(const std::filesystem::path& images_path,
                           const std::filesystem::path& labels_path);

// Where Debian's dataset-fashion-mnist package installs Fashion-MNIST.
std::filesystem::path default_data_dir();

// The files of one split in an MNIST-format directory.
struct SplitFiles {
  std::filesystem::path images;
  std::filesystem::path labels;
};
// Looks for `<prefix>-images-idx3-ubyte` and `<prefix>-labels-idx1-ubyte` in `dir`, with prefix
// "train" or "t10k", each plain or with ".gz" (a plain file wins), also accepting "." in place of
// the "-" before "idx" (as some copies of MNIST name them). Returns nothing when neither file of
// the split is there; throws DataError when only one of the two is, or `dir` is not a directory.
std::optional<SplitFiles> find_split_files(const std::filesystem::path& dir, Split split);

// Loads one split of an MNIST-format directory (Fashion-MNIST at default_data_dir() by default).
// Throws DataError naming the directory and the file names tried when the split is not there.
ImageDataset load_image_dataset(const std::filesystem::path& dir = default_data_dir(),
                                Split split = Split::kTrain);
// The same, shared within the process: every caller asking for the same directory and split while
// an earlier result is still alive gets that result instead of reading the files again (the data
// set environments are made many times, and Fashion-MNIST's training images are 47 MB).
std::shared_ptr<const ImageDataset> load_image_dataset_shared(
    const std::filesystem::path& dir = default_data_dir(), Split split = Split::kTrain);

}  // namespace locus::envs::data
