// Raster<T>: an owned bands x rows x cols buffer (band-major, row-major inside a band), the
// GridSpec of that buffer, and a per-pixel validity mask (1 = valid in every band, 0 = nodata /
// outside / masked). A plain value type; not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fieldseg/geo.hpp"

namespace fieldseg {

template <typename T>
struct Raster {
  int bands = 0;
  int rows = 0;
  int cols = 0;
  GridSpec grid;                    ///< grid of this buffer (its origin is the buffer's top-left)
  std::vector<T> data;              ///< size bands*rows*cols
  std::vector<std::uint8_t> valid;  ///< size rows*cols
  std::vector<std::string> bandNames;
  /// Readers that mask NaN/Inf values (GDAL sources) mark those pixels 1 here, so callers can
  /// count and report them; empty when the read met none.
  std::vector<std::uint8_t> nonFinite;

  Raster() = default;
  Raster(int b, int r, int c, T fill = T{})
      : bands(b),
        rows(r),
        cols(c),
        data(static_cast<size_t>(b) * r * c, fill),
        valid(static_cast<size_t>(r) * c, 1) {}

  size_t plane() const { return static_cast<size_t>(rows) * cols; }
  T& at(int b, int r, int c) { return data[b * plane() + static_cast<size_t>(r) * cols + c]; }
  const T& at(int b, int r, int c) const {
    return data[b * plane() + static_cast<size_t>(r) * cols + c];
  }
  T* band(int b) { return data.data() + b * plane(); }
  const T* band(int b) const { return data.data() + b * plane(); }
  bool isValid(int r, int c) const { return valid[static_cast<size_t>(r) * cols + c] != 0; }
};

}  // namespace fieldseg
