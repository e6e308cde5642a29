# The project's libraries ("layers") and what each may use.
#
# ktstr_library(<name> [CAF] [USES <layer>...] [LINKS <target>...]) makes a library of the
# .cpp files in the calling folder (an INTERFACE library when there are none), links it to
# the layers it USES and the outside libraries it LINKS, and records the folder and the USES
# list. ktstr_layer() records a layer whose target is made by hand (an executable, a
# header-only piece). ktstr_layer_check() then adds `layer_check` to the default build: it
# fails when a file includes a header of a layer its own layer did not declare, or <caf/...>
# in a layer not marked CAF (kvm/ never includes CAF). docs/architecture.md draws the result.

function(ktstr_layer name)
  cmake_parse_arguments(L "CAF" "" "PATHS;USES" ${ARGN})
  set_property(GLOBAL APPEND PROPERTY KTSTR_LAYERS ${name})
  set_property(GLOBAL PROPERTY KTSTR_LAYER_${name}_PATHS ${L_PATHS})
  set_property(GLOBAL PROPERTY KTSTR_LAYER_${name}_USES ${L_USES})
  set_property(GLOBAL PROPERTY KTSTR_LAYER_${name}_CAF ${L_CAF})
endfunction()

function(ktstr_library name)
  cmake_parse_arguments(L "CAF" "" "USES;LINKS" ${ARGN})
  file(RELATIVE_PATH folder ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(sources)
    add_library(${name} STATIC ${sources})
    set(scope PUBLIC)
  else()
    add_library(${name} INTERFACE)
    set(scope INTERFACE)
  endif()
  target_include_directories(${name} ${scope} ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} ${scope} ${L_USES} ${L_LINKS})
  set(caf "")
  if(L_CAF)
    set(caf CAF)
  endif()
  ktstr_layer(${name} PATHS ${folder} USES ${L_USES} ${caf})
endfunction()

# Call once, after every layer is declared.
function(ktstr_layer_check)
  get_property(layers GLOBAL PROPERTY KTSTR_LAYERS)
  set(rules "set(KTSTR_LAYERS ${layers})\n")
  set(inputs "")
  foreach(layer IN LISTS layers)
    get_property(paths GLOBAL PROPERTY KTSTR_LAYER_${layer}_PATHS)
    get_property(uses GLOBAL PROPERTY KTSTR_LAYER_${layer}_USES)
    get_property(caf GLOBAL PROPERTY KTSTR_LAYER_${layer}_CAF)
    string(APPEND rules "set(KTSTR_LAYER_${layer}_PATHS ${paths})\n"
                        "set(KTSTR_LAYER_${layer}_USES ${uses})\n"
                        "set(KTSTR_LAYER_${layer}_CAF ${caf})\n")
    foreach(path IN LISTS paths)
      if(IS_DIRECTORY ${PROJECT_SOURCE_DIR}/${path})
        file(GLOB files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${path}/*.cpp ${PROJECT_SOURCE_DIR}/${path}/*.hpp)
        list(APPEND inputs ${files})
      else()
        list(APPEND inputs ${PROJECT_SOURCE_DIR}/${path})
      endif()
    endforeach()
  endforeach()
  set(rules_file ${PROJECT_BINARY_DIR}/layers.cmake)
  file(WRITE ${rules_file} "${rules}")
  set(stamp ${PROJECT_BINARY_DIR}/layer_check.stamp)
  add_custom_command(OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DKTSTR_ROOT=${PROJECT_SOURCE_DIR} -DKTSTR_RULES=${rules_file}
            -P ${PROJECT_SOURCE_DIR}/cmake/check_layers.cmake
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS ${inputs} ${rules_file} ${PROJECT_SOURCE_DIR}/cmake/check_layers.cmake
    COMMENT "Checking include directions between layers (docs/architecture.md)"
    VERBATIM)
  add_custom_target(layer_check ALL DEPENDS ${stamp})
endfunction()
