// Fuzz target: the IDX reader (envs/data/idx.hpp), plain or gzip-compressed.
//
// Input: one mode byte, then file bytes.
//   mode even: the bytes are one IDX file: read_idx and read_idx_header must agree (type, shape)
//              or both refuse it, and a file read whole must write and read back equal.
//   mode odd:  the bytes are an images file and a labels file (cut at the position the next two
//              bytes give) for load_idx_pair, whose data set's class counts must add up.
// Anything but a DataError (or success) is a bug.

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>

#include "envs/data/idx.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using locus::envs::data::DataError;
using locus::envs::data::IdxArray;
using locus::fuzz::require;

void one_file(const std::uint8_t* data, std::size_t size) {
  static locus::fuzz::ScratchFile file(".idx");
  static locus::fuzz::ScratchFile copy(".copy.idx");
  const auto& path = file.write(data, size);
  std::optional<IdxArray> whole;
  std::optional<IdxArray> header;
  locus::fuzz::expect_clean<DataError>([&] { whole = locus::envs::data::read_idx(path); });
  locus::fuzz::expect_clean<DataError>([&] { header = locus::envs::data::read_idx_header(path); });
  require(whole.has_value() == header.has_value(), "read_idx and read_idx_header disagree");
  if (!whole) return;
  require(whole->type == header->type && whole->dims == header->dims,
          "read_idx and read_idx_header read different headers");
  require(whole->data.size() == static_cast<std::size_t>(whole->size()) *
                                    locus::envs::data::idx_type_size(whole->type),
          "read_idx's data does not fill its shape");
  locus::envs::data::write_idx(copy.path(), *whole, whole->gzip);
  const IdxArray again = locus::envs::data::read_idx(copy.path());
  require(again.type == whole->type && again.dims == whole->dims && again.data == whole->data,
          "an IDX file written by write_idx reads back different");
}

void image_and_label_files(const std::uint8_t* data, std::size_t size) {
  static locus::fuzz::ScratchFile images(".images.idx");
  static locus::fuzz::ScratchFile labels(".labels.idx");
  if (size < 2) return;
  const std::size_t cut = std::min<std::size_t>((std::size_t{data[0]} << 8) | data[1], size - 2);
  images.write(data + 2, cut);
  labels.write(data + 2 + cut, size - 2 - cut);
  locus::fuzz::expect_clean<DataError>([&] {
    const auto dataset = locus::envs::data::load_idx_pair(images.path(), labels.path());
    const auto counts = dataset.class_counts();
    require(std::accumulate(counts.begin(), counts.end(), std::int64_t{0}) == dataset.count,
            "class counts do not add up to the number of images");
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    one_file(data + 1, size - 1);
  } else {
    image_and_label_files(data + 1, size - 1);
  }
  return 0;
}
