// The model file (one file: magic header, JSON card, LibTorch weights) and the Predictor behind
// loadModel(). Little-endian fixed-width lengths so files move between hosts.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"
#include "fieldseg/temp_files.hpp"
#include "net.hpp"
#include "onednn_net.hpp"

namespace fieldseg {
namespace model {
namespace {

constexpr char kMagic[8] = {'F', 'S', 'G', 'M', 'O', 'D', 'E', 'L'};
// Version 2 stores the weights as plain tensors (see saveWeights); version 1 files still load.
constexpr std::uint32_t kFormatVersion = 2;
constexpr std::uint32_t kOldestReadable = 1;
constexpr char kTensorMagic[8] = {'F', 'S', 'G', 'T', 'E', 'N', 'S', '1'};
// Refuse absurd lengths from corrupt headers before allocating.
constexpr std::uint64_t kMaxSection = 1ull << 32;

void putU64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool readU64(std::istream& in, std::uint64_t& v) {
  unsigned char b[8];
  if (!in.read(reinterpret_cast<char*>(b), 8)) return false;
  v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
  return true;
}

}  // namespace

ModelBlob readModelBlob(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw IoError("model: cannot open model '" + path + "': no such file or not readable. " +
                  "Check the path (models/ holds the shipped ones).");
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0)
    throw DataError("model: '" + path + "' is not a fieldseg model file: bad magic header. " +
                    "Pass a file written by `fieldseg train`.");
  unsigned char vb[4];
  if (!in.read(reinterpret_cast<char*>(vb), 4))
    throw DataError("model: truncated model file '" + path + "'. Re-copy or retrain it.");
  std::uint32_t version =
      vb[0] | (vb[1] << 8) | (vb[2] << 16) | (static_cast<std::uint32_t>(vb[3]) << 24);
  if (version < kOldestReadable || version > kFormatVersion)
    throw DataError("model: model file '" + path + "' has format version " +
                    std::to_string(version) + ", this fieldseg reads versions " +
                    std::to_string(kOldestReadable) + " to " + std::to_string(kFormatVersion) +
                    ". Use a matching fieldseg.");
  // A section may not declare more bytes than the file has left: a corrupt or hostile length must
  // not allocate before the read fails.
  const std::streamoff here = in.tellg();
  in.seekg(0, std::ios::end);
  const std::streamoff fileSize = in.tellg();
  in.seekg(here);
  ModelBlob blob;
  for (std::string* section : {&blob.card, &blob.weights}) {
    std::uint64_t n = 0;
    if (!readU64(in, n) || n > kMaxSection)
      throw DataError("model: truncated or corrupt model file '" + path +
                      "'. Re-copy or retrain it.");
    const std::streamoff left = fileSize - in.tellg();
    if (left < 0 || n > static_cast<std::uint64_t>(left))
      throw DataError("model: truncated model file '" + path + "': a section declares " +
                      std::to_string(n) + " bytes, " + std::to_string(left < 0 ? 0 : left) +
                      " are left. Re-copy or retrain it.");
    section->resize(n);
    if (n > 0 && !in.read(section->data(), static_cast<std::streamsize>(n)))
      throw DataError("model: truncated model file '" + path + "'. Re-copy or retrain it.");
  }
  return blob;
}

void writeModelBlob(const std::string& path, const ModelBlob& blob) {
  std::string head(kMagic, 8);
  for (int i = 0; i < 4; ++i) head.push_back(static_cast<char>((kFormatVersion >> (8 * i)) & 0xff));
  putU64(head, blob.card.size());
  std::string n;
  putU64(n, blob.weights.size());
  // One buffer, one atomic write (temp sibling, fsync, rename): a failed or killed write never
  // leaves a truncated model under `path`.
  writeFileAtomically(path, head + blob.card + n + blob.weights);
}

// Weights section, format version 2: "FSGTENS1" | u64 count | per tensor: u64 name length, name,
// u8 dtype (0 = float32, 1 = int64), u64 rank, rank x i64 sizes, raw little-endian values. It
// depends on no LibTorch serialisation, so a model trained with any LibTorch (a CUDA build on
// another machine, say) loads in any other. Version 1 files hold a torch::serialize archive.
std::string saveWeights(ResUNet& net) {
  std::vector<std::pair<std::string, torch::Tensor>> all;
  for (const auto& p : net->named_parameters(true)) all.emplace_back(p.key(), p.value());
  for (const auto& b : net->named_buffers(true)) all.emplace_back(b.key(), b.value());
  std::string out(kTensorMagic, 8);
  putU64(out, all.size());
  for (const auto& [name, value] : all) {
    const bool isInt = value.scalar_type() == torch::kInt64;
    torch::Tensor t =
        value.detach().to(torch::kCPU, isInt ? torch::kInt64 : torch::kFloat32).contiguous();
    putU64(out, name.size());
    out += name;
    out.push_back(static_cast<char>(isInt ? 1 : 0));
    putU64(out, static_cast<std::uint64_t>(t.dim()));
    for (int64_t d = 0; d < t.dim(); ++d) putU64(out, static_cast<std::uint64_t>(t.size(d)));
    const auto* bytes = static_cast<const char*>(t.data_ptr());
    out.append(bytes, static_cast<size_t>(t.numel() * t.element_size()));
  }
  return out;
}

namespace {

void loadTensorWeights(ResUNet& net, const std::string& weights, const std::string& what) {
  auto bad = [&](const std::string& why) {
    return DataError(
        "model: cannot read the weights of '" + what + "': " + why +
        ". The file is corrupt or does not match its card's architecture; retrain it.");
  };
  std::istringstream in(weights, std::ios::binary);
  in.ignore(8);
  std::uint64_t count = 0;
  if (!readU64(in, count) || count > 100000) throw bad("bad tensor count");
  std::map<std::string, torch::Tensor> stored;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t len = 0, rank = 0;
    if (!readU64(in, len) || len > 4096) throw bad("bad tensor name");
    std::string name(len, '\0');
    char dtype = 0;
    if (!in.read(name.data(), static_cast<std::streamsize>(len)) || !in.get(dtype) ||
        !readU64(in, rank) || rank > 8 || (dtype != 0 && dtype != 1))
      throw bad("truncated header of tensor " + std::to_string(i));
    std::vector<int64_t> sizes(rank);
    // The values must fit in what is left of the section: checked before allocating, without
    // overflow (each size <= 2^32, the running product bounded by the bytes left).
    const std::uint64_t left = weights.size() - static_cast<std::uint64_t>(in.tellg());
    std::uint64_t bytes = dtype == 1 ? 8 : 4;
    for (auto& s : sizes) {
      std::uint64_t v = 0;
      if (!readU64(in, v) || v > kMaxSection) throw bad("bad size of '" + name + "'");
      s = static_cast<int64_t>(v);
      if (v != 0 && bytes > left / v) throw bad("tensor '" + name + "' is larger than the file");
      bytes *= v;
    }
    torch::Tensor t = torch::empty(sizes, dtype == 1 ? torch::kInt64 : torch::kFloat32);
    if (!in.read(static_cast<char*>(t.data_ptr()),
                 static_cast<std::streamsize>(t.numel() * t.element_size())))
      throw bad("truncated values of '" + name + "'");
    stored.emplace(name, t);
  }
  torch::NoGradGuard noGrad;
  size_t used = 0;
  auto assign = [&](const std::string& name, torch::Tensor& dst) {
    auto it = stored.find(name);
    if (it == stored.end()) throw bad("tensor '" + name + "' is missing");
    if (it->second.sizes() != dst.sizes()) throw bad("tensor '" + name + "' has another shape");
    dst.copy_(it->second);
    ++used;
  };
  for (auto& p : net->named_parameters(true)) assign(p.key(), p.value());
  for (auto& b : net->named_buffers(true)) assign(b.key(), b.value());
  if (used != stored.size()) throw bad("it holds tensors the network does not have");
}

}  // namespace

void loadWeights(ResUNet& net, const std::string& weights, const std::string& what) {
  if (weights.size() >= 8 && std::memcmp(weights.data(), kTensorMagic, 8) == 0)
    return loadTensorWeights(net, weights, what);
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

nlohmann::json architectureJson(const NetworkSpec& spec) {
  return {{"type", "residual_unet"},
          {"width", spec.width},
          {"depth", spec.depth},
          {"in_bands", spec.inputBands.size()},
          {"heads", {"extent", "boundary", "distance"}},
          {"activation", "sigmoid"},
          {"pad_multiple_px", 1 << spec.depth},
          {"parameters", networkParameters(spec)},
          {"gflops_per_256_tile", networkFlops(spec, 256, 256) / 1e9}};
}

NetworkSpec specFromCard(const nlohmann::json& card, const std::string& what) {
  NetworkSpec spec;
  try {
    const auto& a = card.at("architecture");
    if (a.value("type", std::string()) != "residual_unet")
      throw DataError("model: '" + what + "' has architecture type '" +
                      a.value("type", std::string("?")) +
                      "', this fieldseg knows 'residual_unet'. Use a matching fieldseg.");
    spec.width = a.at("width").get<int>();
    spec.depth = a.at("depth").get<int>();
    spec.inputBands = card.at("input_bands").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError("model: the card of '" + what + "' lacks a valid architecture/input_bands (" +
                    e.what() + "). Rewrite the card with writeModelCard or retrain.");
  }
  // Bounds well above any trained network (width 16-64, depth 4-5, 3-13 bands) and below what
  // would allocate gigabytes of weights from a corrupt card.
  if (spec.width < 1 || spec.width > 1024 || spec.depth < 1 || spec.depth > 8 ||
      spec.inputBands.empty() || spec.inputBands.size() > 256)
    throw DataError("model: the card of '" + what + "' has an invalid architecture (width " +
                    std::to_string(spec.width) + ", depth " + std::to_string(spec.depth) + ", " +
                    std::to_string(spec.inputBands.size()) +
                    " input bands; valid: width 1-1024, depth 1-8, 1-256 bands). Retrain it.");
  return spec;
}

ResUNet loadNetwork(const std::string& path, nlohmann::json* cardOut) {
  ModelBlob blob = readModelBlob(path);
  nlohmann::json card;
  try {
    card = nlohmann::json::parse(blob.card);
  } catch (const nlohmann::json::exception& e) {
    throw DataError("model: the card of '" + path + "' is not valid JSON (" + e.what() +
                    "). Rewrite the card or retrain.");
  }
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
  TorchPredictor(ResUNet net, torch::Device device, int concurrency, bool bf16, bool fused)
      : net_(std::move(net)), device_(device), concurrency_(std::max(1, concurrency)) {
    net_->to(device_);
    net_->eval();
    // On the CPU, inference runs through the folded channels_last copy (see FoldedResUNet), and
    // by default through the fused oneDNN network built from it; net_ stays for other devices.
    if (device_.is_cpu()) folded_.emplace(net_, bf16 ? torch::kBFloat16 : torch::kFloat32);
    if (folded_ && fused && OneDnnNet::available()) fused_.emplace(*folded_);
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
          prob[i].copy_((fused_ ? fused_->predictProbabilities(x.narrow(0, i, 1))
                                : folded_->predictProbabilities(x.narrow(0, i, 1)))[0]);
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
  std::optional<OneDnnNet> fused_;
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

}  // namespace
}  // namespace model

bool isModelFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  return in && in.read(magic, 8) && std::memcmp(magic, model::kMagic, 8) == 0;
}

std::string readModelCard(const std::string& path) { return model::readModelBlob(path).card; }

std::unique_ptr<Predictor> loadModel(const std::string& path, const ModelLoadOptions& options) {
  torch::Device device = model::parseDevice(options.device);
  const bool bf16 = resolvePrecision(options) == "bf16";
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  // CPU: one intra-op thread per tile, `threads` tiles at once (see TorchPredictor).
  model::setThreads(device.is_cpu() ? 1 : threads);
  model::ResUNet net = model::loadNetwork(path);
  if (options.engine != "fused" && options.engine != "reference")
    throw UsageError("model: engine '" + options.engine + "' is not one of fused, reference.");
  return std::make_unique<model::TorchPredictor>(std::move(net), device, threads, bf16,
                                                 options.engine == "fused");
}

void writeModelCard(const std::string& inPath, const std::string& outPath,
                    const std::string& cardJson) {
  model::ModelBlob blob = model::readModelBlob(inPath);
  nlohmann::json oldCard, newCard;
  try {
    oldCard = nlohmann::json::parse(blob.card);
  } catch (const nlohmann::json::exception&) {
    oldCard = nlohmann::json::object();
  }
  try {
    newCard = nlohmann::json::parse(cardJson);
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(std::string("model: the new card is not valid JSON (") + e.what() +
                     "). Pass a JSON object.");
  }
  if (!newCard.is_object())
    throw UsageError("model: the new card is not a JSON object. Pass {\"name\": ...}.");
  NetworkSpec oldSpec = model::specFromCard(oldCard, inPath);
  NetworkSpec newSpec = model::specFromCard(newCard, "the new card");
  if (oldSpec.width != newSpec.width || oldSpec.depth != newSpec.depth ||
      oldSpec.inputBands != newSpec.inputBands)
    throw UsageError("model: the new card changes the architecture or input_bands of '" + inPath +
                     "'. Keep those keys as they are in the original card.");
  blob.card = newCard.dump(2);
  model::writeModelBlob(outPath, blob);
}

}  // namespace fieldseg
