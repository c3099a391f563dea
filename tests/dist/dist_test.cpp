// The dist/ layer under mpirun (ctest runs it as dist_np2 and dist_np3, tests/CMakeLists.txt):
//   mpirun --oversubscribe -np N build/tests/dist_test
// Every process runs every check; a failing check prints its rank, line and values, and the
// program exits 1 on every process when any check failed anywhere. Training checks use double
// precision, where the paths differ only in the order of summation: they must agree to 1e-10
// relative (float: 1e-5).

#include "dist/dist.hpp"
#include "autograd/errors.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "autograd/shape.hpp"
#include "autograd/tensor.hpp"
#include "dist/ddp.hpp"
#include "dist/fit.hpp"
#include "dist/sampler.hpp"
#include "dist/sync_batch_norm.hpp"
#include "nn/activation.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/norm.hpp"
#include "nn/sequential.hpp"
#include "optim/sgd.hpp"
#include "train/fit.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
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

// The message of the E that f() throws; empty when it throws nothing.
template <class E = Error, class F>
std::string message_of(F f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return {};
}

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
    const std::string what = message_of<ValueError>([&] { dist::broadcast_parameters(fc); });
    const std::string expected =
        "broadcast_parameters: the model on rank 1 differs from the one on rank 0 (root) at "
        "entry 0: rank 1 has parameter 'weight' float [5, 4], rank 0 has parameter 'weight' "
        "float [3, 4]; every process must build the same model";
    EXPECT(what == expected, "got '{}'", what);

    // Rank 2 (or 1) has one more layer: root has nothing there.
    nn::Sequential<float> seq;
    seq.add(nn::Linear<float>(2, 2));
    if (dist::rank() == dist::size() - 1) seq.add(nn::Linear<float>(2, 2));
    const std::string what2 = message_of<ValueError>([&] { dist::broadcast_parameters(seq); });
    EXPECT(what2.find(fmt::format("rank {} has parameter '1.weight' float [2, 2], rank 0 has "
                                  "nothing (fewer entries)",
                                  dist::size() - 1)) != std::string::npos,
           "got '{}'", what2);
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
    const std::string what = message_of([&] { nn::mse_loss(ddp(x), y).backward(); });
    EXPECT(what.find("distributed_data_parallel: a second gradient of parameter") == 0, "'{}'",
           what);
    ddp.synchronize();  // still usable
    EXPECT(ddp.started_buckets() == 0, "{}", ddp.started_buckets());
}

// Gradient accumulation: 3 micro-batches of 6 rows, the first two backward calls under
// no_sync(). Every process ends with the sum over micro-batches of the gradients of the whole
// micro-batches, as one process accumulating them; nothing travels under no_sync(). Then the
// second step, without zero_grad, adds to it as on one process.
void test_no_sync() {
    const std::vector<std::vector<std::size_t>> micro{
        {0, 1, 2, 3, 4, 5}, {6, 7, 8, 9, 10, 11}, {3, 4, 5, 6, 7, 8}};
    const auto n = std::size_t(dist::size()), r = std::size_t(dist::rank());
    auto shard = [&](const std::vector<std::size_t>& rows) {  // 6 / n rows of this process
        std::vector<std::size_t> mine;
        for (std::size_t i = r; i < rows.size(); i += n)
            mine.push_back(rows[i]);
        return mine;
    };
    auto grads = [](const nn::Module<double>& m) {
        std::vector<double> out;
        for (const auto& p : m.parameters())
            out.insert(out.end(), p.grad().value().begin(), p.grad().value().end());
        return out;
    };
    auto single = mlp<double>(7);
    for (int step = 0; step < 2; ++step) {
        for (const auto& rows : micro) {
            const auto [x, y] = batch<double>(rows);
            nn::mse_loss((*single)(x), y).backward();
        }
    }
    auto model = mlp<double>(7);
    dist::DistributedDataParallel<double> ddp(model);
    std::vector<double> after_one;
    for (int step = 0; step < 2; ++step) {
        {
            auto guard = ddp.no_sync();
            EXPECT(ddp.sync_paused(), "no_sync() did not pause");
            for (std::size_t m = 0; m + 1 < micro.size(); ++m) {
                const auto [x, y] = batch<double>(shard(micro[m]));
                nn::mse_loss(ddp(x), y).backward();
                EXPECT(ddp.started_buckets() == 0, "{} buckets started under no_sync()",
                       ddp.started_buckets());
            }
            const std::string what = message_of([&] { ddp.synchronize(); });
            EXPECT(
                what.find("distributed_data_parallel::synchronize: called inside no_sync()") == 0,
                "'{}'", what);
        }
        EXPECT(!ddp.sync_paused(), "the guard did not restore");
        const auto [x, y] = batch<double>(shard(micro.back()));
        nn::mse_loss(ddp(x), y).backward();
        EXPECT(ddp.started_buckets() == ddp.buckets().size(), "{}", ddp.started_buckets());
        ddp.synchronize();
        if (step == 0) after_one = grads(*model);
    }
    EXPECT(same_everywhere(grads(*model)), "the processes' gradients differ");
    EXPECT(max_rel_diff(grads(*model), grads(*single)) < 1e-10, "no_sync vs single: {}",
           max_rel_diff(grads(*model), grads(*single)));
    EXPECT(max_rel_diff(after_one, grads(*model)) > 1e-3, "the second step added nothing");
    // no_sync() once this step's gradients are on their way is refused.
    model->zero_grad();
    const auto [x, y] = batch<double>(shard(micro[0]));
    nn::mse_loss(ddp(x), y).backward();
    const std::string what = message_of([&] { auto guard = ddp.no_sync(); });
    EXPECT(what.find("distributed_data_parallel::no_sync: gradients of this step are already "
                     "being reduced") == 0,
           "'{}'", what);
    ddp.synchronize();
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
    const std::string what =
        message_of<ValueError>([&] { dist::set_timeout(std::chrono::milliseconds(-1)); });
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

// ---- all_sum and synchronised batch norm ----

void test_all_sum() {
    const double r = dist::rank(), p = dist::size();
    const Tensor<double> x = scalar(r + 1, true);
    const Tensor<double> y = dist::all_sum(x);
    EXPECT(y.item() == p * (p + 1) / 2, "{}", y.item());
    // L_q = (q + 1)·y on process q; ∂(Σ_q L_q)/∂x_p = Σ_q (q + 1).
    (y * (r + 1)).backward();
    EXPECT(x.grad().item() == p * (p + 1) / 2, "{}", x.grad().item());
    // The shared harness, every process in step: each perturbs the same element of its own x
    // at the same time, so the function checked is x ↦ all_sum(x) = size()·x on a replicated x,
    // whose Jacobian the VJP (all_sum of the incoming gradients) must give: size()·I. A VJP that
    // returned g alone would give I.
    manual_seed(9);
    const Tensor<double> v = randn<double>({2, 3}, 0.0, 1.0, true);
    const auto fn = [](const std::vector<Tensor<double>>& in) { return dist::all_sum(in[0]); };
    const GradcheckResult first = gradcheck(fn, {v});
    EXPECT(first.ok, "{}", first.message);
    const GradcheckResult second = gradgradcheck(fn, {v});
    EXPECT(second.ok, "{}", second.message);
    const Tensor<double> odd = zeros<double>({dist::rank() == 1 ? 3u : 2u});
    bool refused = false;
    try {
        dist::all_sum(odd);
    } catch (const ShapeError& e) {
        refused = std::string(e.what()).find("from 2 to 3 elements") != std::string::npos;
    }
    EXPECT(refused, "all_sum of different sizes was not refused on rank {}", dist::rank());
}

// A 4-6-3 MLP with BatchNorm1d after the first layer, 5 SGD steps on the fixed batch: alone on
// all 12 rows, or on every process's shard with DistributedDataParallel and (sync) the batch
// norm synchronised. Returns the parameters and the running statistics.
std::vector<double> train_batch_norm(bool distributed, bool sync) {
    manual_seed(distributed ? 200 + std::uint64_t(dist::rank()) : 200);
    auto model = std::make_shared<nn::Sequential<double>>();
    model->add(nn::Linear<double>(4, 6));
    model->add(nn::BatchNorm1d<double>(nn::BatchNormOptions(6)));
    model->add(nn::Tanh<double>());
    model->add(nn::Linear<double>(6, 3));
    if (sync) EXPECT(dist::convert_sync_batch_norm(*model) == 1, "one layer to convert");
    std::shared_ptr<dist::DistributedDataParallel<double>> ddp;
    if (distributed) ddp = std::make_shared<dist::DistributedDataParallel<double>>(model);
    optim::SGD<double> opt(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    dist::DistributedSampler sampler(dist::DistributedSamplerOptions().seed(3));
    for (int step = 0; step < 5; ++step) {
        sampler.set_epoch(std::uint64_t(step));
        std::mt19937_64 unused;
        const auto [x, y] = batch<double>(distributed ? sampler.indices(12, unused) : all_rows());
        opt.zero_grad();
        nn::mse_loss(ddp ? (*ddp)(x) : (*model)(x), y).backward();
        if (ddp) ddp->synchronize();
        opt.step();
    }
    // Evaluation uses the running statistics and no collective: process 0 alone runs it.
    model->eval();
    if (dist::rank() == 0) (*model)(batch<double>({0, 1}).first);
    model->train();
    return flat_state(*model);
}

void test_sync_batch_norm() {
    const std::vector<double> one = train_batch_norm(false, false);
    const std::vector<double> synced = train_batch_norm(true, true);
    const std::vector<double> local = train_batch_norm(true, false);
    // Synchronised: the statistics of the whole batch, so the run of one process on it.
    EXPECT(max_rel_diff(synced, one) < 1e-10, "{}", max_rel_diff(synced, one));
    EXPECT(same_everywhere(synced), "synchronised batch norm left the processes apart");
    // Per process (the default): another run, and running statistics that differ by process.
    EXPECT(max_rel_diff(local, one) > 1e-6, "{}", max_rel_diff(local, one));
    EXPECT(!same_everywhere(local), "local batch norm statistics agree on every process");
}

// ---- train::fit on several processes ----

// One process alone, through the DataParallel interface (fit's reference run).
class Alone final : public train::DataParallel {
public:
    std::size_t rank() const override { return 0; }
    std::size_t size() const override { return 1; }
    void synchronize_gradients() override {}
    void sum(std::vector<double>& /*values*/) override {}
    std::uint64_t broadcast(std::uint64_t value) override { return value; }
};

// Examples rows [first, first + n) of the formula batch() uses, as a Dataset.
nn::Dataset<double> dataset(std::size_t first, std::size_t n) {
    std::vector<std::size_t> rows(n);
    for (std::size_t i = 0; i < n; ++i)
        rows[i] = first + i;
    const auto [x, y] = batch<double>(rows);
    return {x.value(), y.value()};
}

train::LossFn<double> mse() {
    return [](const Tensor<double>& y, const Tensor<double>& t) { return nn::mse_loss(y, t); };
}

struct FitRun {
    std::vector<double> weights;
    train::History history;
};

// fit() for `epochs` epochs on 24 training and 10 validation examples: on every process with a
// DistributedDataParallel model and batch 4 per process (distributed), or on this process alone
// with the combined batch 4·size() (not distributed). interrupt_after > 0 throws from
// on_epoch_end after that epoch (a crash: the backup stays).
FitRun fit_run(bool distributed, std::size_t epochs, const std::string& backup = "",
               std::size_t interrupt_after = 0, std::ostream* out = nullptr) {
    const std::size_t p = std::size_t(dist::size());
    auto model = mlp<double>(distributed ? 100 + std::uint64_t(dist::rank()) : 100);
    std::shared_ptr<dist::DistributedDataParallel<double>> ddp;
    if (distributed) ddp = std::make_shared<dist::DistributedDataParallel<double>>(model);
    nn::Module<double>& trained = ddp ? static_cast<nn::Module<double>&>(*ddp) : *model;
    optim::SGD<double> opt(model->parameters(), optim::SGDOptions(0.05).momentum(0.9));
    std::ostringstream quiet;
    auto options = train::FitOptions(epochs)
                       .batch_size(distributed ? 4 : 4 * p)
                       .seed(5)
                       .accuracy(false)
                       .progress(out ? train::Progress::lines : train::Progress::none)
                       .output(out ? *out : quiet)
                       .backup(backup);
    if (ddp)
        options.data_parallel(dist::data_parallel(*ddp));
    else if (backup.empty())
        options.data_parallel(std::make_shared<Alone>());
    if (interrupt_after > 0) {
        options.on_epoch_end([interrupt_after](std::size_t epoch, const train::History&) {
            if (epoch == interrupt_after) throw std::runtime_error("interrupted");
        });
    }
    FitRun r;
    r.history = train::fit(trained, opt, mse(), dataset(0, 24), dataset(100, 10), options);
    r.weights = flat_state(*model);
    return r;
}

void test_fit_equals_one_process() {
    std::ostringstream printed;
    const FitRun d = fit_run(true, 3, "", 0, &printed);
    const FitRun one = fit_run(false, 3);
    EXPECT(same_everywhere(d.weights), "the processes' weights differ after fit");
    EXPECT(max_rel_diff(d.weights, one.weights) < 1e-10, "{}",
           max_rel_diff(d.weights, one.weights));
    EXPECT(d.history.epochs() == 3, "{}", d.history.epochs());
    // The epoch's values are over every process's shard: those of the one process.
    EXPECT(max_rel_diff(d.history.loss, one.history.loss) < 1e-10, "{}",
           max_rel_diff(d.history.loss, one.history.loss));
    EXPECT(max_rel_diff(d.history.val_loss, one.history.val_loss) < 1e-10, "{}",
           max_rel_diff(d.history.val_loss, one.history.val_loss));
    EXPECT(same_everywhere(d.history.val_loss), "val_loss differs between processes");
    // Process 0 alone prints.
    const bool printed_here = !printed.str().empty();
    EXPECT(printed_here == (dist::rank() == 0), "rank {} printed {} characters", dist::rank(),
           printed.str().size());
}

// Run until epoch 2's backup, "crash", then resume: on every process, and on process 0 alone
// with the combined batch. Both end where 4 uninterrupted epochs end.
void test_fit_backup_resumes() {
    const std::string path = fmt::format("dist_test_backup_np{}.npz", dist::size());
    const FitRun straight = fit_run(true, 4);
    for (const bool resume_distributed : {true, false}) {
        if (dist::rank() == 0) std::remove(path.c_str());
        dist::barrier();
        bool interrupted = false;
        try {
            fit_run(true, 4, path, 2);
        } catch (const std::runtime_error& e) {
            interrupted = std::string(e.what()) == "interrupted";
        }
        EXPECT(interrupted, "on_epoch_end's exception did not leave fit()");
        EXPECT(std::ifstream(path).good(), "no backup after the interruption");
        dist::barrier();
        if (resume_distributed || dist::rank() == 0) {
            std::ostringstream printed;
            const FitRun resumed = fit_run(resume_distributed, 4, path, 0, &printed);
            EXPECT(max_rel_diff(resumed.weights, straight.weights) < 1e-10,
                   "resumed on {} processes: {}", resume_distributed ? dist::size() : 1,
                   max_rel_diff(resumed.weights, straight.weights));
            EXPECT(resumed.history.epochs() == 4, "{}", resumed.history.epochs());
            EXPECT(max_rel_diff(resumed.history.loss, straight.history.loss) < 1e-10, "{}",
                   max_rel_diff(resumed.history.loss, straight.history.loss));
            if (dist::rank() == 0) {
                EXPECT(printed.str().find("Resuming from the backup") != std::string::npos, "{}",
                       printed.str());
            }
        }
        dist::barrier();
        EXPECT(!std::ifstream(path).good(), "the backup is still there after fit() ended");
    }
}

// A NaN loss on one process stops every process at the same batch.
void test_fit_nan_on_one_process() {
    auto model = mlp<double>(100);
    dist::DistributedDataParallel<double> ddp(model);
    optim::SGD<double> opt(model->parameters(), optim::SGDOptions(0.05));
    std::size_t calls = 0;
    const train::LossFn<double> loss = [&calls](const Tensor<double>& y, const Tensor<double>& t) {
        ++calls;
        Tensor<double> l = nn::mse_loss(y, t);
        if (dist::rank() == 1 && calls == 4) l = l * Tensor<double>(xt::xarray<double>(NAN));
        return l;
    };
    std::ostringstream quiet;
    const train::History h = train::fit(
        ddp, opt, loss, dataset(0, 24),
        train::FitOptions(3).batch_size(4).seed(5).accuracy(false).output(quiet).data_parallel(
            dist::data_parallel(ddp)));
    EXPECT(h.stopped_on_nan, "rank {} did not stop", dist::rank());
    EXPECT(h.epochs() == 2, "{}", h.epochs());
    EXPECT(same_everywhere(flat_state(*model)), "the weights differ after the NaN stop");
}

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
        test_no_sync();
        test_sampler_shards();
        test_all_sum();
        test_sync_batch_norm();
        test_fit_equals_one_process();
        test_fit_backup_resumes();
        test_fit_nan_on_one_process();
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
