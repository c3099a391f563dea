
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tests/autograd/ops/test_elementwise.cpp" "tests/CMakeFiles/xgrad_tests.dir/autograd/ops/test_elementwise.cpp.o" "gcc" "tests/CMakeFiles/xgrad_tests.dir/autograd/ops/test_elementwise.cpp.o.d"
  "/work/main/tests/autograd/ops/test_reduce.cpp" "tests/CMakeFiles/xgrad_tests.dir/autograd/ops/test_reduce.cpp.o" "gcc" "tests/CMakeFiles/xgrad_tests.dir/autograd/ops/test_reduce.cpp.o.d"
  "/work/main/tests/autograd/test_harness.cpp" "tests/CMakeFiles/xgrad_tests.dir/autograd/test_harness.cpp.o" "gcc" "tests/CMakeFiles/xgrad_tests.dir/autograd/test_harness.cpp.o.d"
  "/work/main/tests/autograd/test_tape.cpp" "tests/CMakeFiles/xgrad_tests.dir/autograd/test_tape.cpp.o" "gcc" "tests/CMakeFiles/xgrad_tests.dir/autograd/test_tape.cpp.o.d"
  "/work/main/tests/harness.cpp" "tests/CMakeFiles/xgrad_tests.dir/harness.cpp.o" "gcc" "tests/CMakeFiles/xgrad_tests.dir/harness.cpp.o.d"
  "/work/main/tests/main.cpp" "tests/CMakeFiles/xgrad_tests.dir/main.cpp.o" "gcc" "tests/CMakeFiles/xgrad_tests.dir/main.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/CMakeFiles/xgrad.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
