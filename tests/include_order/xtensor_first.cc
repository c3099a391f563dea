// Must not compile: an xtensor header before the first xgrad header would give this file another
// xt::xarray type than the library's (Note [xtensor allocator] in autograd/config.hpp).
#include <xtensor/xarray.hpp>

#include "autograd/tensor.hpp"

int main() {
    return 0;
}
