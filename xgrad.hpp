#pragma once

// The whole of xgrad in one include: #include <xgrad.hpp>

#include "autograd/errors.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/tape.hpp"
#include "autograd/tensor.hpp"
