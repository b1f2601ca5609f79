// Internal to src/model: the types behind OneDnnNet (onednn_net.hpp) that its two sources share:
// onednn_net.cpp builds a Plan (the primitives of one tile size) and runs it, onednn_arena.cpp
// places the plan's buffers in one arena (layOut) and keeps the arenas between tiles.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <utility>
#include <vector>

#include "fieldseg/error.hpp"
#include "onednn_net.hpp"

namespace fieldseg::model {

// 64-byte aligned bytes, freed with the object.
struct Buffer {
  void* data = nullptr;
  size_t bytes = 0;
  Buffer() = default;
  explicit Buffer(size_t n) : bytes(n) {
    data = std::aligned_alloc(64, (n + 63) / 64 * 64);
    if (!data) throw Error("model: out of memory for a " + std::to_string(n) + "-byte activation.");
  }
  Buffer(Buffer&& o) noexcept : data(o.data), bytes(o.bytes) { o.data = nullptr; }
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(data, o.data);
    std::swap(bytes, o.bytes);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { std::free(data); }
};

struct OneDnnNet::Weights {
  dnnl::memory::data_type type = dnnl::memory::data_type::f32;
  size_t elem = 4;  // bytes of one activation value
  FoldedWeights f;
};

// A convolution primitive with its reordered weights.
struct Conv {
  dnnl::convolution_forward prim;
  dnnl::memory weights, bias;
  dnnl::memory::desc src, dst, scratch;  // scratch: oneDNN's scratchpad (may be empty)
  size_t scratchOff = 0;                 // where the scratchpad sits in the arena
};

struct OneDnnNet::Plan {
  std::uint64_t serial = 0;  // unique over the process: which arenas were sized for it
  int64_t h = 0, w = 0;
  dnnl::memory::format_tag layout = dnnl::memory::format_tag::nhwc;  // of the activations
  int convs3x3 = 0, winogradConvs = 0;  // how many 3x3 convolutions, how many of them Winograd
  // The decoder's input [U, E] as two halves (blocked fp32): dec1/decSkip read U, dec1b and
  // decSkipB read E and add to what the first wrote. Else one buffer with E copied in.
  bool splitDecoder = false;
  std::vector<int64_t> hs, ws, ch;  // per level: spatial size and the encoder's channel count
  std::vector<Conv> enc1, enc2, encSkip, dec1, dec1b, dec2, decSkip, decSkipB, up;
  std::vector<dnnl::pooling_forward> pool;
  std::vector<dnnl::memory::desc> poolSrc, poolDst, poolScratch;
  Conv head;
  dnnl::reorder inReorder, outReorder;
  dnnl::eltwise_forward sigmoid;  // in place on the float32 NCHW logits (predictProbabilities)
  dnnl::memory::desc inF32, inAct, headOut, outF32;
  // One tile's buffers in one arena (layOut): offsets of the input (inAct, when it is not the
  // caller's float32 NCHW), per encoder level of
  // the block's middle activation and output E_i, of the pooled input (index i - 1 like `pool`,
  // with the pooling's scratchpad), per decoder level of the up-convolution's output S, the
  // decoder's input (U, or [U, E] unsplit), the block's middle activation and output D, and of the
  // logits. Each convolution's scratchpad offset is in its Conv.
  size_t arena = 0, inOff = 0, logitsOff = 0;
  std::vector<size_t> tEnc, e, pooled, poolScratchOff, s, cat, tDec, d;
};

struct OneDnnNet::Workspace {
  std::uint64_t plan = 0;  // Plan::serial it was last used for
  Buffer arena;
};

}  // namespace fieldseg::model
