file(REMOVE_RECURSE
  "CMakeFiles/xgrad_tests.dir/autograd/ops/test_elementwise.cpp.o"
  "CMakeFiles/xgrad_tests.dir/autograd/ops/test_elementwise.cpp.o.d"
  "CMakeFiles/xgrad_tests.dir/autograd/ops/test_reduce.cpp.o"
  "CMakeFiles/xgrad_tests.dir/autograd/ops/test_reduce.cpp.o.d"
  "CMakeFiles/xgrad_tests.dir/autograd/test_harness.cpp.o"
  "CMakeFiles/xgrad_tests.dir/autograd/test_harness.cpp.o.d"
  "CMakeFiles/xgrad_tests.dir/autograd/test_tape.cpp.o"
  "CMakeFiles/xgrad_tests.dir/autograd/test_tape.cpp.o.d"
  "CMakeFiles/xgrad_tests.dir/harness.cpp.o"
  "CMakeFiles/xgrad_tests.dir/harness.cpp.o.d"
  "CMakeFiles/xgrad_tests.dir/main.cpp.o"
  "CMakeFiles/xgrad_tests.dir/main.cpp.o.d"
  "xgrad_tests"
  "xgrad_tests.pdb"
  "xgrad_tests_tests-b858cb2.cmake"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/xgrad_tests.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
