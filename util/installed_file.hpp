#pragma once
// The scripts the `locus` command runs (the report, the plots) are read where they lie at run
// time. A build runs them from its source tree. The command that `pip install .` installs is the
// binary site-packages/locus/_cli/locus, and the wheel carries the scripts beside it, under
// site-packages/locus/_resources/ in the source tree's layout (python/CMakeLists.txt), since the
// source tree it was built from may be gone.

#include <filesystem>
#include <string_view>
#include <system_error>

namespace locus::util {

// The installed copy of the source tree's file `relative` (such as
// "bench/harness/make_report.py") when this program is an installed command that has one, else
// `in_source_tree`.
inline std::filesystem::path installed_or_source(std::string_view relative,
                                                 const std::filesystem::path& in_source_tree) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return in_source_tree;
  std::filesystem::path installed =
      self.parent_path().parent_path() / "_resources" / std::filesystem::path(relative);
  if (std::filesystem::is_regular_file(installed, error)) return installed;
  return in_source_tree;
}

}  // namespace locus::util
