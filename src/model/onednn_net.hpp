// OneDnnNet: the folded inference network (folded_weights.hpp) run directly on oneDNN, the library
// LibTorch itself calls for its CPU convolutions, with the element-wise work folded into the
// convolutions: ReLU and the residual sum as post-ops, the up-sampling's pixel shuffle and the
// skip concatenation as one copy into the decoder's input, every activation and scratchpad of a
// tile placed in one arena by liveness (arena_plan.hpp) and the arenas reused between tiles.
// Activations are in the network's dtype (bf16 where the CPU has native bf16, else fp32), in
// oneDNN's blocked nChw16c layout where its kernels there beat NHWC (fp32 with Winograd 3x3
// convolutions; bf16 without AMX), else NHWC (ActivationLayout).
// No LibTorch: `fieldseg` runs it without loading LibTorch. FoldedResUNet (src/model/torch) stays
// the reference the tests compare with (tests/unit/model/onednn_net_test.cpp).
//
// Thread safety: forward() may run from several threads at once (the primitives are shared and
// immutable, each call takes its own arena from the net's pool). Each call uses the calling
// thread's OpenMP thread count (the fused Predictor sets 1).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "folded_weights.hpp"

namespace fieldseg::model {

/// Activation layout. Auto = oneDNN's blocked nChw16c where the channel counts are multiples of 16,
/// the CPU has fast blocked kernels and they beat NHWC's: in fp32 always (3x3 convolutions run as
/// Winograd), in bf16 unless oneDNN's NHWC convolutions run on AMX (then NHWC; the blocked bf16
/// kernels have no AMX version); else NHWC. Nhwc forces NHWC with direct convolutions.
enum class ActivationLayout { Auto, Nhwc };

class OneDnnNet {
 public:
  explicit OneDnnNet(FoldedWeights weights, ActivationLayout layout = ActivationLayout::Auto);
  ~OneDnnNet();
  /// Logits [3,H,W] float32 for x [bands,H,W] float32 (NCHW, one tile); H, W multiples of
  /// 2^depth. Throws fieldseg::Error when oneDNN refuses a primitive.
  std::vector<float> forward(const float* x, int64_t h, int64_t w) const;
  /// Sigmoid probabilities [3,H,W] for any H, W (zero-pads to multiples of 2^depth at the bottom
  /// and right, runs, crops back).
  std::vector<float> predictProbabilities(const float* x, int64_t h, int64_t w) const;
  int64_t inputBands() const;
  /// Whether tiles of h x w run some 3x3 convolution as Winograd (builds the plan).
  bool usesWinograd(int64_t h, int64_t w) const;
  int depth() const { return depth_; }
  /// What ran the last tile: precision, activation layout, convolution algorithms (e.g. "oneDNN
  /// fp32 nChw16c, 21 of 21 3x3 convolutions Winograd"); empty before the first tile.
  std::string kernels() const;
  /// Bytes of one tile's arena at h x w (activations and scratchpads; builds the plan).
  size_t workspaceBytes(int64_t h, int64_t w) const;
  /// Frees the arenas kept for the next tiles (each concurrent forward() keeps one); the next
  /// forward() allocates again.
  void releaseWorkspace() const;
  /// False when oneDNN cannot build the network on this CPU.
  static bool available();
  /// Whether oneDNN runs bf16 NHWC convolutions on AMX here (then bf16 keeps NHWC activations).
  static bool bf16UsesAmx();

 private:
  // forward() untranslated; `sigmoid`: probabilities instead of logits.
  std::vector<float> run(const float* x, int64_t h, int64_t w, bool sigmoid) const;
  std::vector<float> translated(const float* x, int64_t h, int64_t w, bool sigmoid) const;
  struct Plan;  // the primitives of one input size
  std::shared_ptr<const Plan> planFor(int64_t h, int64_t w) const;
  std::shared_ptr<Plan> buildPlan(int64_t h, int64_t w, int layoutTag) const;
  void layOut(Plan& p) const;  // the arena offsets, in run()'s order
  struct Workspace;
  std::unique_ptr<Workspace> takeWorkspace(const Plan& p) const;
  struct Weights;
  std::unique_ptr<Weights> weights_;
  int depth_ = 0;
  ActivationLayout layout_ = ActivationLayout::Auto;
  mutable std::mutex mutex_;
  mutable std::map<std::pair<int64_t, int64_t>, std::shared_ptr<const Plan>> plans_;
  mutable std::shared_ptr<const Plan> last_;  // the plan of the last tile run (kernels())
  mutable std::mutex poolMutex_;
  mutable std::vector<std::unique_ptr<Workspace>> idle_;
};

}  // namespace fieldseg::model
