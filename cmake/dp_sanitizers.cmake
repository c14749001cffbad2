if(DP_SANITIZE)
  string(REPLACE ";" "," _dp_san "${DP_SANITIZE}")
  add_compile_options(-fsanitize=${_dp_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_dp_san})
endif()
# libFuzzer can only steer by coverage of the code it explores: instrument every library, not
# just the fuzz targets (which add -fsanitize=fuzzer themselves).
if(DP_BUILD_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_compile_options(-fsanitize=fuzzer-no-link)
  add_link_options(-fsanitize=fuzzer-no-link)
endif()
