# Shows that the layer check (cmake/check_layers.cmake) refuses what docs/architecture.md
# forbids and accepts what it allows, on a small tree made here:
#   cmake -DKTSTR_SOURCE=<repo> -DWORK=<scratch dir> -P check_layers_test.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE ${WORK})
file(WRITE ${WORK}/tree/low/low.hpp "#pragma once\n")
file(WRITE ${WORK}/tree/high/high.cpp "#include \"low/low.hpp\"\n#include <vector>\n")
file(WRITE ${WORK}/tree/native/native.cpp "#include <caf/all.hpp>\n")
file(WRITE ${WORK}/tree/native/one.hpp "#pragma once\n")
file(WRITE ${WORK}/tree/stray/stray.hpp "#pragma once\n")

set(failures "")
# expect(<name> <0|1: should pass> <rules text> [<text the output must hold>])
function(expect name should_pass rules)
  file(WRITE ${WORK}/${name}.cmake "${rules}")
  execute_process(COMMAND ${CMAKE_COMMAND} -DKTSTR_ROOT=${WORK}/tree -DKTSTR_RULES=${WORK}/${name}.cmake
                          -P ${KTSTR_SOURCE}/cmake/check_layers.cmake
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if((should_pass AND NOT rc EQUAL 0) OR (NOT should_pass AND rc EQUAL 0))
    set(failures "${failures}\n${name}: expected pass=${should_pass}, the check exited ${rc}: ${out}${err}" PARENT_SCOPE)
    return()
  endif()
  if(ARGC GREATER 3 AND NOT "${out}${err}" MATCHES "${ARGV3}")
    set(failures "${failures}\n${name}: output lacks '${ARGV3}': ${out}${err}" PARENT_SCOPE)
  endif()
endfunction()

set(base "set(KTSTR_LAYERS low high native)\nset(KTSTR_LAYER_low_PATHS low)\nset(KTSTR_LAYER_high_PATHS high)\nset(KTSTR_LAYER_native_PATHS native)\n")
expect(declared 1 "${base}set(KTSTR_LAYER_high_USES low)\nset(KTSTR_LAYER_native_CAF TRUE)\n")
expect(undeclared 0 "${base}set(KTSTR_LAYER_native_CAF TRUE)\n" "high/high.cpp: includes low/low.hpp of low, which high does not use")
expect(caf_refused 0 "${base}set(KTSTR_LAYER_high_USES low)\n" "native/native.cpp: includes CAF")
# A file of no library may not be included by one (stray/ is in the tree but no layer's).
file(APPEND ${WORK}/tree/high/high.cpp "#include \"stray/stray.hpp\"\n")
expect(stray 0 "${base}set(KTSTR_LAYER_high_USES low)\nset(KTSTR_LAYER_native_CAF TRUE)\n" "stray/stray.hpp, which belongs to no library")
# A single file can be a layer of its own inside another's folder.
file(WRITE ${WORK}/tree/high/high.cpp "#include \"native/one.hpp\"\n")
expect(file_layer 1 "set(KTSTR_LAYERS one high native)\nset(KTSTR_LAYER_one_PATHS native/one.hpp)\nset(KTSTR_LAYER_high_PATHS high)\nset(KTSTR_LAYER_native_PATHS native)\nset(KTSTR_LAYER_high_USES one)\nset(KTSTR_LAYER_native_CAF TRUE)\n")
expect(file_layer_refused 0 "set(KTSTR_LAYERS one high native)\nset(KTSTR_LAYER_one_PATHS native/one.hpp)\nset(KTSTR_LAYER_high_PATHS high)\nset(KTSTR_LAYER_native_PATHS native)\nset(KTSTR_LAYER_high_USES native)\nset(KTSTR_LAYER_native_CAF TRUE)\n" "which high does not use")

if(failures)
  message(FATAL_ERROR "layer check misjudged:${failures}")
endif()
message(STATUS "layer check: every case judged as expected")
