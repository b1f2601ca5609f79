// Test-time augmentation (include/fieldseg/tta.hpp). Each transform is one index map
// (r, c) of the transformed tile -> (r0, c0) of the original; the same map reads the input and
// writes the output back, so every output lands exactly where its input pixel came from.
#include <string>

#include "fieldseg/error.hpp"
#include "fieldseg/tta.hpp"

namespace fieldseg {
namespace {

struct Transform {
  int quarterTurns = 0;  // 0..3
  bool flip = false;     // mirror columns after the rotation
};

// Source pixel of transformed pixel (r, c) for a rows x cols tile (rows == cols when odd turns).
inline void sourceOf(const Transform& t, int rows, int cols, int r, int c, int& r0, int& c0) {
  if (t.flip) c = cols - 1 - c;
  switch (t.quarterTurns) {
    case 0:
      r0 = r, c0 = c;
      break;
    case 1:
      r0 = c, c0 = cols - 1 - r;
      break;
    case 2:
      r0 = rows - 1 - r, c0 = cols - 1 - c;
      break;
    default:
      r0 = rows - 1 - c, c0 = r;
      break;
  }
}

class TtaPredictor : public Predictor {
 public:
  TtaPredictor(Predictor& inner, int transforms) : inner_(inner) {
    const Transform all[8] = {{0, false}, {0, true}, {2, false}, {2, true},
                              {1, false}, {1, true}, {3, false}, {3, true}};
    for (int i = 0; i < transforms; ++i) transforms_.push_back(all[i]);
  }
  std::vector<std::string> inputBands() const override { return inner_.inputBands(); }
  int maxConcurrency() const override { return inner_.maxConcurrency(); }
  void releaseWorkspace() override { inner_.releaseWorkspace(); }
  std::string kernels() const override { return inner_.kernels(); }

  std::vector<Raster<float>> predict(const std::vector<Raster<float>>& tiles) override {
    std::vector<Raster<float>> batch;
    batch.reserve(tiles.size() * transforms_.size());
    for (const auto& tile : tiles) {
      if (tile.rows != tile.cols && transforms_.size() > 4) {
        throw UsageError("tiles: 8 test-time transforms need square tiles, got " +
                         std::to_string(tile.rows) + " x " + std::to_string(tile.cols) +
                         ". Use --tta 4.");
      }
      for (const auto& t : transforms_) batch.push_back(apply(t, tile));
    }
    std::vector<Raster<float>> outs = inner_.predict(batch);
    if (outs.size() != batch.size())
      throw Error("tiles: predictor returned " + std::to_string(outs.size()) + " outputs for " +
                  std::to_string(batch.size()) + " tiles");
    std::vector<Raster<float>> result;
    result.reserve(tiles.size());
    const float w = 1.0f / static_cast<float>(transforms_.size());
    for (std::size_t i = 0; i < tiles.size(); ++i) {
      const Raster<float>& first = outs[i * transforms_.size()];
      Raster<float> acc(first.bands, tiles[i].rows, tiles[i].cols, 0.0f);
      acc.grid = tiles[i].grid;
      acc.valid = tiles[i].valid;
      acc.bandNames = first.bandNames;
      for (std::size_t k = 0; k < transforms_.size(); ++k)
        accumulate(transforms_[k], outs[i * transforms_.size() + k], acc, w);
      result.push_back(std::move(acc));
    }
    return result;
  }

 private:
  static Raster<float> apply(const Transform& t, const Raster<float>& in) {
    if (t.quarterTurns == 0 && !t.flip) return in;
    Raster<float> out(in.bands, in.rows, in.cols);
    out.grid = in.grid;
    out.bandNames = in.bandNames;
    for (int r = 0; r < in.rows; ++r)
      for (int c = 0; c < in.cols; ++c) {
        int r0, c0;
        sourceOf(t, in.rows, in.cols, r, c, r0, c0);
        for (int b = 0; b < in.bands; ++b) out.at(b, r, c) = in.at(b, r0, c0);
        out.valid[static_cast<size_t>(r) * in.cols + c] =
            in.valid[static_cast<size_t>(r0) * in.cols + c0];
      }
    return out;
  }
  static void accumulate(const Transform& t, const Raster<float>& out, Raster<float>& acc,
                         float w) {
    for (int r = 0; r < acc.rows; ++r)
      for (int c = 0; c < acc.cols; ++c) {
        int r0, c0;
        sourceOf(t, acc.rows, acc.cols, r, c, r0, c0);
        for (int b = 0; b < acc.bands; ++b) acc.at(b, r0, c0) += w * out.at(b, r, c);
      }
  }

  Predictor& inner_;
  std::vector<Transform> transforms_;
};

}  // namespace

std::unique_ptr<Predictor> makeTtaPredictor(Predictor& inner, int transforms) {
  if (transforms != 1 && transforms != 2 && transforms != 4 && transforms != 8) {
    throw UsageError("tiles: --tta " + std::to_string(transforms) +
                     " must be 1, 2, 4 or 8 (test-time transforms).");
  }
  return std::make_unique<TtaPredictor>(inner, transforms);
}

}  // namespace fieldseg
