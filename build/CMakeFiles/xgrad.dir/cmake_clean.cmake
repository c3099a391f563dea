file(REMOVE_RECURSE
  "CMakeFiles/xgrad.dir/autograd/errors.cpp.o"
  "CMakeFiles/xgrad.dir/autograd/errors.cpp.o.d"
  "CMakeFiles/xgrad.dir/autograd/gradcheck.cpp.o"
  "CMakeFiles/xgrad.dir/autograd/gradcheck.cpp.o.d"
  "CMakeFiles/xgrad.dir/autograd/ops/elementwise.cpp.o"
  "CMakeFiles/xgrad.dir/autograd/ops/elementwise.cpp.o.d"
  "CMakeFiles/xgrad.dir/autograd/ops/reduce.cpp.o"
  "CMakeFiles/xgrad.dir/autograd/ops/reduce.cpp.o.d"
  "CMakeFiles/xgrad.dir/autograd/ops/shape.cpp.o"
  "CMakeFiles/xgrad.dir/autograd/ops/shape.cpp.o.d"
  "CMakeFiles/xgrad.dir/autograd/tape.cpp.o"
  "CMakeFiles/xgrad.dir/autograd/tape.cpp.o.d"
  "CMakeFiles/xgrad.dir/autograd/tensor.cpp.o"
  "CMakeFiles/xgrad.dir/autograd/tensor.cpp.o.d"
  "libxgrad.a"
  "libxgrad.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/xgrad.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
