# One warning set for every dpipe target (igraph-style use_all_warnings).
function(dp_target_warnings tgt)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${tgt} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
      -Wmissing-prototypes -Wpointer-arith -Wvla -Wformat=2 -Wno-unused-parameter)
    if(DP_WARNINGS_AS_ERRORS)
      target_compile_options(${tgt} PRIVATE -Werror)
    endif()
  endif()
endfunction()
