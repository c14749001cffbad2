if(DP_SANITIZE)
  string(REPLACE ";" "," _dp_san "${DP_SANITIZE}")
  add_compile_options(-fsanitize=${_dp_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_dp_san})
endif()
# libFuzzer needs coverage feedback from the library code too, not only from the fuzz targets
# (which alone give it a handful of edges): instrument everything in a fuzz build.
if(DP_BUILD_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
