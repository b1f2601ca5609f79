// Test networks for the inference engines (tests/unit/model): a ResUNet whose batch norms are far
// from the identity (random affine terms and running statistics), so a wrong fold or a wrong
// fused layer cannot hide behind mean 0 / variance 1.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "net.hpp"

namespace fieldseg::test {

inline model::ResUNet randomisedNet(const NetworkSpec& spec, std::uint64_t seed) {
  torch::manual_seed(seed);
  model::ResUNet net(spec);
  torch::NoGradGuard g;
  for (auto& m : net->modules(false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.3, 0.3);
      bn->running_mean.uniform_(-0.5, 0.5);
      bn->running_var.uniform_(0.2, 2.0);
    }
  }
  net->eval();
  return net;
}

inline double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace fieldseg::test
