#pragma once
// `locus report DIR`: runs bench/harness/make_report.py (matplotlib) on a finished sweep directory,
// which writes DIR/report.html and its PNG plots under DIR/plots/.

#include <filesystem>
#include <string>

namespace locus::bench {

// The Python interpreter used for reports: util::python_interpreter()'s, with the one CMake was
// configured with before python3.
std::string report_python();
// The report script: $LOCUS_REPORT_SCRIPT, else bench/harness/make_report.py (the installed
// command's copy, else the source tree's: util/installed_file.hpp).
std::filesystem::path report_script();
// Writes DIR/report.html and returns its path; throws SweepStateError if DIR holds no finished
// sweep or the script fails (its output names the reason, such as matplotlib missing).
std::filesystem::path make_report(const std::filesystem::path& sweep_dir);

}  // namespace locus::bench
