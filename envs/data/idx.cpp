#include "envs/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "util/atomic_file.hpp"

namespace locus::envs::data {

namespace {

// Data sets larger than this are certainly a corrupt header, not a real file (1 TiB).
constexpr std::uint64_t kMaxPayloadBytes = std::uint64_t{1} << 40;
// gzread takes an int length; read in chunks well below that.
constexpr std::size_t kReadChunk = std::size_t{1} << 26;
constexpr std::size_t kWriteChunk = std::size_t{1} << 20;

// `raw` as a gzip stream (zlib's deflate with a gzip header, as gzopen(..., "wb") writes it), in
// memory so that the file is written whole or not at all.
std::string gzip_compress(std::string_view raw, const std::filesystem::path& path) {
  z_stream stream{};
  constexpr int kGzipWindowBits = 15 + 16;  // 16: a gzip header and trailer instead of zlib's
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    throw DataError("cannot compress IDX file '" + path.string() + "': zlib failed to start");
  }
  // Fed and drained in chunks: zlib counts in 32-bit uInt.
  std::string out;
  std::size_t offset = 0;
  int status = Z_OK;
  while (status == Z_OK) {
    const std::size_t chunk = std::min(raw.size() - offset, kReadChunk);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data() + offset));
    stream.avail_in = static_cast<uInt>(chunk);
    offset += chunk;
    const int flush = offset == raw.size() ? Z_FINISH : Z_NO_FLUSH;
    do {
      const std::size_t before = out.size();
      out.resize(before + kWriteChunk);
      stream.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      stream.avail_out = static_cast<uInt>(kWriteChunk);
      status = deflate(&stream, flush);
      out.resize(before + kWriteChunk - stream.avail_out);
    } while (stream.avail_out == 0 && status == Z_OK);
    if (flush == Z_FINISH && status == Z_OK) status = Z_BUF_ERROR;  // cannot happen: drained
  }
  deflateEnd(&stream);
  if (status != Z_STREAM_END) {
    throw DataError("cannot compress IDX file '" + path.string() + "': zlib status " +
                    std::to_string(status));
  }
  return out;
}
// The first chunk of a payload; each next one is as large as what has been read so far.
constexpr std::uint64_t kFirstReadChunk = std::uint64_t{1} << 16;

std::string quoted(const std::filesystem::path& path) {
  // Built with append: GCC 12 reports a false -Wrestrict on "'" + std::string temporaries.
  std::string out = "'";
  out.append(path.string()).append("'");
  return out;
}

std::string dims_to_string(const std::vector<std::int64_t>& dims) {
  std::string out = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(dims[i]);
  }
  return out + (dims.size() == 1 ? ",)" : ")");
}

bool valid_type_code(std::uint8_t code) {
  switch (static_cast<IdxType>(code)) {
    case IdxType::kUInt8:
    case IdxType::kInt8:
    case IdxType::kInt16:
    case IdxType::kInt32:
    case IdxType::kFloat32:
    case IdxType::kFloat64:
      return true;
  }
  return false;
}

// IDX stores multi-byte elements big-endian; swaps them to or from the host order in place.
void swap_to_or_from_big_endian(std::span<std::byte> data, std::size_t element_size) {
  if constexpr (std::endian::native == std::endian::big) return;
  if (element_size == 1) return;
  for (std::size_t i = 0; i + element_size <= data.size(); i += element_size) {
    std::reverse(data.begin() + static_cast<std::ptrdiff_t>(i),
                 data.begin() + static_cast<std::ptrdiff_t>(i + element_size));
  }
}

// A gzip-or-plain input file (zlib's gzread reads plain files through unchanged).
class GzInput {
 public:
  explicit GzInput(const std::filesystem::path& path) : path_(path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) {
      throw DataError("IDX file " + quoted(path) + " does not exist");
    }
    if (std::filesystem::is_directory(status)) {
      throw DataError(quoted(path) + " is a directory, not an IDX file");
    }
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      throw DataError("cannot open IDX file " + quoted(path) + ": " +
                      (errno != 0 ? std::strerror(errno) : "out of memory"));
    }
    gzbuffer(file_, 1 << 18);
  }
  ~GzInput() {
    if (file_ != nullptr) gzclose(file_);
  }
  GzInput(const GzInput&) = delete;
  GzInput& operator=(const GzInput&) = delete;

  // Reads up to `size` bytes; fewer only at the end of the data. Corrupt or truncated gzip data
  // throws DataError.
  std::size_t read(void* out, std::size_t size) {
    auto* bytes = static_cast<unsigned char*>(out);
    std::size_t total = 0;
    while (total < size) {
      const auto want = static_cast<unsigned>(std::min(size - total, kReadChunk));
      const int got = gzread(file_, bytes + total, want);
      if (got < 0) throw_stream_error();
      total += static_cast<std::size_t>(got);
      if (static_cast<unsigned>(got) < want) {
        // A short read is the end of the data, or a gzip stream cut off / damaged.
        int code = Z_OK;
        gzerror(file_, &code);
        if (code != Z_OK) throw_stream_error();
        break;
      }
    }
    return total;
  }

  bool compressed() { return gzdirect(file_) == 0; }

 private:
  [[noreturn]] void throw_stream_error() {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (code == Z_BUF_ERROR) {
      throw DataError("IDX file " + quoted(path_) +
                      " is truncated: its gzip stream ends unexpectedly (" + message + ")");
    }
    if (code == Z_ERRNO) {
      throw DataError("cannot read IDX file " + quoted(path_) + ": " + std::strerror(errno));
    }
    throw DataError("IDX file " + quoted(path_) + " has corrupt gzip data (" + message + ")");
  }

  std::filesystem::path path_;
  gzFile file_ = nullptr;
};

IdxArray read_impl(const std::filesystem::path& path, bool keep_data) {
  GzInput input(path);
  IdxArray array;
  array.gzip = input.compressed();

  std::array<std::uint8_t, 4> magic{};
  const std::size_t magic_bytes = input.read(magic.data(), magic.size());
  if (magic_bytes < magic.size()) {
    throw DataError("IDX file " + quoted(path) + " is truncated: it holds " +
                    std::to_string(magic_bytes) + " bytes, the IDX header alone needs at least 4");
  }
  if (magic[0] != 0 || magic[1] != 0 || !valid_type_code(magic[2]) || magic[3] == 0) {
    char text[16];
    std::snprintf(text, sizeof(text), "0x%02X%02X%02X%02X", magic[0], magic[1], magic[2], magic[3]);
    throw DataError("IDX file " + quoted(path) + " has a wrong magic number " + text +
                    ": an IDX file starts with two zero bytes, a type code (08 uint8, 09 int8, "
                    "0B int16, 0C int32, 0D float32, 0E float64) and a nonzero number of "
                    "dimensions, e.g. 0x00000803 for MNIST images");
  }
  array.type = static_cast<IdxType>(magic[2]);
  const std::size_t ndims = magic[3];

  std::vector<std::uint8_t> header(4 * ndims);
  const std::size_t header_bytes = input.read(header.data(), header.size());
  if (header_bytes < header.size()) {
    throw DataError("IDX file " + quoted(path) + " is truncated: its header announces " +
                    std::to_string(ndims) + " dimensions (" + std::to_string(4 * ndims) +
                    " bytes of sizes) but only " + std::to_string(header_bytes) +
                    " bytes follow the magic number");
  }
  std::uint64_t elements = 1;
  for (std::size_t d = 0; d < ndims; ++d) {
    const std::uint32_t size = (std::uint32_t{header[4 * d]} << 24) |
                               (std::uint32_t{header[4 * d + 1]} << 16) |
                               (std::uint32_t{header[4 * d + 2]} << 8) | header[4 * d + 3];
    array.dims.push_back(size);
    if (size != 0 && elements > kMaxPayloadBytes / size) elements = kMaxPayloadBytes + 1;
    elements = std::min<std::uint64_t>(elements * size, kMaxPayloadBytes + 1);
  }
  const std::size_t element_size = idx_type_size(array.type);
  const std::string described =
      dims_to_string(array.dims) + " " + std::string(idx_type_name(array.type));
  if (elements > kMaxPayloadBytes / element_size) {
    throw DataError("IDX file " + quoted(path) + " has a corrupt header: shape " + described +
                    " would need more than 1 TiB of data");
  }
  const std::uint64_t payload = elements * element_size;

  // The payload, in chunks that start small and grow with what has been read, so that a header
  // that promises more than the file holds is reported after allocating about what the file
  // holds, not what the header promises.
  std::vector<std::byte> scratch;
  std::uint64_t read_total = 0;
  while (read_total < payload) {
    const std::uint64_t chunk = std::clamp<std::uint64_t>(read_total, kFirstReadChunk,
                                                          static_cast<std::uint64_t>(kReadChunk));
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(payload - read_total, chunk));
    std::byte* out;
    if (keep_data) {
      array.data.resize(static_cast<std::size_t>(read_total) + want);
      out = array.data.data() + read_total;
    } else {
      scratch.resize(want);
      out = scratch.data();
    }
    const std::size_t got = input.read(out, want);
    read_total += got;
    if (got < want) {
      throw DataError("IDX file " + quoted(path) + " is truncated: its header describes " +
                      described + " elements, " + std::to_string(payload) + " bytes of data, but " +
                      std::to_string(read_total) + " bytes follow the header");
    }
  }
  // Reading past the payload also makes zlib verify the gzip checksum at the end of the stream.
  std::array<std::byte, 4096> tail{};
  std::uint64_t extra = 0;
  for (std::size_t got; (got = input.read(tail.data(), tail.size())) > 0;) extra += got;
  if (extra > 0) {
    throw DataError("IDX file " + quoted(path) + " has " + std::to_string(extra) +
                    " bytes after the data its header describes (" + described +
                    "); the header and the content disagree");
  }
  if (keep_data) swap_to_or_from_big_endian(array.data, element_size);
  return array;
}

std::string tried_names(Split split) {
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  return prefix + "-images-idx3-ubyte[.gz] and " + prefix + "-labels-idx1-ubyte[.gz]";
}

}  // namespace

std::size_t idx_type_size(IdxType type) {
  switch (type) {
    case IdxType::kUInt8:
    case IdxType::kInt8:
      return 1;
    case IdxType::kInt16:
      return 2;
    case IdxType::kInt32:
    case IdxType::kFloat32:
      return 4;
    case IdxType::kFloat64:
      return 8;
  }
  throw InvalidArgumentError("invalid IDX type code " + std::to_string(static_cast<int>(type)));
}

std::string_view idx_type_name(IdxType type) {
  switch (type) {
    case IdxType::kUInt8:
      return "uint8";
    case IdxType::kInt8:
      return "int8";
    case IdxType::kInt16:
      return "int16";
    case IdxType::kInt32:
      return "int32";
    case IdxType::kFloat32:
      return "float32";
    case IdxType::kFloat64:
      return "float64";
  }
  throw InvalidArgumentError("invalid IDX type code " + std::to_string(static_cast<int>(type)));
}

std::int64_t IdxArray::size() const {
  // A zero dimension empties the array whatever the others are (a file may pair one with sizes
  // whose product overflows).
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) return 0;
  std::int64_t n = 1;
  for (const auto d : dims) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) {
      throw DataError("IDX shape " + dims_to_string(dims) +
                      " has a negative size or more elements than an int64 holds");
    }
  }
  return n;
}

IdxArray read_idx(const std::filesystem::path& path) {
  return read_impl(path, /*keep_data=*/true);
}

IdxArray read_idx_header(const std::filesystem::path& path) {
  return read_impl(path, /*keep_data=*/false);
}

void write_idx(const std::filesystem::path& path, const IdxArray& array, bool gzip) {
  if (array.dims.empty() || array.dims.size() > 255) {
    throw DataError("write_idx(" + quoted(path) + "): an IDX file has 1 to 255 dimensions, got " +
                    std::to_string(array.dims.size()));
  }
  for (const auto d : array.dims) {
    if (d < 0 || d > std::int64_t{0xFFFFFFFF}) {
      throw DataError("write_idx(" + quoted(path) + "): dimension " + std::to_string(d) +
                      " does not fit the format's unsigned 32-bit sizes");
    }
  }
  const std::size_t element_size = idx_type_size(array.type);
  const auto elements = static_cast<std::uint64_t>(array.size());
  if (array.data.size() % element_size != 0 || array.data.size() / element_size != elements) {
    const std::string needed = elements <= UINT64_MAX / element_size
                                   ? std::to_string(elements * element_size)
                                   : "more than 2^64";
    throw DataError("write_idx(" + quoted(path) + "): shape " + dims_to_string(array.dims) + " " +
                    std::string(idx_type_name(array.type)) + " needs " + needed +
                    " bytes of data, got " + std::to_string(array.data.size()));
  }
  std::vector<std::byte> bytes;
  bytes.reserve(4 + 4 * array.dims.size() + array.data.size());
  bytes.push_back(std::byte{0});
  bytes.push_back(std::byte{0});
  bytes.push_back(static_cast<std::byte>(array.type));
  bytes.push_back(static_cast<std::byte>(array.dims.size()));
  for (const auto d : array.dims) {
    const auto size = static_cast<std::uint32_t>(d);
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<std::byte>((size >> shift) & 0xFF));
    }
  }
  const std::size_t header_size = bytes.size();
  bytes.insert(bytes.end(), array.data.begin(), array.data.end());
  swap_to_or_from_big_endian(std::span(bytes).subspan(header_size), element_size);

  const std::string_view raw(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  util::write_file_atomically<DataError>(path, gzip ? gzip_compress(raw, path) : std::string(raw));
}

std::string_view split_name(Split split) {
  return split == Split::kTrain ? "train" : "test";
}

Split split_from_name(std::string_view name) {
  if (name == "train") return Split::kTrain;
  if (name == "test" || name == "t10k") return Split::kTest;
  throw InvalidArgumentError("unknown data split '" + std::string(name) +
                             "' (accepted: train, test, t10k)");
}

std::int64_t ImageDataset::num_classes() const {
  if (labels.empty()) return 0;
  return *std::max_element(labels.begin(), labels.end()) + std::int64_t{1};
}

std::vector<std::int64_t> ImageDataset::class_counts() const {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(num_classes()), 0);
  for (const auto label : labels) ++counts[label];
  return counts;
}

ImageDataset load_idx_pair(const std::filesystem::path& images_path,
                           const std::filesystem::path& labels_path) {
  IdxArray images = read_idx(images_path);
  if (images.type != IdxType::kUInt8 || images.dims.size() != 3) {
    throw DataError("IDX file " + quoted(images_path) + " holds " + dims_to_string(images.dims) +
                    " " + std::string(idx_type_name(images.type)) +
                    " elements; images must be uint8 with 3 dimensions (count, rows, cols)");
  }
  if (images.dims[0] == 0 || images.dims[1] == 0 || images.dims[2] == 0) {
    throw DataError("IDX file " + quoted(images_path) + " holds no image data (shape " +
                    dims_to_string(images.dims) + ")");
  }
  IdxArray labels = read_idx(labels_path);
  if (labels.type != IdxType::kUInt8 || labels.dims.size() != 1) {
    throw DataError("IDX file " + quoted(labels_path) + " holds " + dims_to_string(labels.dims) +
                    " " + std::string(idx_type_name(labels.type)) +
                    " elements; labels must be uint8 with 1 dimension (count)");
  }
  if (labels.dims[0] != images.dims[0]) {
    throw DataError("the images and labels do not pair up: " + quoted(images_path) + " holds " +
                    std::to_string(images.dims[0]) + " images but " + quoted(labels_path) +
                    " holds " + std::to_string(labels.dims[0]) + " labels");
  }
  ImageDataset dataset;
  dataset.images_path = images_path;
  dataset.labels_path = labels_path;
  dataset.count = images.dims[0];
  dataset.rows = images.dims[1];
  dataset.cols = images.dims[2];
  dataset.images.resize(images.data.size());
  std::memcpy(dataset.images.data(), images.data.data(), images.data.size());
  images.data = {};  // halve the peak memory before copying the labels
  dataset.labels.resize(labels.data.size());
  std::memcpy(dataset.labels.data(), labels.data.data(), labels.data.size());
  return dataset;
}

std::filesystem::path default_data_dir() {
  return "/usr/share/datasets/fashion-mnist";
}

std::optional<SplitFiles> find_split_files(const std::filesystem::path& dir, Split split) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    throw DataError("data directory " + quoted(dir) + " does not exist");
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    throw DataError(quoted(dir) + " is not a directory; expected an MNIST-format directory with " +
                    tried_names(Split::kTrain) + " and " + tried_names(Split::kTest));
  }
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  auto find = [&](const std::string& kind, const std::string& idx) -> std::optional<std::string> {
    for (const char* separator : {"-", "."}) {
      for (const char* suffix : {"", ".gz"}) {
        const auto candidate = dir / (prefix + "-" + kind + separator + idx + "-ubyte" + suffix);
        if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
      }
    }
    return std::nullopt;
  };
  const auto images = find("images", "idx3");
  const auto labels = find("labels", "idx1");
  if (!images && !labels) return std::nullopt;
  if (!images || !labels) {
    throw DataError("data directory " + quoted(dir) + " has " + *(images ? images : labels) +
                    " but no " + prefix + (images ? "-labels-idx1-ubyte" : "-images-idx3-ubyte") +
                    "[.gz] to go with it");
  }
  return SplitFiles{*images, *labels};
}

ImageDataset load_image_dataset(const std::filesystem::path& dir, Split split) {
  const auto files = find_split_files(dir, split);
  if (!files) {
    throw DataError("data directory " + quoted(dir) + " has no " + std::string(split_name(split)) +
                    " split: looked for " + tried_names(split) +
                    (dir == default_data_dir()
                         ? " (install Debian's dataset-fashion-mnist package, or point to an "
                           "MNIST-format directory)"
                         : ""));
  }
  return load_idx_pair(files->images, files->labels);
}

std::shared_ptr<const ImageDataset> load_image_dataset_shared(const std::filesystem::path& dir,
                                                              Split split) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<const ImageDataset>> cache;
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(dir, ec);
  if (ec) canonical = dir;
  const std::string key = canonical.string() + "\n" + std::string(split_name(split));
  // Held while loading, so that two threads asking for the same set read it once.
  std::lock_guard lock(mutex);
  if (auto cached = cache[key].lock()) return cached;
  auto loaded = std::make_shared<const ImageDataset>(load_image_dataset(dir, split));
  cache[key] = loaded;
  return loaded;
}

}  // namespace locus::envs::data
