// Inference precision: which CPUs get bf16 by default. No LibTorch here.
#include <fstream>
#include <string>

#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"

namespace fieldseg {

std::string cpuNativeBf16() {
  // The kernel lists amx_bf16 only when the CPU has it AND the OS enables its tile state, which is
  // what oneDNN needs to dispatch its AMX bf16 convolutions (brgconv:avx512_core_amx_bf16).
  // avx512_bf16 (vdpbf16ps: Cooper Lake, AMD Zen 4/5) gets brgconv:avx512_core_bf16, which ran the
  // fused network 2x faster than fp32 on an AMD EPYC host (src/model/README.md). Without either,
  // oneDNN emulates bf16 and it gains nothing.
  static const std::string isa = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      line += " ";
      if (line.find(" amx_bf16 ") != std::string::npos) return std::string("amx_bf16");
      if (line.find(" avx512_bf16 ") != std::string::npos) return std::string("avx512_bf16");
      return std::string();
    }
    return std::string();
  }();
  return isa;
}

std::string resolvePrecision(const ModelLoadOptions& options) {
  const std::string& p = options.precision;
  const bool cpu = options.device.empty() || options.device == "cpu";
  if (p == "fp32") return p;
  if (p == "bf16") {
    if (!cpu)
      throw UsageError("model: --precision bf16 runs on the CPU only, not on '" + options.device +
                       "'. Use --precision fp32 or auto.");
    return p;
  }
  if (p == "auto" || p.empty()) return cpu && !cpuNativeBf16().empty() ? "bf16" : "fp32";
  throw UsageError("model: precision '" + p + "' is not one of auto, fp32, bf16.");
}

}  // namespace fieldseg
