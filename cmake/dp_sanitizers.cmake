if(DP_SANITIZE)
  string(REPLACE ";" "," _dp_san "${DP_SANITIZE}")
  add_compile_options(-fsanitize=${_dp_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_dp_san})
endif()
# Fuzzing builds: instrument every library for coverage (libFuzzer itself is linked only into the
# fuzz_<name> binaries), else the fuzzer sees only its target file and cannot steer.
if(DP_BUILD_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_compile_options(-fsanitize=fuzzer-no-link)
  add_link_options(-fsanitize=fuzzer-no-link)
endif()
