# One warning set for every dpipe target (igraph-style use_all_warnings). C sources only: CUDA
# sources (src/backend/cuda/*.cu) get their own flags in src/backend/CMakeLists.txt.
function(dp_target_warnings tgt)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    set(_w -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
        -Wpointer-arith -Wvla -Wformat=2 -Wno-unused-parameter)
    if(DP_WARNINGS_AS_ERRORS)
      list(APPEND _w -Werror)
    endif()
    target_compile_options(${tgt} PRIVATE "$<$<COMPILE_LANGUAGE:C>:${_w}>")
  endif()
endfunction()
