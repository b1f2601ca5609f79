// The model file (one file: magic header, JSON card, weights; model_blob.hpp). Little-endian
// fixed-width lengths so files move between hosts.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"
#include "fieldseg/temp_files.hpp"
#include "model_blob.hpp"

namespace fieldseg {
namespace model {
namespace {

constexpr char kMagic[8] = {'F', 'S', 'G', 'M', 'O', 'D', 'E', 'L'};
// Version 2 stores the weights as plain tensors (tensorWeights); version 1 files (a LibTorch
// archive) still load through src/model/torch.
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

int64_t PlainTensor::numel() const {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  return n;
}

bool isTensorWeights(const std::string& weights) {
  return weights.size() >= 8 && std::memcmp(weights.data(), kTensorMagic, 8) == 0;
}

// Version 2 depends on no LibTorch serialisation, so a model trained with any LibTorch (a CUDA
// build on another machine, say) loads in any other, and the fused engine needs no LibTorch.
std::string tensorWeights(const std::vector<std::pair<std::string, PlainTensor>>& tensors) {
  std::string out(kTensorMagic, 8);
  putU64(out, tensors.size());
  for (const auto& [name, t] : tensors) {
    putU64(out, name.size());
    out += name;
    out.push_back(static_cast<char>(t.isInt ? 1 : 0));
    putU64(out, t.sizes.size());
    for (int64_t s : t.sizes) putU64(out, static_cast<std::uint64_t>(s));
    if (t.isInt)
      out.append(reinterpret_cast<const char*>(t.ints.data()), t.ints.size() * sizeof(int64_t));
    else
      out.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
  }
  return out;
}

std::map<std::string, PlainTensor> parseTensorWeights(const std::string& weights,
                                                      const std::string& what) {
  auto bad = [&](const std::string& why) {
    return DataError(
        "model: cannot read the weights of '" + what + "': " + why +
        ". The file is corrupt or does not match its card's architecture; retrain it.");
  };
  if (!isTensorWeights(weights)) throw bad("not a version 2 weights section");
  std::istringstream in(weights, std::ios::binary);
  in.ignore(8);
  std::uint64_t count = 0;
  if (!readU64(in, count) || count > 100000) throw bad("bad tensor count");
  std::map<std::string, PlainTensor> stored;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t len = 0, rank = 0;
    if (!readU64(in, len) || len > 4096) throw bad("bad tensor name");
    std::string name(len, '\0');
    char dtype = 0;
    if (!in.read(name.data(), static_cast<std::streamsize>(len)) || !in.get(dtype) ||
        !readU64(in, rank) || rank > 8 || (dtype != 0 && dtype != 1))
      throw bad("truncated header of tensor " + std::to_string(i));
    PlainTensor t;
    t.isInt = dtype == 1;
    // The values must fit in what is left of the section: checked before allocating, without
    // overflow (each size <= 2^32, the running product bounded by the bytes left).
    const std::uint64_t left = weights.size() - static_cast<std::uint64_t>(in.tellg());
    std::uint64_t bytes = t.isInt ? 8 : 4;
    for (std::uint64_t d = 0; d < rank; ++d) {
      std::uint64_t v = 0;
      if (!readU64(in, v) || v > kMaxSection) throw bad("bad size of '" + name + "'");
      if (v != 0 && bytes > left / v) throw bad("tensor '" + name + "' is larger than the file");
      bytes *= v;
      t.sizes.push_back(static_cast<int64_t>(v));
    }
    char* dst = nullptr;
    if (t.isInt) {
      t.ints.resize(static_cast<size_t>(t.numel()));
      dst = reinterpret_cast<char*>(t.ints.data());
    } else {
      t.values.resize(static_cast<size_t>(t.numel()));
      dst = reinterpret_cast<char*>(t.values.data());
    }
    if (!in.read(dst, static_cast<std::streamsize>(bytes)))
      throw bad("truncated values of '" + name + "'");
    if (!stored.emplace(name, std::move(t)).second) throw bad("tensor '" + name + "' repeats");
  }
  return stored;
}

nlohmann::json parseCard(const ModelBlob& blob, const std::string& what) {
  try {
    return nlohmann::json::parse(blob.card);
  } catch (const nlohmann::json::exception& e) {
    throw DataError("model: the card of '" + what + "' is not valid JSON (" + e.what() +
                    "). Rewrite the card or retrain.");
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

namespace {
TorchLoader& torchLoaderSlot() {
  static TorchLoader loader = nullptr;
  return loader;
}
}  // namespace

void setTorchLoader(TorchLoader loader) { torchLoaderSlot() = loader; }
TorchLoader torchLoader() { return torchLoaderSlot(); }

}  // namespace model

bool isModelFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  return in && in.read(magic, 8) && std::memcmp(magic, model::kMagic, 8) == 0;
}

std::string readModelCard(const std::string& path) { return model::readModelBlob(path).card; }

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
