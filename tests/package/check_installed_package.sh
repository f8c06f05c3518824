#!/usr/bin/env bash
# The installed C++ package, as a user outside the tree meets it: `cmake --install` of this build
# into a fresh prefix, examples/plugin configured on its own with find_package(locus) and built,
# and the plugin it gives loaded by the locus command line.
#   check_installed_package.sh BUILD_DIR SOURCE_DIR LOCUS_EXECUTABLE
set -euo pipefail
build=$1 source=$2 locus=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" --component development >/dev/null
test -f "$work/prefix/include/locus/envs/registry.hpp"
test -f "$work/prefix/lib/cmake/locus/locusConfig.cmake"
cmake -S "$source/examples/plugin" -B "$work/plugin" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/plugin" >/dev/null
plugin="$work/plugin/liblocus_corridor_plugin.so"
# The plugin includes the installed headers, not the tree's.
grep -q -- "-isystem $work/prefix/include/locus\|-I$work/prefix/include/locus" \
  "$work/plugin/CMakeFiles/locus_corridor_plugin.dir/flags.make"
"$locus" --plugin "$plugin" check Corridor-v0
