#include "neuromod/spiking/tools.hpp"

#include <cstdlib>
#include <filesystem>

#include "util/installed_file.hpp"

namespace locus::neuromod::spiking {

std::string plot_script_path() {
  return util::installed_or_source(
             "neuromod/spiking/plot_spiking.py",
             std::string(LOCUS_SPIKING_SOURCE_DIR) + "/neuromod/spiking/plot_spiking.py")
      .string();
}

std::string default_python() {
  if (const char* python = std::getenv("LOCUS_PYTHON"); python != nullptr && *python != '\0') {
    return python;
  }
  std::string venv = std::string(LOCUS_SPIKING_SOURCE_DIR) + "/.venv/bin/python";
  std::error_code ec;
  if (std::filesystem::exists(venv, ec)) return venv;
  return "python3";
}

}  // namespace locus::neuromod::spiking
