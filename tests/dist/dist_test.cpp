// The dist/ layer under mpirun (ctest runs it as dist_np2 and dist_np3, tests/CMakeLists.txt):
//   mpirun --oversubscribe -np N build/tests/dist_test
// Every process runs every check; a failing check prints its rank, line and values, and the
// program exits 1 on every process when any check failed anywhere. Training checks use double
// precision, where the paths differ only in the order of summation: they must agree to 1e-10
// relative (float: 1e-5).

#include "dist/dist.hpp"
#include "autograd/errors.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "autograd/shape.hpp"
#include "autograd/tensor.hpp"
#include "dist/ddp.hpp"
#include "dist/sampler.hpp"
#include "nn/activation.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/norm.hpp"
#include "nn/sequential.hpp"
#include "optim/sgd.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace xgrad;

namespace {

int failures = 0;

#define EXPECT(cond, ...)                                                                        \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            ++failures;                                                                          \
            fmt::print(stderr, "rank {}: {}:{}: check failed: {}: {}\n", dist::rank(), __FILE__, \
                       __LINE__, #cond, fmt::format(__VA_ARGS__));                               \
        }                                                                                        \
    } while (0)

// Every parameter and buffer value, flattened in state_dict order.
template <class T>
std::vector<double> flat_state(const nn::Module<T>& m) {
    std::vector<double> out;
    for (const auto& [name, v] : m.state_dict())
        out.insert(out.end(), v.begin(), v.end());
    return out;
}

// True on every process when `v` is the same on every process.
bool same_everywhere(const std::vector<double>& v) {
    unsigned long long n = v.size(), n_max = 0, n_min = 0;
    MPI_Allreduce(&n, &n_max, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&n, &n_min, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    if (n_max != n_min) return false;
    std::vector<double> hi(v.size()), lo(v.size());
    MPI_Allreduce(v.data(), hi.data(), int(v.size()), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(v.data(), lo.data(), int(v.size()), MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    return hi == lo;
}

double max_rel_diff(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return INFINITY;
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        d = std::max(d, std::abs(a[i] - b[i]) / (1 + std::abs(b[i])));
    return d;
}

// A 4-8-3 tanh MLP; its initial weights come from manual_seed(seed).
template <class T>
std::shared_ptr<nn::Sequential<T>> mlp(std::uint64_t seed) {
    manual_seed(seed);
    auto m = std::make_shared<nn::Sequential<T>>();
    m->add(nn::Linear<T>(4, 8));
    m->add(nn::Tanh<T>());
    m->add(nn::Linear<T>(8, 3));
    return m;
}

// The fixed batch of 12 examples: x [12, 4], y [12, 3], rows `rows` of it.
template <class T>
std::pair<Tensor<T>, Tensor<T>> batch(const std::vector<std::size_t>& rows) {
    auto x = xt::xarray<T>::from_shape(Shape{rows.size(), 4});
    auto y = xt::xarray<T>::from_shape(Shape{rows.size(), 3});
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const double i = double(rows[r]);
        for (std::size_t j = 0; j < 4; ++j)
            x(r, j) = T(std::sin(1.3 * i + 0.7 * double(j)));
        for (std::size_t j = 0; j < 3; ++j)
            y(r, j) = T(std::cos(0.9 * i - 0.4 * double(j)));
    }
    return {Tensor<T>(x), Tensor<T>(y)};
}

std::vector<std::size_t> all_rows() {
    std::vector<std::size_t> rows(12);
    for (std::size_t i = 0; i < 12; ++i)
        rows[i] = i;
    return rows;
}

enum class Path { single, plain, ddp };

// 5 steps of SGD (momentum 0.9) on the batch: one process on all 12 rows (single), or each
// process on its shard with allreduce_gradients after backward (plain) or with the bucketed
// DistributedDataParallel (ddp). Returns the final weights.
template <class T>
std::vector<double> train(Path path, std::size_t bucket_cap = std::size_t(25) << 20) {
    // Every process draws other initial weights: broadcast (or DDP) must make them rank 0's.
    auto model = mlp<T>(path == Path::single ? 100 : 100 + std::uint64_t(dist::rank()));
    if (path == Path::plain) dist::broadcast_parameters(*model);
    std::shared_ptr<dist::DistributedDataParallel<T>> ddp;
    if (path == Path::ddp) {
        ddp = std::make_shared<dist::DistributedDataParallel<T>>(
            model, dist::DistributedDataParallelOptions().bucket_cap_bytes(bucket_cap));
    }
    optim::SGD<T> opt(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    dist::DistributedSampler sampler(dist::DistributedSamplerOptions().seed(3));
    for (int step = 0; step < 5; ++step) {
        sampler.set_epoch(std::uint64_t(step));
        std::mt19937_64 unused;
        const auto rows = path == Path::single ? all_rows() : sampler.indices(12, unused);
        const auto [x, y] = batch<T>(rows);
        opt.zero_grad();
        auto loss = nn::mse_loss(ddp ? (*ddp)(x) : (*model)(x), y);
        loss.backward();
        if (ddp) {
            if (step == 0) {
                // Every bucket was complete, and so started, before backward returned.
                EXPECT(ddp->started_buckets() == ddp->buckets().size(), "{} of {}",
                       ddp->started_buckets(), ddp->buckets().size());
            }
            ddp->synchronize();
            EXPECT(ddp->started_buckets() == 0, "{}", ddp->started_buckets());
        }
        if (path == Path::plain) dist::allreduce_gradients(model->parameters());
        opt.step();
    }
    return flat_state(*model);
}

void test_broadcast() {
    manual_seed(7 + std::uint64_t(dist::rank()));
    nn::Sequential<double> m;
    m.add(nn::Linear<double>(3, 4));
    auto bn = m.add(nn::BatchNorm1d<double>(4));
    bn->running_mean().mutable_value().fill(double(dist::rank()));  // a buffer, rank-dependent
    manual_seed(7);
    nn::Sequential<double> m0;  // rank 0's model
    m0.add(nn::Linear<double>(3, 4));
    m0.add(nn::BatchNorm1d<double>(4));
    const Tensor<double> w = m.parameters()[0];
    dist::broadcast_parameters(m);
    EXPECT(same_everywhere(flat_state(m)), "parameters and buffers differ after broadcast");
    EXPECT(flat_state(m) == flat_state(m0), "not rank 0's values");
    EXPECT(bn->running_mean()(0) == 0.0, "running_mean {}", bn->running_mean()(0));
    EXPECT(w.node() == m.parameters()[0].node(), "the parameter lost its identity");
}

void test_mismatch() {
    // Rank 1 builds fc.weight [5, 4] where the others have [3, 4].
    nn::Linear<float> fc(4, dist::rank() == 1 ? 5 : 3);
    std::string what;
    try {
        dist::broadcast_parameters(fc);
    } catch (const ValueError& e) {
        what = e.what();
    }
    const std::string expected =
        "broadcast_parameters: the model on rank 1 differs from the one on rank 0 (root) at "
        "entry 0: rank 1 has parameter 'weight' float [5, 4], rank 0 has parameter 'weight' "
        "float [3, 4]; every process must build the same model";
    EXPECT(what == expected, "got '{}'", what);

    // Rank 2 (or 1) has one more layer: root has nothing there.
    nn::Sequential<float> seq;
    seq.add(nn::Linear<float>(2, 2));
    if (dist::rank() == dist::size() - 1) seq.add(nn::Linear<float>(2, 2));
    what.clear();
    try {
        dist::broadcast_parameters(seq);
    } catch (const ValueError& e) {
        what = e.what();
    }
    EXPECT(what.find(fmt::format("rank {} has parameter '1.weight' float [2, 2], rank 0 has "
                                 "nothing (fewer entries)",
                                 dist::size() - 1)) != std::string::npos,
           "got '{}'", what);
}

void test_training_paths() {
    const auto single = train<double>(Path::single);
    const auto plain = train<double>(Path::plain);
    const auto bucketed = train<double>(Path::ddp, 64);  // 64 bytes: a bucket per tensor
    const auto one_bucket = train<double>(Path::ddp);
    EXPECT(same_everywhere(plain), "plain: the processes' weights differ");
    EXPECT(same_everywhere(bucketed), "ddp: the processes' weights differ");
    EXPECT(max_rel_diff(single, flat_state(*mlp<double>(100))) > 1e-3, "training did nothing");
    EXPECT(max_rel_diff(plain, single) < 1e-10, "plain vs single: {}", max_rel_diff(plain, single));
    EXPECT(max_rel_diff(bucketed, plain) < 1e-10, "bucketed vs plain: {}",
           max_rel_diff(bucketed, plain));
    EXPECT(max_rel_diff(one_bucket, single) < 1e-10, "one bucket vs single: {}",
           max_rel_diff(one_bucket, single));
    const auto single_f = train<float>(Path::single), ddp_f = train<float>(Path::ddp, 64);
    EXPECT(max_rel_diff(ddp_f, single_f) < 1e-5, "float: {}", max_rel_diff(ddp_f, single_f));
}

void test_buckets() {
    auto model =
        mlp<double>(1);  // parameters 0.weight [8, 4], 0.bias [8], 2.weight [3, 8], 2.bias [3]
    dist::DistributedDataParallel<double> small(
        model, dist::DistributedDataParallelOptions().bucket_cap_bytes(100));
    // Reverse order; a bucket closes at >= 100 bytes: {2.bias 24 B, 2.weight 192 B}, then
    // {0.bias 64 B, 0.weight 256 B}.
    const std::vector<std::vector<std::size_t>> expected{{3, 2}, {1, 0}};
    EXPECT(small.buckets() == expected, "{} buckets", small.buckets().size());
    dist::DistributedDataParallel<double> one(mlp<double>(1));
    EXPECT(one.buckets().size() == 1 && one.buckets()[0].size() == 4, "{}", one.buckets().size());
}

// A parameter only rank 0 uses gets grad 1/size everywhere (zeros elsewhere); one that nobody
// uses keeps no gradient; the same through allreduce_gradients.
void test_unused_parameters() {
    struct Partial : nn::Module<double> {
        Tensor<double> a_, b_, unused_;
        Partial()
            : a_(register_parameter("a", ones<double>({2}, true))),
              b_(register_parameter("b", ones<double>({2}, true))),
              unused_(register_parameter("unused", ones<double>({2}, true))) {}
        Tensor<double> forward(const Tensor<double>& x) override {
            return dist::rank() == 0 ? x * a_ + b_ : x * a_;
        }
        std::string type_name() const override { return "Partial"; }
    };
    for (bool use_ddp : {true, false}) {
        auto m = std::make_shared<Partial>();
        std::unique_ptr<dist::DistributedDataParallel<double>> ddp;
        if (use_ddp) {
            ddp = std::make_unique<dist::DistributedDataParallel<double>>(
                m, dist::DistributedDataParallelOptions().bucket_cap_bytes(1));
        }
        auto x = Tensor<double>(xt::xarray<double>{1.0 + dist::rank(), 2.0});
        sum(ddp ? (*ddp)(x) : (*m)(x)).backward();
        if (ddp)
            ddp->synchronize();
        else
            dist::allreduce_gradients(m->parameters());
        const double n = dist::size();
        const double mean_x0 = (n + 1) / 2;  // Σ (1 + r) / n
        EXPECT(std::abs(m->a_.grad()(0) - mean_x0) < 1e-12 && m->a_.grad()(1) == 2.0, "a {} {}",
               m->a_.grad()(0), m->a_.grad()(1));
        EXPECT(m->b_.grad().defined() && std::abs(m->b_.grad()(0) - 1 / n) < 1e-12, "b");
        EXPECT(!m->unused_.grad().defined(), "unused has a gradient");
    }
}

void test_second_backward_is_refused() {
    auto m = mlp<double>(1);
    dist::DistributedDataParallel<double> ddp(m);
    const auto [x, y] = batch<double>({0, 1});
    nn::mse_loss(ddp(x), y).backward();
    std::string what;
    try {
        nn::mse_loss(ddp(x), y).backward();
    } catch (const Error& e) {
        what = e.what();
    }
    EXPECT(what.find("distributed_data_parallel: a second gradient of parameter") == 0, "'{}'",
           what);
    ddp.synchronize();  // still usable
    EXPECT(ddp.started_buckets() == 0, "{}", ddp.started_buckets());
}

void test_sampler_shards() {
    dist::DistributedSampler s(dist::DistributedSamplerOptions().seed(11));
    s.set_epoch(4);
    std::mt19937_64 unused;
    const auto mine = s.indices(12, unused);
    const int n = dist::size();
    std::vector<unsigned long long> local(mine.begin(), mine.end()), all(12);
    EXPECT(local.size() == std::size_t(12 / n), "{}", local.size());
    MPI_Allgather(local.data(), int(local.size()), MPI_UNSIGNED_LONG_LONG, all.data(),
                  int(local.size()), MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD);
    const std::set<unsigned long long> distinct(all.begin(), all.end());
    EXPECT(distinct.size() == 12 && *distinct.rbegin() == 11, "{} distinct", distinct.size());
}

// Under dist::set_timeout the collectives run nonblocking, polled (Note [bounded waits] in
// dist/dist.cpp): the same training results and the same mismatch errors, with no timeout when
// every process takes part. A negative timeout is refused.
void test_bounded_waits() {
    std::string what;
    try {
        dist::set_timeout(std::chrono::milliseconds(-1));
    } catch (const ValueError& e) {
        what = e.what();
    }
    EXPECT(what == "dist::set_timeout: expected a timeout >= 0 (0: none); got -1 ms", "got '{}'",
           what);
    dist::set_timeout(std::chrono::seconds(60));
    EXPECT(dist::timeout() == std::chrono::milliseconds(60000), "{} ms", dist::timeout().count());
    const auto single = train<double>(Path::single);
    const auto plain = train<double>(Path::plain);
    const auto bucketed = train<double>(Path::ddp, 64);
    test_mismatch();
    dist::barrier();
    dist::set_timeout(std::chrono::milliseconds(0));
    EXPECT(max_rel_diff(plain, single) < 1e-10, "plain vs single: {}", max_rel_diff(plain, single));
    EXPECT(max_rel_diff(bucketed, plain) < 1e-10, "bucketed vs plain: {}",
           max_rel_diff(bucketed, plain));
}

// --hang-on-rank R (tests/dist/hangs.sh): under dist::set_timeout(2 s), process R skips a
// training step (no backward, no synchronize) and sleeps, as a process that hung or took another
// path would; the others must get TimeoutError from synchronize() after about 2 s. They print it
// and return 5, and finalize() then aborts the job (MPI_Abort), which ends process R as well.
int hang_in_training(int hanging) {
    dist::set_timeout(std::chrono::seconds(2));
    auto model = mlp<double>(1);
    dist::DistributedDataParallel<double> ddp(model);
    if (dist::rank() == hanging) {
        std::this_thread::sleep_for(std::chrono::seconds(120));
        return 6;
    }
    const auto [x, y] = batch<double>({0, 1, 2});
    nn::mse_loss(ddp(x), y).backward();
    const auto start = std::chrono::steady_clock::now();
    try {
        ddp.synchronize();
    } catch (const dist::TimeoutError& e) {
        const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - start;
        fmt::print(stderr, "rank {}: TimeoutError after {:.1f} s: {}\n", dist::rank(),
                   waited.count(), e.what());
        return 5;
    }
    fmt::print(stderr, "rank {}: synchronize returned without process {}\n", dist::rank(), hanging);
    return 4;
}

// --die-on-rank R (tests/dist/dies.sh): process R exits with status 3 after its backward, while
// the others wait for its gradients in synchronize(); mpirun must end them.
[[noreturn]] void die_in_training(int dying) {
    auto model = mlp<double>(1);
    dist::DistributedDataParallel<double> ddp(model);
    const auto [x, y] = batch<double>({0, 1, 2});
    nn::mse_loss(ddp(x), y).backward();
    if (dist::rank() == dying) std::_Exit(3);
    ddp.synchronize();  // never returns: the dying process does not take part
    fmt::print(stderr, "rank {}: synchronize returned without process {}\n", dist::rank(), dying);
    std::_Exit(4);
}

}  // namespace

int main(int argc, char** argv) {
    dist::Session session(&argc, &argv);
    if (dist::size() < 2) {
        fmt::print(stderr, "dist_test: run it under mpirun -np 2 (or more)\n");
        return 1;
    }
    if (argc == 3 && std::string(argv[1]) == "--die-on-rank") die_in_training(std::stoi(argv[2]));
    if (argc == 3 && std::string(argv[1]) == "--hang-on-rank") {
        return hang_in_training(std::stoi(argv[2]));
    }
    try {
        test_broadcast();
        test_mismatch();
        test_buckets();
        test_training_paths();
        test_unused_parameters();
        test_second_backward_is_refused();
        test_sampler_shards();
        test_bounded_waits();
    } catch (const std::exception& e) {
        fmt::print(stderr, "rank {}: unexpected exception: {}\n", dist::rank(), e.what());
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (dist::rank() == 0) {
        fmt::print("dist_test: {} processes, {}\n", dist::size(),
                   total == 0 ? "all checks passed" : fmt::format("{} checks failed", total));
    }
    return total == 0 ? 0 : 1;
}
