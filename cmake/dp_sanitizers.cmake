# Sanitizer and fuzzing flags apply to C sources (nvcc does not take them); the link options
# apply to every (C-linked) binary.
if(DP_SANITIZE)
  string(REPLACE ";" "," _dp_san "${DP_SANITIZE}")
  set(_dp_san_flags -fsanitize=${_dp_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options("$<$<COMPILE_LANGUAGE:C>:${_dp_san_flags}>")
  add_link_options(-fsanitize=${_dp_san})
endif()
# Fuzzing builds: instrument every library for coverage (libFuzzer itself is linked only into the
# fuzz_<name> binaries), else the fuzzer sees only its target file and cannot steer.
if(DP_BUILD_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_compile_options("$<$<COMPILE_LANGUAGE:C>:-fsanitize=fuzzer-no-link>")
  add_link_options(-fsanitize=fuzzer-no-link)
endif()
