#include "dist/fit.hpp"

#include "dist/dist.hpp"
#include "dist/mpi_detail.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace xgrad::dist {
namespace {

template <class T>
class MpiDataParallel final : public train::DataParallel {
public:
    explicit MpiDataParallel(DistributedDataParallel<T>& ddp)
        : ddp_(ddp), rank_(std::size_t(dist::rank())), size_(std::size_t(dist::size())) {}

    std::size_t rank() const override { return rank_; }
    std::size_t size() const override { return size_; }
    void synchronize_gradients() override { ddp_.synchronize(); }
    void sum(std::vector<double>& values) override {
        if (values.empty()) return;
        detail::allreduce(values.data(), int(values.size()), MPI_DOUBLE, MPI_SUM, "fit");
    }
    std::uint64_t broadcast(std::uint64_t value) override {
        detail::bcast(&value, 1, MPI_UINT64_T, 0, "fit");
        return value;
    }
    std::string state_prefix() const override { return "module."; }

private:
    DistributedDataParallel<T>& ddp_;
    std::size_t rank_, size_;
};

}  // namespace

template <class T>
std::shared_ptr<train::DataParallel> data_parallel(DistributedDataParallel<T>& ddp) {
    detail::require_initialized("data_parallel");
    return std::make_shared<MpiDataParallel<T>>(ddp);
}

template std::shared_ptr<train::DataParallel> data_parallel(DistributedDataParallel<float>&);
template std::shared_ptr<train::DataParallel> data_parallel(DistributedDataParallel<double>&);

}  // namespace xgrad::dist
