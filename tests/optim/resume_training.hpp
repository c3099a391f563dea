#pragma once

// The training run of the resume test (tests/optim/test_resume.cpp), shared with the program
// that runs its halves in processes of their own (tests/helpers/resume_helper.cpp): a small MLP
// on fixed data, one batch per step, trained by SGD with momentum (two parameter groups, weight
// decay on the weights only, StepLR stepped per batch) or by Adam (the same groups, OneCycleLR
// stepped per batch, which also cycles beta1).

#include "autograd/ops/index.hpp"
#include "autograd/random.hpp"
#include "nn/activation.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/sequential.hpp"
#include "optim/adam.hpp"
#include "optim/schedule.hpp"
#include "optim/sgd.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace resume_training {

using namespace xgrad;

/// Everything a run holds: model, optimizer, schedule, data.
struct Run {
    nn::Sequential<float> model;
    std::unique_ptr<optim::Optimizer<float>> optimizer;
    std::unique_ptr<optim::LRScheduler<float>> schedule;
    Tensor<float> x, y;  // [32, 3], [32, 1]: four batches of 8

    /// A fresh run: the model initialised from `seed`, the data always the same.
    /// `kind` is "sgd" or "adam".
    Run(const std::string& kind, std::uint64_t seed) {
        manual_seed(1234);
        x = randn<float>({32, 3});
        y = randn<float>({32, 1});
        manual_seed(seed);
        model.add(nn::Linear<float>(3, 8));
        model.add(nn::Tanh<float>());
        model.add(nn::Linear<float>(8, 1));
        std::vector<Tensor<float>> weights, biases;
        for (const auto& [name, p] : model.named_parameters())
            (name.find("bias") != std::string::npos ? biases : weights).push_back(p);
        if (kind == "sgd") {
            const auto defaults = optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-3);
            auto sgd = std::make_unique<optim::SGD<float>>(
                std::vector<optim::SGD<float>::Group>{
                    {weights}, {biases, optim::SGDOptions(defaults).weight_decay(0).lr(0.1)}},
                defaults);
            schedule = std::make_unique<optim::StepLR<float>>(*sgd, 3, 0.5);
            optimizer = std::move(sgd);
        } else {
            const auto defaults = optim::AdamOptions(1e-2).weight_decay(1e-3);
            auto adam = std::make_unique<optim::Adam<float>>(
                std::vector<optim::Adam<float>::Group>{
                    {weights}, {biases, optim::AdamOptions(defaults).weight_decay(0)}},
                defaults);
            schedule = std::make_unique<optim::OneCycleLR<float>>(
                *adam, optim::OneCycleLROptions({0.05, 0.02}, 20));
            optimizer = std::move(adam);
        }
    }

    /// Training steps [from, to): batch `step % 4`, optimizer step, schedule step.
    void train(int from, int to) {
        for (int step = from; step < to; ++step) {
            const std::ptrdiff_t b = (step % 4) * 8;
            optimizer->zero_grad();
            auto loss = nn::mse_loss(model(narrow(x, 0, b, 8)), narrow(y, 0, b, 8));
            loss.backward();
            optimizer->step();
            schedule->step();
        }
    }

    void save(const std::string& dir) const {
        model.save(dir + "/model.npz");
        optimizer->save(dir + "/optimizer.npz");
        schedule->save(dir + "/schedule.npz");
    }
    void load(const std::string& dir) {
        model.load(dir + "/model.npz");
        optimizer->load(dir + "/optimizer.npz");
        schedule->load(dir + "/schedule.npz");
    }
};

}  // namespace resume_training
