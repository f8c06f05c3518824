// Writing a file whole or not at all, shared by every locus folder that writes results, run state
// or checkpoints: the text goes to a temporary file beside the target (named after the process and
// thread, so that concurrent writers never share one), which is then renamed over it. A reader sees
// the old file or the new one, never half of either; a writer killed halfway leaves only a
// temporary file behind.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace locus::util {

// Writes `bytes` to `path` atomically; on failure removes the temporary file and throws
// Error(message), the message naming the file and the cause. Error is the caller's exception type.
template <class Error>
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  const std::filesystem::path temp =
      path.string() + ".tmp." + std::to_string(::getpid()) + "." +
      std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  std::error_code error;
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::filesystem::remove(temp, error);
      throw Error("cannot write " + temp.string() + " (to replace " + path.string() + ")");
    }
  }
  std::filesystem::rename(temp, path, error);
  if (error) {
    const std::string cause = error.message();
    std::filesystem::remove(temp, error);
    throw Error("cannot move " + temp.string() + " into place as " + path.string() + ": " + cause);
  }
}

}  // namespace locus::util
