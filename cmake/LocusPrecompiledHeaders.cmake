# LOCUS_PRECOMPILE_HEADERS: every C++ target precompiles the headers most of its files include
# (the standard library's, nlohmann/json and, for the tests, Catch2), so that each file stops
# parsing them again. For the sanitizer builds scripts/sanitize.sh makes from scratch (CI); off by
# default, since ccache does not cache a file compiled with a precompiled header unless its
# sloppiness allows it, and a plain build keeps checking that every file includes what it uses.

option(LOCUS_PRECOMPILE_HEADERS "Precompile the common headers (standard library, nlohmann/json, Catch2)" OFF)

set(_locus_common_headers
  <algorithm> <array> <cmath> <cstddef> <cstdint> <cstring> <functional> <limits> <map> <memory>
  <optional> <span> <stdexcept> <string> <string_view> <unordered_map> <utility> <vector>
  <nlohmann/json.hpp>)

# locus_precompile_headers(<directory>): the targets of directory and of its subdirectories.
function(locus_precompile_headers directory)
  get_property(_targets DIRECTORY ${directory} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(_target IN LISTS _targets)
    get_target_property(_type ${_target} TYPE)
    # locus_catch_main defines CATCH_CONFIG_MAIN before it includes Catch2: no precompiled Catch2.
    if(NOT _type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|EXECUTABLE)$")
      continue()
    endif()
    # A target of one or two files (a fuzz target, an oracle's dump program) would compile the
    # precompiled header for nothing.
    get_target_property(_sources ${_target} SOURCES)
    list(FILTER _sources INCLUDE REGEX "\\.(cpp|cc)$")
    list(LENGTH _sources _source_count)
    if(_source_count LESS 3)
      continue()
    endif()
    set(_headers ${_locus_common_headers})
    get_target_property(_libraries ${_target} LINK_LIBRARIES)
    if("Catch2::Catch2" IN_LIST _libraries)
      list(APPEND _headers <catch2/catch.hpp>)
    endif()
    target_precompile_headers(${_target} PRIVATE ${_headers})
  endforeach()
  get_property(_subdirectories DIRECTORY ${directory} PROPERTY SUBDIRECTORIES)
  foreach(_subdirectory IN LISTS _subdirectories)
    locus_precompile_headers(${_subdirectory})
  endforeach()
endfunction()

if(LOCUS_PRECOMPILE_HEADERS)
  locus_precompile_headers(${PROJECT_SOURCE_DIR})
endif()
