// Training and evaluating the segmentation network (src/model owns it; `fieldseg train` drives it).
//
// Plain C++ types only: the CLI and tests never see LibTorch. A TrainConfig is parsed from the JSON
// files in configs/ (every key is documented in configs/README.md; unknown keys are errors that
// list the valid ones). trainModel() reads chip manifests (the format in briefs/contracts.md,
// written by `fieldseg labels --chips`), trains a residual U-Net with the masked Tanimoto loss,
// validates every epoch with masked pixel F1 / MCC, keeps the best checkpoint and writes ONE model
// file (see model.hpp).
//
// Thread safety: trainModel/evaluateModel set the process-wide LibTorch thread count and are meant
// to be called from one thread at a time. The analytic helpers are pure functions.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "fieldseg/thresholds.hpp"

namespace fieldseg {

/// Shape of the residual U-Net (see src/model/README.md for the layer list).
struct NetworkSpec {
  int width = 16;  ///< channels at full resolution; doubled at each level
  int depth = 4;   ///< number of 2x downsamplings (inputs are padded to a multiple of 2^depth)
  std::vector<std::string> inputBands{"red", "green", "blue"};
};

/// Multiply-adds x 2 of one forward pass over a rows x cols tile, counted layer by layer.
double networkFlops(const NetworkSpec& spec, int rows, int cols);
/// Number of trainable parameters (weights, biases, batch-norm affine terms).
long long networkParameters(const NetworkSpec& spec);

struct AugmentConfig {
  bool flips = true;
  bool rot90 = true;
  double brightness = 0.1;      ///< additive, uniform in [-b, b] on normalised values
  double contrast = 0.1;        ///< multiplicative, uniform in [1-c, 1+c]
  double gsdRescaleMax = 1.0;   ///< chips are downsampled by a random factor in [1, max]
  double gsdRescaleProb = 0.0;  ///< probability of applying that rescale
  /// Sensor degradations (a source model that should transfer to a coarser, noisier sensor sees
  /// them in training; all off by default, applied in this order after brightness/contrast):
  double blurProb = 0.0;  ///< probability of a Gaussian blur (a coarser point-spread function)
  double blurSigmaMaxPx = 0.0;  ///< its sigma, uniform in [0.3, max] pixels
  double bandGain = 0.0;        ///< per-band multiplicative gain, uniform in [1-g, 1+g]
  double gamma = 0.0;           ///< per-band gamma exp(u), u uniform in [-ln(1+g), ln(1+g)]
  double hazeProb = 0.0;  ///< probability of haze: v -> (1-a) v + a, a uniform in [0, hazeMax]
  double hazeMax = 0.0;
  double noiseStd = 0.0;  ///< additive Gaussian noise, std uniform in [0, noiseStd]
  /// For a time stack (input bands "red@2021_03", ..., timeStackBands() > 0): each sample's dates
  /// in a random order, so the network cannot tie a layer to one date (regularises a stack
  /// trained on few chips; the first layer starts shared over the dates).
  bool shuffleDates = false;
};

/// A band name of a time stack, "base@date", split at its first '@' ({name, ""} without one).
struct StackBand {
  std::string base, date;
};
StackBand splitStackBand(const std::string& name);
/// Bands per date when `bands` is a time stack: "base@date" names, the same bases in the same
/// order for every date, at least two dates. 0 otherwise.
int timeStackBands(const std::vector<std::string>& bands);

struct TrainConfig {
  std::string name = "model";
  NetworkSpec network;
  std::vector<std::string> trainManifests;
  std::vector<std::string> valManifests;  ///< explicit validation chips (optional)
  /// Held-out scenes: chips whose source_image contains one of these strings go to validation.
  std::vector<std::string> valHoldoutMatch;
  int valHoldoutEveryNth = 0;        ///< or: every Nth distinct source_image (sorted), 0 = off
  double minLabelledFraction = 0.0;  ///< skip training chips with less labelled area
  int seed = 42;
  int epochs = 10;
  int stepsPerEpoch = 0;  ///< 0 = one pass over the training chips
  int batchSize = 8;
  int cropPx = 128;
  /// "fp32", or "bf16": the forward and backward passes under LibTorch's CPU autocast (bf16
  /// convolutions, oneDNN runs them on AMX where the CPU has it); weights, optimiser and loss fp32.
  std::string precision = "fp32";
  double learningRate = 1e-3;
  double weightDecay = 0.0;
  std::string schedule = "cosine";  ///< "cosine", "step" or "constant"
  int stepEpochs = 10;              ///< for "step": multiply the rate by stepGamma every N epochs
  double stepGamma = 0.1;
  double minLearningRate = 1e-5;  ///< for "cosine"
  AugmentConfig augment;
  int freezeEncoderEpochs = 0;  ///< with --init: train only the decoder/heads for N epochs
  /// BatchNorm layers keep their running statistics (eval mode) while the rest trains: for short
  /// fine-tunes with small batches, whose batch statistics would replace the pretrained ones.
  bool freezeBatchnorm = false;
  double valThreshold = 0.5;  ///< extent threshold for the F1 / MCC
  int valMaxChips = 0;        ///< 0 = all validation chips
  /// Which epoch is kept: "mcc" (extent head's pixel MCC, ties: lower loss) or "loss" (the masked
  /// loss of all three heads, which also sees the boundary and distance heads the instances use).
  std::string valSelectBy = "mcc";
  std::vector<double> gsdRangeM;  ///< for the card; empty = derived from the training chips
  /// The thresholds written to the card (t_ext, t_bound, min_area_m2 of the config's
  /// "thresholds"; calibrate sets the others).
  Thresholds thresholds;
  std::vector<std::string> dataCommands;  ///< commands that made the chips (copied to the card)
  std::string description;
  std::string configText;  ///< the JSON as read (copied verbatim to the card)
};

/// Parses and validates a config. `where` names the source in error messages. Throws UsageError.
TrainConfig parseTrainConfig(const std::string& jsonText, const std::string& where);
/// Every key a train config may hold, as dotted paths ("optimizer.learning_rate"), in the order
/// they are declared (the one table the parser reads; configs/README.md documents each).
std::vector<std::string> trainConfigKeys();
/// Reads the file and parses it. Throws IoError / UsageError.
TrainConfig loadTrainConfig(const std::string& path);

struct TrainRequest {
  TrainConfig config;
  std::string configPath;
  std::string initModel;  ///< transfer: start from this model file (may have other input bands)
  std::string outPath;    ///< model file; `<out>.ckpt` and `<out>.curve.csv` are written beside it
  std::string device = "cpu";
  int threads = 0;  ///< 0 = std::thread::hardware_concurrency()
  bool resume = false;
  /// Stop after this many epochs have been run in this call (the checkpoint stays resumable);
  /// 0 = run to the end. Lets tests and time-boxed jobs interrupt training cleanly.
  int stopAfterEpochs = 0;
  std::string commandLine;  ///< recorded in the model card
  /// Receives one progress/summary line at a time (the CLI prints them on stderr).
  std::function<void(const std::string&)> log;
};

struct PixelScores {
  long long tp = 0, fp = 0, fn = 0, tn = 0;
  double f1() const;
  double mcc() const;
  double iou() const;
  double precision() const;
  double recall() const;
};

struct TrainSummary {
  /// 1-based; 0 = no epoch beat the initial (--init) model on the validation chips, so its weights
  /// were written; -1 when there was no validation
  int bestEpoch = -1;
  PixelScores best;
  double bestValLoss = 0;
  int epochsRun = 0;
  int trainChips = 0;
  int valChips = 0;
  double wallTimeS = 0;
};

/// Trains and writes request.outPath. Throws UsageError / IoError / DataError.
TrainSummary trainModel(const TrainRequest& request);

/// The network input the trainer builds from chip `index` (0-based line) of `manifest`, in `bands`
/// order: bands x rows x cols floats, row-major, invalid pixels 0 (fieldseg/normalisation.hpp with
/// the manifest's band_stats). For tests that check training and inference normalise alike.
std::vector<float> trainingInput(const std::string& manifest, int index,
                                 const std::vector<std::string>& bands);

struct EvalSummary {
  PixelScores scores;
  double threshold = 0.5;
  int chips = 0;
  double loss = 0;
};

/// Masked pixel scores of the extent head of a model over the chips of `manifests`.
EvalSummary evaluateModel(const std::string& modelPath, const std::vector<std::string>& manifests,
                          double threshold = 0.5, const std::string& device = "cpu",
                          int threads = 0);

/// Lets loadModel (fieldseg/model.hpp) use LibTorch for what the fused engine does not run: the
/// reference engine, devices other than the CPU, version 1 weights. Defined by the LibTorch
/// library (src/model/torch); `fieldseg-torch`, bench_predict and the model tests call it once.
void enableTorchModels();

}  // namespace fieldseg
