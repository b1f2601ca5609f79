// Model files: one file with the network weights and a JSON model card (src/model owns the format).
// No LibTorch types here; the CLI and tiles/ see only Predictor and the card as JSON text.
#pragma once

#include <memory>
#include <string>

#include "fieldseg/predictor.hpp"

namespace fieldseg {

struct ModelLoadOptions {
  std::string device = "cpu";  ///< "cpu" or "cuda"
  int threads = 0;             ///< intra-op threads; 0 = all cores
  /// "auto" (bf16 on a CPU with native bf16 dot products, cpuNativeBf16(); fp32 elsewhere), "fp32"
  /// or "bf16" (CPU only).
  std::string precision = "auto";
  /// CPU inference engine: "fused" (the network run directly on oneDNN with its element-wise
  /// work folded into the convolutions: src/model/onednn_net.hpp) or "reference" (the same
  /// folded weights through LibTorch ops; the fused engine is tested against it).
  std::string engine = "fused";
};

/// The CPU's native bf16 instructions that oneDNN runs bf16 convolutions on: "amx_bf16" (AMX
/// tiles exposed by the OS), else "avx512_bf16" (vdpbf16ps), else "" (bf16 would be emulated).
/// Linux: the flags of /proc/cpuinfo.
std::string cpuNativeBf16();
/// The precision loadModel runs `options` with: "fp32" or "bf16". Throws UsageError for an unknown
/// name or bf16 on a non-CPU device.
std::string resolvePrecision(const ModelLoadOptions& options);

/// True when the file looks like a fieldseg model (cheap check of the header).
bool isModelFile(const std::string& path);
/// The model card as JSON text. Throws IoError / DataError.
std::string readModelCard(const std::string& path);
/// Loads the network for inference. Throws IoError / DataError.
std::unique_ptr<Predictor> loadModel(const std::string& path, const ModelLoadOptions& options = {});
/// Copies the model at inPath to outPath with its card replaced by `cardJson` (must be a JSON
/// object keeping the "architecture" and "input_bands" of the original). inPath == outPath is
/// allowed. Used by `fieldseg calibrate`. Throws IoError / DataError / UsageError.
void writeModelCard(const std::string& inPath, const std::string& outPath,
                    const std::string& cardJson);

}  // namespace fieldseg
