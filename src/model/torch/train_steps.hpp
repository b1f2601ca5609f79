// Internal to src/model: the pieces of one training run that `trainModel` (trainer.cpp) strings
// together: validation, weight transfer from an --init model, the learning-rate schedule, the
// learning curve, the resumable checkpoint and small formatting helpers. Not thread-safe.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "net.hpp"
#include "train_data.hpp"

namespace fieldseg::model {

double nowSeconds();
std::string utcNow();
/// printf-style formatting of one number.
std::string fmt(const char* f, double v);

nlohmann::json scoresJson(const PixelScores& s);
PixelScores scoresFromJson(const nlohmann::json& j);

struct ValResult {
  PixelScores scores;
  double loss = 0;
};
/// Masked loss and extent-head pixel scores over `chips` (eval mode, no gradients).
ValResult validate(ResUNet& net, const std::vector<Chip>& chips, double threshold,
                   torch::Device device);

/// Copies every parameter/buffer with the same name and shape from `src`; the layers that read the
/// input bands are mapped by band name (a new band gets the mean of the source bands' weights).
/// Throws DataError on a shape mismatch.
void transferWeights(ResUNet& dst, ResUNet& src, const std::string& srcPath);
/// Loads `initModel`, checks its width/depth against `net`'s and transfers its weights; returns
/// the card's `init_model` entry.
nlohmann::json initialiseFrom(ResUNet& net, const std::string& initModel,
                              const std::function<void(const std::string&)>& log);

void setEncoderFrozen(ResUNet& net, bool frozen);
/// BatchNorm layers to eval mode (their running statistics stay) while the rest trains.
void freezeBatchnorm(ResUNet& net);
double learningRate(const TrainConfig& cfg, long long step, long long totalSteps, int epoch);

std::string checkpointPath(const std::string& out);
std::string curvePath(const std::string& out);
void writeCurve(const std::string& path, const nlohmann::json& rows);

/// What a checkpoint carries besides the network and the optimiser.
struct TrainState {
  int startEpoch = 0;  ///< epochs already done
  double priorWall = 0;
  nlohmann::json curve = nlohmann::json::array();
  int bestEpoch = -1;
  double bestMcc = -2, bestValLoss = 1e30;
  PixelScores bestScores;
  std::string bestWeights;  ///< serialised best network ("" = none yet)
};

/// Restores network, optimiser and state from `ckpt`; throws UsageError when it was made with
/// another config.
void loadCheckpoint(const std::string& ckpt, const TrainConfig& cfg, ResUNet& net,
                    torch::optim::Adam& optim, torch::Device device, TrainState& state);
void saveCheckpoint(const std::string& ckpt, const TrainConfig& cfg, ResUNet& net,
                    torch::optim::Adam& optim, const TrainState& state, int epochsDone,
                    double wallS);

}  // namespace fieldseg::model
