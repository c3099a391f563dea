#----------------------------------------------------------------
# Generated CMake target import file for configuration "Release".
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "xgrad::xgrad" for configuration "Release"
set_property(TARGET xgrad::xgrad APPEND PROPERTY IMPORTED_CONFIGURATIONS RELEASE)
set_target_properties(xgrad::xgrad PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_RELEASE "CXX"
  IMPORTED_LOCATION_RELEASE "${_IMPORT_PREFIX}/lib/libxgrad.a"
  )

list(APPEND _cmake_import_check_targets xgrad::xgrad )
list(APPEND _cmake_import_check_files_for_xgrad::xgrad "${_IMPORT_PREFIX}/lib/libxgrad.a" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
