# Compiler warnings, sanitizers and the CUDA switch, shared by every locus target.

# Every locus target links this interface target to get the project's warning set.
add_library(locus_warnings INTERFACE)
# -Wno-missing-field-initializers: GCC before 14 flags every member left out of a C++20 designated
# initializer (GCC bug 96868), and locus uses designated initializers for option structs on purpose.
target_compile_options(locus_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-missing-field-initializers>)

if(LOCUS_SANITIZE)
  string(REPLACE "," ";" _locus_sanitizers "${LOCUS_SANITIZE}")
  foreach(_san IN LISTS _locus_sanitizers)
    if(NOT _san MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "LOCUS_SANITIZE: unknown sanitizer '${_san}'; use address,undefined or thread")
    endif()
  endforeach()
  if("thread" IN_LIST _locus_sanitizers AND "address" IN_LIST _locus_sanitizers)
    message(FATAL_ERROR "LOCUS_SANITIZE: thread and address sanitizers cannot be combined")
  endif()
  add_compile_options(-fsanitize=${LOCUS_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=${LOCUS_SANITIZE})
  # GCC 12 with sanitizers reports -Wmaybe-uninitialized inside libstdc++ (std::regex, std::function)
  # where the plain build does not: the instrumentation defeats its flow analysis. The plain build
  # keeps the warning.
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized>)
endif()

# CUDA: AUTO enables the language when nvcc is found (also at the conventional /usr/local/cuda).
set(LOCUS_HAVE_CUDA OFF)
if(NOT LOCUS_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(CMAKE_CUDA_ARCHITECTURES ${LOCUS_CUDA_ARCHITECTURES})
    enable_language(CUDA)
    # CMake 3.25 has no CUDA20 dialect flags for nvcc; kernels are written in C++17.
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    set(LOCUS_HAVE_CUDA ON)
  elseif(LOCUS_CUDA STREQUAL "ON")
    message(FATAL_ERROR "LOCUS_CUDA=ON but no CUDA compiler was found; install the CUDA toolkit or use -DLOCUS_CUDA=AUTO")
  endif()
endif()
message(STATUS "locus: CUDA backend ${LOCUS_HAVE_CUDA}, sanitizers '${LOCUS_SANITIZE}'")
