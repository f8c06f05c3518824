# The C++ package: `cmake --install build --prefix PREFIX` installs the environment API (the
# Gymnasium-style envs, their registry and wrappers: locus::envs, with locus::config and
# locus::util) with its headers under PREFIX/include/locus and a CMake package config, so that a
# program or an env plugin outside this tree builds with
#   find_package(locus REQUIRED)                       # CMAKE_PREFIX_PATH=PREFIX
#   target_link_libraries(my_plugin PRIVATE locus::envs)
# as examples/plugin does (tested: tests/CMakeLists.txt, "package: ..."). The wheel's files are
# the separate component `python` (python/CMakeLists.txt).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LOCUS_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/locus)
set(LOCUS_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/locus)

install(TARGETS locus_util locus_config locus_envs EXPORT locusTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
  INCLUDES DESTINATION ${LOCUS_INSTALL_INCLUDEDIR})
foreach(_folder util config envs)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${_folder}/
    DESTINATION ${LOCUS_INSTALL_INCLUDEDIR}/${_folder} COMPONENT development
    FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(EXPORT locusTargets NAMESPACE locus:: DESTINATION ${LOCUS_INSTALL_CMAKEDIR}
  COMPONENT development)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/locusConfig.cmake.in
  ${CMAKE_BINARY_DIR}/locusConfig.cmake INSTALL_DESTINATION ${LOCUS_INSTALL_CMAKEDIR})
# Before 1.0 a minor version may change the API: only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/locusConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/locusConfig.cmake ${CMAKE_BINARY_DIR}/locusConfigVersion.cmake
  DESTINATION ${LOCUS_INSTALL_CMAKEDIR} COMPONENT development)
