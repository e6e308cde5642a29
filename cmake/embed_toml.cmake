# Embeds every FOLDER/*.toml of the source tree into TARGET as raw string literals:
# TEMPLATE (a .cpp.in in the current source folder) gets @ENTRIES@ replaced by one
# `{"<stem>", R"ktstr_toml(<text>)ktstr_toml"},` line per file, sorted by name. Editing
# a file re-runs the configure step. The built-in scenarios and experiments use it.
function(ktstr_embed_toml target folder template)
  file(GLOB files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${folder}/*.toml)
  list(SORT files)
  set(ENTRIES "")
  foreach(toml_file IN LISTS files)
    get_filename_component(stem ${toml_file} NAME_WLE)
    file(READ ${toml_file} text)
    string(FIND "${text}" ")ktstr_toml\"" delimiter_at)
    if(NOT delimiter_at EQUAL -1)
      message(FATAL_ERROR "${toml_file} contains the raw string delimiter )ktstr_toml\"")
    endif()
    string(APPEND ENTRIES "    {\"${stem}\", R\"ktstr_toml(${text})ktstr_toml\"},\n")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${toml_file})
  endforeach()
  string(REGEX REPLACE "\\.in$" "" generated ${template})
  configure_file(${template} ${CMAKE_CURRENT_BINARY_DIR}/${generated} @ONLY)
  target_sources(${target} PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/${generated})
endfunction()
