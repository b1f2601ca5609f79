// loadModel() and the Predictor of the fused engine (onednn_net.hpp): no LibTorch; what the fused
// engine does not run goes to the loader src/model/torch registers (model_blob.hpp). Every tile
// runs on ONE OpenMP thread and up to `threads` tiles run at once (the TBB pipeline calls predict()
// from several threads), so a tile's probabilities come from the same single-threaded kernels
// whatever
// --threads is and the output bytes do not depend on the thread count (oneDNN partitions a
// convolution by its thread count, which changes the float summation order).
#include <omp.h>

#include <algorithm>
#include <thread>

#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"
#include "fieldseg/predictor.hpp"
#include "folded_weights.hpp"
#include "model_blob.hpp"
#include "onednn_net.hpp"

namespace fieldseg::model {
namespace {

class FusedPredictor : public Predictor {
 public:
  FusedPredictor(FoldedWeights weights, std::vector<std::string> bands, int concurrency)
      : net_(std::move(weights)),
        bands_(std::move(bands)),
        concurrency_(std::max(1, concurrency)) {}
  int maxConcurrency() const override { return concurrency_; }
  void releaseWorkspace() override { net_.releaseWorkspace(); }
  std::string kernels() const override { return net_.kernels(); }
  std::vector<std::string> inputBands() const override { return bands_; }

  std::vector<Raster<float>> predict(const std::vector<Raster<float>>& tiles) override {
    std::vector<Raster<float>> out;
    const int nb = static_cast<int>(bands_.size());
    for (const auto& t : tiles) {
      if (t.bands != nb)
        throw DataError("model: tile has " + std::to_string(t.bands) +
                        " bands, the model expects " + std::to_string(nb) +
                        ". Select the model's input bands before predicting.");
      if (t.rows != tiles[0].rows || t.cols != tiles[0].cols)
        throw DataError("model: tiles in one batch differ in size (" + std::to_string(t.rows) +
                        "x" + std::to_string(t.cols) + " vs " + std::to_string(tiles[0].rows) +
                        "x" + std::to_string(tiles[0].cols) + "). Batch equal-sized tiles only.");
    }
    oneOpenMpThread();
    for (const auto& t : tiles) {
      const size_t plane = static_cast<size_t>(t.rows) * t.cols;
      const bool masked = t.valid.size() == plane;
      std::vector<float> x(t.data.begin(), t.data.begin() + static_cast<long>(nb * plane));
      if (masked)  // invalid pixels are 0 whatever the caller left there
        for (int b = 0; b < nb; ++b)
          for (size_t k = 0; k < plane; ++k)
            if (!t.valid[k]) x[b * plane + k] = 0.f;
      // One tile per forward pass: a batch only multiplies the activations (one 640 px tile's
      // already exceed the L2 cache), and each tile's result then does not depend on the batch.
      Raster<float> r;  // the probabilities are moved in, not copied
      r.bands = 3;
      r.rows = t.rows;
      r.cols = t.cols;
      r.data = net_.predictProbabilities(x.data(), t.rows, t.cols);
      r.grid = t.grid;
      r.valid = masked ? t.valid : std::vector<std::uint8_t>(plane, 1);
      r.bandNames = {"extent", "boundary", "distance"};
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  OneDnnNet net_;
  std::vector<std::string> bands_;
  int concurrency_ = 1;

  // OpenMP keeps the thread count per calling thread: set it once in each thread that predicts
  // (TBB workers included).
  static void oneOpenMpThread() {
    thread_local bool done = false;
    if (!done) {
      omp_set_num_threads(1);
      done = true;
    }
  }
};

}  // namespace

std::unique_ptr<Predictor> fusedPredictor(const std::map<std::string, PlainTensor>& weights,
                                          const NetworkSpec& spec, const std::string& what,
                                          int threads, bool bf16) {
  return std::make_unique<FusedPredictor>(foldWeights(weights, spec, bf16, what), spec.inputBands,
                                          threads);
}

}  // namespace fieldseg::model

namespace fieldseg {

std::unique_ptr<Predictor> loadModel(const std::string& path, const ModelLoadOptions& options) {
  if (options.engine != "fused" && options.engine != "reference")
    throw UsageError("model: engine '" + options.engine + "' is not one of fused, reference.");
  const bool bf16 = resolvePrecision(options) == "bf16";
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  // The fused engine (the default on the CPU) needs only oneDNN; the reference engine, other
  // devices and version 1 weights (a LibTorch archive: a zip file) need LibTorch.
  if (options.device == "cpu" && options.engine == "fused") {
    model::ModelBlob blob = model::readModelBlob(path);
    const NetworkSpec spec = model::specFromCard(model::parseCard(blob, path), path);
    if (model::isTensorWeights(blob.weights) && model::OneDnnNet::available())
      return model::fusedPredictor(model::parseTensorWeights(blob.weights, path), spec, path,
                                   threads, bf16);
    if (!model::isTensorWeights(blob.weights) && blob.weights.rfind("PK", 0) != 0)
      throw DataError("model: cannot read the weights of '" + path +
                      "': the weights section is neither plain tensors nor a LibTorch archive. "
                      "The file is corrupt; re-copy or retrain it.");
  }
  if (model::TorchLoader loader = model::torchLoader()) return loader(path, options);
  throw UsageError("model: '" + path + "' with engine " + options.engine + " on device " +
                   options.device +
                   " needs LibTorch (the reference engine, a GPU or version 1 weights): run "
                   "`fieldseg-torch` instead of `fieldseg` (same arguments), or use the fused "
                   "engine on the CPU.");
}

}  // namespace fieldseg
