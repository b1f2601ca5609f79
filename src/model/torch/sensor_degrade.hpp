// Sensor degradations for training crops: a source model trained on sharp, clean imagery (NAIP at
// 1 m) meets a coarser, noisier sensor (PlanetScope at 4.8 m) after transfer. These make the
// source see that sensor's look: blur to a coarser point-spread function, per-band gain and gamma
// (other radiometry), haze, and additive noise. Applied on normalised values; invalid pixels
// (all bands 0) stay 0.
#pragma once

#include <torch/torch.h>

#include <random>

#include "fieldseg/trainer.hpp"

namespace fieldseg {
namespace model {

/// img: [C,H,W] normalised; returns the degraded image (a new tensor when anything applied).
/// All draws come from rng, so a seed reproduces the run. A no-op when every degradation is off.
torch::Tensor degradeSensor(torch::Tensor img, const AugmentConfig& a, std::mt19937_64& rng);

/// Separable Gaussian blur of every band, replicate padding; sigma in pixels (> 0).
torch::Tensor gaussianBlurBands(const torch::Tensor& img, double sigmaPx);

}  // namespace model
}  // namespace fieldseg
