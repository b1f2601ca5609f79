// The pieces of a training run (train_steps.hpp).
#include "train_steps.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>

#include "fieldseg/error.hpp"
#include "fieldseg/temp_files.hpp"

namespace fieldseg::model {

using nlohmann::json;
using torch::indexing::Slice;

double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string utcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

json scoresJson(const PixelScores& s) {
  return {{"f1", s.f1()},
          {"mcc", s.mcc()},
          {"iou", s.iou()},
          {"precision", s.precision()},
          {"recall", s.recall()},
          {"tp", s.tp},
          {"fp", s.fp},
          {"fn", s.fn},
          {"tn", s.tn}};
}

PixelScores scoresFromJson(const json& j) {
  PixelScores s;
  s.tp = j.value("tp", 0LL);
  s.fp = j.value("fp", 0LL);
  s.fn = j.value("fn", 0LL);
  s.tn = j.value("tn", 0LL);
  return s;
}

ValResult validate(ResUNet& net, const std::vector<Chip>& chips, double threshold,
                   torch::Device device) {
  ValResult r;
  if (chips.empty()) return r;
  torch::NoGradGuard noGrad;
  net->eval();
  double lossSum = 0;
  for (const auto& c : chips) {
    torch::Tensor x = c.image.unsqueeze(0).to(device);
    torch::Tensor lab = c.label.unsqueeze(0).to(device);
    torch::Tensor prob = predictProbabilities(net, x);
    torch::Tensor target = lab.index({Slice(), Slice(0, 3)});
    torch::Tensor mask = lab.index({Slice(), Slice(3, 4)});
    lossSum += tanimotoLoss(prob, target, mask).item<double>();
    accumulateScores(prob, target, mask, threshold, r.scores);
  }
  r.loss = lossSum / static_cast<double>(chips.size());
  return r;
}

// Input layers: enc0.conv1 and enc0.skip.
void transferWeights(ResUNet& dst, ResUNet& src, const std::string& srcPath) {
  torch::NoGradGuard noGrad;
  const auto& srcBands = src->spec.inputBands;
  const auto& dstBands = dst->spec.inputBands;
  auto srcParams = src->named_parameters(true);
  auto srcBuffers = src->named_buffers(true);
  auto copyInto = [&](const std::string& name, torch::Tensor& t, const torch::Tensor& s) {
    const bool inputLayer = name == "enc0.conv1.weight" || name == "enc0.skip.weight";
    if (inputLayer && (srcBands != dstBands)) {
      // A band the source lacks starts as the mean of the source's weights. A time stack's band
      // "red@2021_03" starts as the source's "red" divided by the stack's number of "red@" bands,
      // so the new layer first sees the stack's mean image.
      torch::Tensor mean = s.mean(1);
      for (size_t b = 0; b < dstBands.size(); ++b) {
        auto it = std::find(srcBands.begin(), srcBands.end(), dstBands[b]);
        double share = 1.0;
        const StackBand band = splitStackBand(dstBands[b]);
        if (it == srcBands.end() && !band.date.empty()) {
          it = std::find(srcBands.begin(), srcBands.end(), band.base);
          const auto dates =
              std::count_if(dstBands.begin(), dstBands.end(), [&](const std::string& d) {
                const StackBand other = splitStackBand(d);
                return !other.date.empty() && other.base == band.base;
              });
          share = 1.0 / static_cast<double>(dates);
        }
        torch::Tensor w = it == srcBands.end() ? mean : s.select(1, it - srcBands.begin());
        t.select(1, static_cast<int64_t>(b)).copy_(w * share);
      }
      return;
    }
    if (t.sizes() != s.sizes())
      throw DataError("model: cannot initialise from '" + srcPath + "': layer '" + name +
                      "' has shape " + c10::str(s.sizes()) + ", the new network needs " +
                      c10::str(t.sizes()) +
                      ". Use the same network.width and network.depth as the " + "init model.");
    t.copy_(s);
  };
  for (auto& p : dst->named_parameters(true)) {
    const torch::Tensor* s = srcParams.find(p.key());
    if (!s) continue;
    torch::Tensor t = p.value();
    copyInto(p.key(), t, *s);
  }
  for (auto& p : dst->named_buffers(true)) {
    const torch::Tensor* s = srcBuffers.find(p.key());
    if (!s) continue;
    torch::Tensor t = p.value();
    copyInto(p.key(), t, *s);
  }
}

json initialiseFrom(ResUNet& net, const std::string& initModel,
                    const std::function<void(const std::string&)>& log) {
  json initCard;
  ResUNet src = loadNetwork(initModel, &initCard);
  if (src->spec.width != net->spec.width || src->spec.depth != net->spec.depth)
    throw UsageError("model: --init '" + initModel + "' has width " +
                     std::to_string(src->spec.width) + " / depth " +
                     std::to_string(src->spec.depth) + ", the config asks for " +
                     std::to_string(net->spec.width) + " / " + std::to_string(net->spec.depth) +
                     ". Set network.width/depth to the init model's.");
  transferWeights(net, src, initModel);
  log("train: initialised from '" + initModel + "' (" + initCard.value("name", std::string("?")) +
      ")");
  return {{"path", initModel},
          {"name", initCard.value("name", std::string())},
          {"fieldseg_version", initCard.value("fieldseg_version", std::string())},
          {"input_bands", src->spec.inputBands},
          {"band_rule",
           "first-layer weights mapped by band name; new bands = mean of the "
           "init model's band weights"}};
}

void setEncoderFrozen(ResUNet& net, bool frozen) {
  for (auto& p : net->named_parameters(true))
    if (p.key().rfind("enc", 0) == 0) p.value().set_requires_grad(!frozen);
}

void freezeBatchnorm(ResUNet& net) {
  for (auto& m : net->modules(false))
    if (m->as<torch::nn::BatchNorm2d>()) m->eval();
}

double learningRate(const TrainConfig& cfg, long long step, long long totalSteps, int epoch) {
  if (cfg.schedule == "constant") return cfg.learningRate;
  if (cfg.schedule == "step")
    return cfg.learningRate * std::pow(cfg.stepGamma, static_cast<double>(epoch / cfg.stepEpochs));
  double t = totalSteps > 1 ? static_cast<double>(step) / static_cast<double>(totalSteps - 1) : 0;
  return cfg.minLearningRate +
         0.5 * (cfg.learningRate - cfg.minLearningRate) * (1 + std::cos(M_PI * std::min(1.0, t)));
}

std::string checkpointPath(const std::string& out) { return out + ".ckpt"; }
std::string curvePath(const std::string& out) { return out + ".curve.csv"; }

void writeCurve(const std::string& path, const json& rows) {
  std::ostringstream f;
  f << "epoch,learning_rate,train_loss,val_loss,val_f1,val_mcc,val_iou,epoch_seconds\n";
  for (const auto& r : rows)
    f << r.at("epoch").get<int>() << "," << r.at("lr").get<double>() << ","
      << r.at("train_loss").get<double>() << "," << r.at("val_loss").get<double>() << ","
      << r.at("val_f1").get<double>() << "," << r.at("val_mcc").get<double>() << ","
      << r.at("val_iou").get<double>() << "," << r.at("seconds").get<double>() << "\n";
  writeFileAtomically(path, f.str());  // a reader (or a killed run) never sees half a curve
}

void loadCheckpoint(const std::string& ckpt, const TrainConfig& cfg, ResUNet& net,
                    torch::optim::Adam& optim, torch::Device device, TrainState& s) {
  ModelBlob blob = readModelBlob(ckpt);
  json st = json::parse(blob.card);
  if (st.value("config_text", std::string()) != cfg.configText)
    throw UsageError("model: checkpoint '" + ckpt +
                     "' was made with another config. Rerun "
                     "without --resume (it starts over) or pass the original config.");
  std::istringstream in(blob.weights, std::ios::binary);
  torch::serialize::InputArchive ar;
  ar.load_from(in);
  torch::serialize::InputArchive netAr, optAr;
  ar.read("net", netAr);
  ar.read("optim", optAr);
  net->load(netAr);
  optim.load(optAr);
  net->to(device);
  s.startEpoch = st.at("epochs_done").get<int>();
  s.priorWall = st.at("wall_time_s").get<double>();
  s.curve = st.at("curve");
  s.bestEpoch = st.at("best_epoch").get<int>();
  s.bestMcc = st.at("best_mcc").get<double>();
  s.bestValLoss = st.at("best_val_loss").get<double>();
  s.bestScores = scoresFromJson(st.at("best_scores"));
  if (st.value("has_best", false)) {
    torch::Tensor b;
    ar.read("best", b);
    s.bestWeights.assign(static_cast<const char*>(b.data_ptr()), static_cast<size_t>(b.numel()));
  }
}

void saveCheckpoint(const std::string& ckpt, const TrainConfig& cfg, ResUNet& net,
                    torch::optim::Adam& optim, const TrainState& s, int epochsDone, double wallS) {
  torch::serialize::OutputArchive ar, netAr, optAr;
  net->save(netAr);
  optim.save(optAr);
  ar.write("net", netAr);
  ar.write("optim", optAr);
  const bool hasBest = !s.bestWeights.empty();
  if (hasBest) {
    std::string copy = s.bestWeights;
    torch::Tensor b =
        torch::from_blob(copy.data(), {static_cast<int64_t>(copy.size())}, torch::kUInt8);
    ar.write("best", b.clone());
  }
  std::ostringstream os(std::ios::binary);
  ar.save_to(os);
  json st = {{"config_text", cfg.configText},
             {"epochs_done", epochsDone},
             {"wall_time_s", wallS},
             {"curve", s.curve},
             {"best_epoch", s.bestEpoch},
             {"best_mcc", s.bestMcc},
             {"best_val_loss", s.bestValLoss},
             {"best_scores", scoresJson(s.bestScores)},
             {"has_best", hasBest}};
  writeModelBlob(ckpt, ModelBlob{st.dump(), os.str()});
}

}  // namespace fieldseg::model
