#pragma once
// Where the plotting script and the Python interpreter of this source tree are.

#include <string>

namespace locus::neuromod::spiking {

// neuromod/spiking/plot_spiking.py: the installed command's copy, else the one in the source tree
// this library was built from (util/installed_file.hpp).
std::string plot_script_path();
// The interpreter for the plots: util::python_interpreter()'s, with the source tree's
// .venv/bin/python before python3.
std::string default_python();

}  // namespace locus::neuromod::spiking
