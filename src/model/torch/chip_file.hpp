// Reading one training chip (image or label raster) into a [bands, H, W] float tensor.
// Internal to src/model. Two formats:
// - any raster GDAL reads (what `fieldseg labels --chips` writes), through openRaster;
// - `.fsc`, the fieldseg raw chip (tools/device/pack_chips.py writes it), which needs no GDAL so
//   the trainer can run on a machine that has only LibTorch (a GPU box, tools/device/README.md):
//   "FSGCHIP1" | u32 header length | header JSON {"rows", "cols", "dtype": "u8"|"u16"|"f32",
//   "bands": [names], "scale": [one factor per band]} | band-sequential little-endian values.
//   Value = stored x scale. Invalid pixels are 0 in every band (as in GeoTIFF chips).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fieldseg::model {

/// names (optional) receives the lower-cased band descriptions (or names); valid (optional) the
/// per-pixel validity (all 1 for .fsc). Throws IoError / DataError.
torch::Tensor readChipTensor(const std::string& path, std::vector<std::string>* names,
                             std::vector<std::uint8_t>* valid);

}  // namespace fieldseg::model
