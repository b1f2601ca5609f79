// Plain-array image operations other components need (weak labels, synthetic scenes), so that
// OpenCV stays in src/post: an exact Euclidean distance transform, a square dilation and a
// Gaussian blur. Row-major planes of rows x cols.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace fieldseg::post {

/// d[i] = the exact Euclidean distance (pixels) from pixel i to the nearest pixel with bin == 0
/// (0 where bin[i] == 0): OpenCV's precise L2 transform.
void distanceToZero(const std::uint8_t* bin, int rows, int cols, std::vector<float>& d);

/// out[i] = max of in over the ksize x ksize square centred on i (ksize odd >= 1; pixels outside
/// the plane do not count).
void dilateSquare(const std::uint8_t* in, int rows, int cols, int ksize,
                  std::vector<std::uint8_t>& out);

/// Blurs `plane` in place with a Gaussian of `sigma` px over a ksize x ksize kernel (ksize odd),
/// reflecting at the edges (…cba|abc…, the edge pixel not repeated).
void gaussianBlurInPlace(float* plane, int rows, int cols, double sigma, int ksize);

}  // namespace fieldseg::post
