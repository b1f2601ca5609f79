// Test-time augmentation: a Predictor decorator that runs the wrapped predictor on flipped /
// rotated copies of every tile, maps each output back and averages them (as Fields of the Planet
// does with 8 transforms). The transforms are the symmetries of the square: 1 = none, 2 = identity
// and horizontal flip, 4 = those and their 180-degree rotations, 8 = all eight (square tiles only:
// delineate's tiles always are). The average is summed in a fixed order, so results do not depend
// on threads.
//
// Thread safety: as the wrapped predictor (maxConcurrency() is passed through). The wrapped
// predictor must outlive the decorator.
#pragma once

#include <memory>

#include "fieldseg/predictor.hpp"

namespace fieldseg {

/// Throws UsageError unless transforms is 1, 2, 4 or 8.
std::unique_ptr<Predictor> makeTtaPredictor(Predictor& inner, int transforms);

}  // namespace fieldseg
