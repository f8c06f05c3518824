#include "neuromod/spiking/tools.hpp"

#include <string>

#include "util/installed_file.hpp"
#include "util/python_probe.hpp"

namespace locus::neuromod::spiking {

std::string plot_script_path() {
  return util::installed_or_source(
             "neuromod/spiking/plot_spiking.py",
             std::string(LOCUS_SPIKING_SOURCE_DIR) + "/neuromod/spiking/plot_spiking.py")
      .string();
}

std::string default_python() {
  return util::python_interpreter({std::string(LOCUS_SPIKING_SOURCE_DIR) + "/.venv/bin/python"});
}

}  // namespace locus::neuromod::spiking
