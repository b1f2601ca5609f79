// The LibTorch side of the model file: ResUNet weights to and from the weights section
// (model_blob.hpp), and the Predictor for what the fused engine does not run (the reference
// engine, other devices, version 1 weights), registered with loadModel by enableTorchModels().
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"
#include "model_blob.hpp"
#include "net.hpp"

namespace fieldseg {
namespace model {

std::string saveWeights(ResUNet& net) {
  std::vector<std::pair<std::string, torch::Tensor>> all;
  for (const auto& p : net->named_parameters(true)) all.emplace_back(p.key(), p.value());
  for (const auto& b : net->named_buffers(true)) all.emplace_back(b.key(), b.value());
  std::vector<std::pair<std::string, PlainTensor>> plain;
  for (const auto& [name, value] : all) {
    PlainTensor p;
    p.isInt = value.scalar_type() == torch::kInt64;
    torch::Tensor t =
        value.detach().to(torch::kCPU, p.isInt ? torch::kInt64 : torch::kFloat32).contiguous();
    for (int64_t d = 0; d < t.dim(); ++d) p.sizes.push_back(t.size(d));
    if (p.isInt)
      p.ints.assign(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
    else
      p.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    plain.emplace_back(name, std::move(p));
  }
  return tensorWeights(plain);
}

namespace {

void loadTensorWeights(ResUNet& net, const std::string& weights, const std::string& what) {
  const std::map<std::string, PlainTensor> stored = parseTensorWeights(weights, what);
  auto bad = [&](const std::string& why) {
    return DataError(
        "model: cannot read the weights of '" + what + "': " + why +
        ". The file is corrupt or does not match its card's architecture; retrain it.");
  };
  torch::NoGradGuard noGrad;
  size_t used = 0;
  auto assign = [&](const std::string& name, torch::Tensor& dst) {
    auto it = stored.find(name);
    if (it == stored.end()) throw bad("tensor '" + name + "' is missing");
    const PlainTensor& t = it->second;
    if (t.sizes != dst.sizes().vec()) throw bad("tensor '" + name + "' has another shape");
    torch::Tensor src =
        t.isInt ? torch::from_blob(const_cast<int64_t*>(t.ints.data()), t.sizes, torch::kInt64)
                : torch::from_blob(const_cast<float*>(t.values.data()), t.sizes, torch::kFloat32);
    dst.copy_(src);
    ++used;
  };
  for (auto& p : net->named_parameters(true)) assign(p.key(), p.value());
  for (auto& b : net->named_buffers(true)) assign(b.key(), b.value());
  if (used != stored.size()) throw bad("it holds tensors the network does not have");
}

}  // namespace

void loadWeights(ResUNet& net, const std::string& weights, const std::string& what) {
  if (isTensorWeights(weights)) return loadTensorWeights(net, weights, what);
  try {
    std::istringstream ss(weights, std::ios::binary);
    torch::serialize::InputArchive archive;
    archive.load_from(ss);
    net->load(archive);
  } catch (const c10::Error& e) {
    throw DataError("model: cannot read the weights of '" + what +
                    "': " + std::string(e.what_without_backtrace()) +
                    ". The file does not match its card's architecture; retrain it.");
  }
}

ResUNet loadNetwork(const std::string& path, nlohmann::json* cardOut) {
  ModelBlob blob = readModelBlob(path);
  nlohmann::json card = parseCard(blob, path);
  NetworkSpec spec = specFromCard(card, path);
  ResUNet net(spec);
  loadWeights(net, blob.weights, path);
  net->eval();
  if (cardOut) *cardOut = std::move(card);
  return net;
}

namespace {

// Inference through the network. On the CPU every tile runs on ONE intra-op thread and up to
// `concurrency` tiles run at once (the TBB pipeline calls predict() from several threads): a tile's
// probabilities then come from the same single-threaded kernels whatever --threads is, so the
// output bytes do not depend on the thread count (oneDNN partitions a convolution by its thread
// count, which changes the float summation order). On other devices calls take a mutex.
class TorchPredictor : public Predictor {
 public:
  TorchPredictor(ResUNet net, torch::Device device, int concurrency, bool bf16)
      : net_(std::move(net)), device_(device), concurrency_(std::max(1, concurrency)) {
    net_->to(device_);
    net_->eval();
    // On the CPU, inference runs through the folded channels_last copy (see FoldedResUNet); net_
    // stays for other devices.
    if (device_.is_cpu()) folded_.emplace(net_, bf16 ? torch::kBFloat16 : torch::kFloat32);
  }
  int maxConcurrency() const override { return folded_ ? concurrency_ : 1; }
  std::vector<std::string> inputBands() const override { return net_->spec.inputBands; }

  std::vector<Raster<float>> predict(const std::vector<Raster<float>>& tiles) override {
    std::vector<Raster<float>> out;
    if (tiles.empty()) return out;
    const int nb = static_cast<int>(net_->spec.inputBands.size());
    const int rows = tiles[0].rows, cols = tiles[0].cols;
    for (const auto& t : tiles) {
      if (t.bands != nb)
        throw DataError("model: tile has " + std::to_string(t.bands) +
                        " bands, the model expects " + std::to_string(nb) +
                        ". Select the model's input bands before predicting.");
      if (t.rows != rows || t.cols != cols)
        throw DataError("model: tiles in one batch differ in size (" + std::to_string(t.rows) +
                        "x" + std::to_string(t.cols) + " vs " + std::to_string(rows) + "x" +
                        std::to_string(cols) + "). Batch equal-sized tiles only.");
    }
    std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
    if (!folded_) lock.lock();
    if (folded_) singleIntraOpThread();
    c10::InferenceMode guard;
    const int64_t n = static_cast<int64_t>(tiles.size());
    const size_t plane = static_cast<size_t>(rows) * cols;
    torch::Tensor x = torch::empty({n, nb, rows, cols}, torch::kFloat32);
    float* px = x.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      const auto& t = tiles[i];
      float* dst = px + i * nb * plane;
      std::memcpy(dst, t.data.data(), sizeof(float) * nb * plane);
      if (t.valid.size() == plane)  // invalid pixels are 0 whatever the caller left there
        for (int b = 0; b < nb; ++b)
          for (size_t k = 0; k < plane; ++k)
            if (!t.valid[k]) dst[b * plane + k] = 0.f;
    }
    torch::Tensor prob;
    try {
      if (folded_) {
        // One tile per forward pass: a batch only multiplies the activations (one 640 px tile's
        // already exceed the L2 cache) and ran slower per tile at batch 4 (src/model/README.md,
        // "Inference speed"). Each tile's result then does not depend on the batch either.
        prob = torch::empty({n, 3, rows, cols}, torch::kFloat32);
        for (int64_t i = 0; i < n; ++i)
          prob[i].copy_(folded_->predictProbabilities(x.narrow(0, i, 1))[0]);
      } else {
        prob = predictProbabilities(net_, x.to(device_)).to(torch::kCPU).contiguous();
      }
    } catch (const c10::Error& e) {
      throw Error("model: inference failed on a " + std::to_string(n) + "x" + std::to_string(rows) +
                  "x" + std::to_string(cols) + " batch: " + e.what_without_backtrace() +
                  ". Use smaller tiles or batches.");
    }
    const float* pp = prob.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      Raster<float> r(3, rows, cols);
      r.grid = tiles[i].grid;
      r.valid =
          tiles[i].valid.size() == plane ? tiles[i].valid : std::vector<std::uint8_t>(plane, 1);
      r.bandNames = {"extent", "boundary", "distance"};
      std::memcpy(r.data.data(), pp + i * 3 * plane, sizeof(float) * 3 * plane);
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  ResUNet net_;
  std::optional<FoldedResUNet> folded_;
  torch::Device device_;
  int concurrency_ = 1;
  std::mutex mutex_;

  // LibTorch/OpenMP keep the intra-op thread count per calling thread: set it once in each thread
  // that predicts (TBB workers included).
  static void singleIntraOpThread() {
    thread_local bool done = false;
    if (!done) {
      at::set_num_threads(1);
      done = true;
    }
  }
};

std::unique_ptr<Predictor> loadTorchModel(const std::string& path,
                                          const ModelLoadOptions& options) {
  torch::Device device = parseDevice(options.device);
  const bool bf16 = resolvePrecision(options) == "bf16";
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  // CPU: one intra-op thread per tile, `threads` tiles at once (see TorchPredictor).
  setThreads(device.is_cpu() ? 1 : threads);
  // Here on the CPU for the reference engine, and for version 1 weights (a LibTorch archive),
  // which run on the reference engine whatever engine was asked for.
  ResUNet net = loadNetwork(path);
  return std::make_unique<TorchPredictor>(std::move(net), device, threads, bf16);
}

}  // namespace
}  // namespace model

void enableTorchModels() { model::setTorchLoader(&model::loadTorchModel); }

}  // namespace fieldseg
