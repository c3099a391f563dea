#pragma once

// The whole engine in one include: #include <xgrad.hpp>

#include "autograd/errors.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/graph.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/index.hpp"
#include "autograd/ops/linalg.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/ops/softmax.hpp"
#include "autograd/random.hpp"
#include "autograd/tape.hpp"
#include "autograd/tensor.hpp"
