
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/autograd/errors.cpp" "CMakeFiles/xgrad.dir/autograd/errors.cpp.o" "gcc" "CMakeFiles/xgrad.dir/autograd/errors.cpp.o.d"
  "/work/main/autograd/gradcheck.cpp" "CMakeFiles/xgrad.dir/autograd/gradcheck.cpp.o" "gcc" "CMakeFiles/xgrad.dir/autograd/gradcheck.cpp.o.d"
  "/work/main/autograd/ops/elementwise.cpp" "CMakeFiles/xgrad.dir/autograd/ops/elementwise.cpp.o" "gcc" "CMakeFiles/xgrad.dir/autograd/ops/elementwise.cpp.o.d"
  "/work/main/autograd/ops/reduce.cpp" "CMakeFiles/xgrad.dir/autograd/ops/reduce.cpp.o" "gcc" "CMakeFiles/xgrad.dir/autograd/ops/reduce.cpp.o.d"
  "/work/main/autograd/ops/shape.cpp" "CMakeFiles/xgrad.dir/autograd/ops/shape.cpp.o" "gcc" "CMakeFiles/xgrad.dir/autograd/ops/shape.cpp.o.d"
  "/work/main/autograd/tape.cpp" "CMakeFiles/xgrad.dir/autograd/tape.cpp.o" "gcc" "CMakeFiles/xgrad.dir/autograd/tape.cpp.o.d"
  "/work/main/autograd/tensor.cpp" "CMakeFiles/xgrad.dir/autograd/tensor.cpp.o" "gcc" "CMakeFiles/xgrad.dir/autograd/tensor.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
