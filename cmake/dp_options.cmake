# Build switches. DP_WITH_<X> takes AUTO (use it when found), ON (required) or OFF.
set(_dp_optional ZSTD SNAPPY ZLIB LZ4 BROTLI BLAS LAPACKE IGRAPH PNG CUDA MPI)
foreach(_o IN LISTS _dp_optional)
  set(DP_WITH_${_o} AUTO CACHE STRING "Use ${_o}: AUTO, ON or OFF")
  set_property(CACHE DP_WITH_${_o} PROPERTY STRINGS AUTO ON OFF)
endforeach()
# DP_ALL_OPTIONAL=OFF turns every optional part off at once (the minimal build CI checks).
set(DP_ALL_OPTIONAL "" CACHE STRING "Set to OFF to disable every optional dependency")
if(DP_ALL_OPTIONAL STREQUAL "OFF")
  foreach(_o IN LISTS _dp_optional)
    set(DP_WITH_${_o} OFF CACHE STRING "" FORCE)
  endforeach()
endif()

option(DP_BUILD_TESTS "Build the test suite" ON)
option(DP_BUILD_FUZZ "Build libFuzzer targets (needs clang)" OFF)
option(DP_BUILD_BENCH "Build benchmarks" ON)
option(DP_WARNINGS_AS_ERRORS "Treat warnings as errors" OFF)
set(DP_SANITIZE "" CACHE STRING "Sanitizers, e.g. address;undefined")

# Parquet, .npy and dpipe's own state files are little-endian; dpipe copies them as bytes.
if(CMAKE_C_BYTE_ORDER STREQUAL "BIG_ENDIAN")
  message(FATAL_ERROR "dpipe supports little-endian hosts only")
endif()
