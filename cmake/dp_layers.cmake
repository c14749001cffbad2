# dp_add_layer(<target> SOURCES ... DEPS ...): one static library per layer. DEPS are the lower
# layers (and external libraries) it uses; links are PRIVATE, so nothing leaks upward except the
# link line itself.
function(dp_add_layer name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS})
  dp_target_warnings(${name})
endfunction()
