// OneDnnNet: see onednn_net.hpp. One tile's forward pass, per level i (spatial size / 2^i):
//   encoder  P_i = maxpool(E_{i-1}) (P_0 = the input in NHWC); E_i = block(P_i)
//   decoder  S = conv1x1(D_{i+1} or E_depth) to 4 c_i channels, ordered (a, b, c) so that output
//            pixel (2h + a, 2w + b) takes one run of c_i channels; U_i = [shuffle(S), E_i];
//            D_i = block(U_i)
//   block    T = relu(conv1(X)); Y = skip(X) (or X); Y = relu(conv2(T) + Y) as one primitive
//            (sum and ReLU post-ops)
//   head     L = conv1x1(D_0), reordered to float32 NCHW.
// Layouts: bf16 (and fp32 networks whose channel counts are not multiples of 16, or CPUs without
// oneDNN's AVX-512 Winograd) keep activations NHWC and run direct convolutions. fp32 otherwise
// uses oneDNN's blocked layout nChw16c (16 channels per 64-byte vector), which lets every 3x3
// convolution run as Winograd F(4x4, 3x3) (about 1.2-2.4x faster per convolution than direct on
// AVX-512, max abs difference about 1e-5 on unit-scale activations), the first block read the
// float32 NCHW input with no reorder, and the skip concatenation copy whole channel planes.
#include "onednn_net.hpp"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "fieldseg/error.hpp"

namespace fieldseg::model {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

constexpr size_t kMaxPlans = 8;

const dnnl::engine& cpuEngine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

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
  ~Buffer() { std::free(data); }
};

}  // namespace

struct OneDnnNet::Weights {
  dt type = dt::f32;
  size_t elem = 4;
  FoldedWeights f;
};

// A convolution primitive with its reordered weights.
struct Conv {
  dnnl::convolution_forward prim;
  memory weights, bias;
  memory::desc src, dst;
  size_t scratch = 0;
};

struct OneDnnNet::Plan {
  std::uint64_t serial = 0;  // unique over the process: which buffers belong to it
  int64_t h = 0, w = 0;
  tag layout = tag::nhwc;           // of every activation but the input and the logits
  bool winograd = false;            // some 3x3 convolution runs as Winograd
  std::vector<int64_t> hs, ws, ch;  // per level: spatial size and the encoder's channel count
  std::vector<Conv> enc1, enc2, encSkip, dec1, dec2, decSkip, up;
  std::vector<dnnl::pooling_forward> pool;
  std::vector<memory::desc> poolSrc, poolDst;
  Conv head;
  dnnl::reorder inReorder, outReorder;
  memory::desc inF32, inAct, headOut, outF32;
  size_t scratch = 0;
};

namespace {

memory::desc act(int64_t c, int64_t h, int64_t w, dt type, tag layout) {
  return memory::desc({1, c, h, w}, type, layout);
}

// Where an activation layout is given up: oneDNN's reference kernels are orders of magnitude
// slower.
struct SlowKernel {};

// conv (k x k, stride 1, "same" padding) on activations in `layout`; `sum`: add what dst holds
// first; `src`: the input's descriptor when it is not an activation (the first block's NCHW input).
Conv makeConv(const ConvWeights& cw, int64_t h, int64_t w, dt type, tag layout, bool relu, bool sum,
              bool* winograd = nullptr, const memory::desc* src = nullptr) {
  const auto& eng = cpuEngine();
  Conv c;
  c.src = src ? *src : act(cw.in, h, w, type, layout);
  c.dst = act(cw.out, h, w, type, layout);
  const memory::desc wAny({cw.out, cw.in, cw.k, cw.k}, type, tag::any);
  const memory::desc bDesc({cw.out}, dt::f32, tag::a);
  const int64_t p = cw.k / 2;
  dnnl::post_ops po;
  if (sum) po.append_sum(1.0f);
  if (relu) po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  auto describe = [&](dnnl::algorithm alg) {
    return dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, alg, c.src, wAny, bDesc,
                                        c.dst, {1, 1}, {p, p}, {p, p}),
        attr, eng);
  };
  dnnl::convolution_forward::primitive_desc pd;
  bool wino = false;
  if (layout == tag::nChw16c && cw.k == 3 && cw.in % 16 == 0 && cw.out % 16 == 0 && !src) {
    try {
      pd = describe(dnnl::algorithm::convolution_winograd);
      wino = true;
    } catch (const dnnl::error&) {  // not on this CPU: direct below
    }
  }
  if (!wino) pd = describe(dnnl::algorithm::convolution_direct);
  if (layout != tag::nhwc && std::string(pd.impl_info_str()).rfind("ref", 0) == 0)
    throw SlowKernel{};
  if (winograd) *winograd = *winograd || wino;
  c.prim = dnnl::convolution_forward(pd);
  c.scratch = pd.scratchpad_desc().get_size();
  // The weights hold values of the network's dtype already (folded_weights.hpp): the reorder from
  // float32 to bf16 is exact.
  const memory::desc wPlain({cw.out, cw.in, cw.k, cw.k}, dt::f32, tag::oihw);
  memory wUser(wPlain, eng, const_cast<float*>(cw.weight.data()));
  c.weights = memory(pd.weights_desc(), eng);
  dnnl::stream s(eng);
  dnnl::reorder(wUser, c.weights).execute(s, wUser, c.weights);
  c.bias = memory(bDesc, eng);
  std::memcpy(c.bias.get_data_handle(), cw.bias.data(), sizeof(float) * cw.out);
  s.wait();
  return c;
}

dnnl::reorder makeReorder(const memory::desc& from, const memory::desc& to) {
  const auto& eng = cpuEngine();
  return dnnl::reorder(dnnl::reorder::primitive_desc(eng, from, eng, to));
}

}  // namespace

OneDnnNet::OneDnnNet(FoldedWeights f, Fp32Layout fp32Layout)
    : weights_(std::make_unique<Weights>()), fp32Layout_(fp32Layout) {
  depth_ = f.depth;
  weights_->type = f.bf16 ? dt::bf16 : dt::f32;
  weights_->elem = f.bf16 ? 2 : 4;
  weights_->f = std::move(f);
}

OneDnnNet::~OneDnnNet() = default;

int64_t OneDnnNet::inputBands() const { return weights_->f.inputBands; }

bool OneDnnNet::usesWinograd(int64_t h, int64_t w) const { return planFor(h, w)->winograd; }

bool OneDnnNet::available() {
  try {
    (void)cpuEngine();
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

std::shared_ptr<const OneDnnNet::Plan> OneDnnNet::planFor(int64_t h, int64_t w) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = plans_.find({h, w});
  if (it != plans_.end()) return it->second;
  const FoldedWeights& F = weights_->f;
  bool blockable = !F.bf16 && fp32Layout_ != Fp32Layout::Nhwc && F.enc[0].hasSkip;
  for (const auto& e : F.enc) blockable = blockable && e.conv2.out % 16 == 0;
  std::shared_ptr<Plan> p;
  if (blockable) {
    try {
      p = buildPlan(h, w, static_cast<int>(tag::nChw16c));
    } catch (const SlowKernel&) {  // no fast blocked kernels on this CPU
    }
  }
  if (!p) p = buildPlan(h, w, static_cast<int>(tag::nhwc));
  // Each plan holds a copy of the weights in oneDNN's layout: keep a few sizes, not every one a
  // long job meets (plans in use stay alive through their shared_ptr).
  if (plans_.size() >= kMaxPlans) plans_.clear();
  plans_.emplace(std::make_pair(h, w), p);
  return p;
}

std::shared_ptr<OneDnnNet::Plan> OneDnnNet::buildPlan(int64_t h, int64_t w, int layoutTag) const {
  const Weights& W = *weights_;
  const FoldedWeights& F = W.f;
  const tag L = static_cast<tag>(layoutTag);
  static std::atomic<std::uint64_t> serials{0};
  auto p = std::make_shared<Plan>();
  p->serial = ++serials;
  p->h = h;
  p->w = w;
  p->layout = L;
  for (int i = 0; i <= depth_; ++i) {
    p->hs.push_back(h >> i);
    p->ws.push_back(w >> i);
    p->ch.push_back(F.enc[i].conv2.out);
  }
  const auto& eng = cpuEngine();
  // The blocked layout's first block reads the float32 NCHW input as it is.
  p->inF32 = memory::desc({1, F.inputBands, h, w}, dt::f32, tag::nchw);
  p->inAct = L == tag::nhwc ? act(F.inputBands, h, w, W.type, L) : p->inF32;
  auto conv = [&](const ConvWeights& cw, int level, bool relu, bool sum,
                  const memory::desc* src = nullptr) {
    Conv c = makeConv(cw, p->hs[level], p->ws[level], W.type, L, relu, sum, &p->winograd, src);
    p->scratch = std::max(p->scratch, c.scratch);
    return c;
  };
  for (int i = 0; i <= depth_; ++i) {
    const memory::desc* in0 = i == 0 && L != tag::nhwc ? &p->inAct : nullptr;
    p->enc1.push_back(conv(F.enc[i].conv1, i, true, false, in0));
    p->encSkip.push_back(F.enc[i].hasSkip ? conv(F.enc[i].skip, i, false, false, in0) : Conv{});
    p->enc2.push_back(conv(F.enc[i].conv2, i, true, true));
    if (i > 0) {
      const memory::desc src = act(p->ch[i - 1], p->hs[i - 1], p->ws[i - 1], W.type, L);
      const memory::desc dst = act(p->ch[i - 1], p->hs[i], p->ws[i], W.type, L);
      dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference,
                                    dnnl::algorithm::pooling_max, src, dst, {2, 2}, {2, 2}, {0, 0},
                                    {0, 0});
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      const dnnl::pooling_forward::primitive_desc pd(d, attr, eng);
      if (L != tag::nhwc && std::string(pd.impl_info_str()).rfind("ref", 0) == 0)
        throw SlowKernel{};
      p->pool.emplace_back(pd);
      p->poolSrc.push_back(src);
      p->poolDst.push_back(dst);
      p->scratch = std::max(p->scratch, pd.scratchpad_desc().get_size());
    }
  }
  for (int i = 0; i < depth_; ++i) {
    p->up.push_back(conv(F.up[i], i + 1, false, false));
    p->dec1.push_back(conv(F.dec[i].conv1, i, true, false));
    p->decSkip.push_back(F.dec[i].hasSkip ? conv(F.dec[i].skip, i, false, false) : Conv{});
    p->dec2.push_back(conv(F.dec[i].conv2, i, true, true));
  }
  p->head = conv(F.head, 0, false, false);
  if (L == tag::nhwc) p->inReorder = makeReorder(p->inF32, p->inAct);
  p->headOut = p->head.dst;  // blocked: 3 channels padded to 16
  p->outF32 = memory::desc({1, F.head.out, h, w}, dt::f32, tag::nchw);
  p->outReorder = makeReorder(p->headOut, p->outF32);
  return p;
}

namespace {

// The activation buffers of one plan for one thread, kept between tiles (no page faults). Only
// the encoder outputs live across levels (the decoder's skips); every other buffer is shared by
// the levels, sized for the largest, since each is dead before the next level writes it: `pooled`
// is read by its level's block only, `cat` by its decoder block only, `dec` is consumed by the
// next up-convolution before that level's block writes it again, and `ts` serves as the blocks'
// middle activation, as the up-convolution's output (read by shuffleConcat before the block
// runs) and as the head's logits. At 640 px in fp32 that is about 170 MB a thread instead of 275,
// plus oneDNN's scratchpad (about 50 MB for the blocked layout's Winograd convolutions).
struct Buffers {
  std::uint64_t plan = 0;  // Plan::serial
  std::vector<Buffer> enc;
  Buffer pooled, dec, cat, ts, in, scratch;
};

Buffers& threadBuffers() {
  thread_local Buffers b;
  return b;
}

// U[2h + a, 2w + b, 0 .. c) = S[h, w, (2a + b) c .. +c); U[., ., c .. 2c) = E[., ., 0 .. c).
void shuffleConcat(const char* s, const char* e, char* u, int64_t h, int64_t w, int64_t c,
                   size_t elem) {
  const size_t run = static_cast<size_t>(c) * elem;
  const int64_t w2 = 2 * w;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const char* sp = s + static_cast<size_t>(y * w + x) * 4 * run;
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) {
          const size_t pix = static_cast<size_t>((2 * y + a) * w2 + 2 * x + b);
          std::memcpy(u + pix * 2 * run, sp + (2 * a + b) * run, run);
          std::memcpy(u + pix * 2 * run + run, e + pix * run, run);
        }
    }
}

// The same in nChw16c (c a multiple of 16): plane k of a buffer holds channels 16k .. 16k + 15 of
// every pixel, 16 values per pixel. U's planes 0 .. c/16 take S's vectors, its planes c/16 .. 2c/16
// are E as it is.
void shuffleConcatBlocked(const char* s, const char* e, char* u, int64_t h, int64_t w, int64_t c,
                          size_t elem) {
  const size_t vec = 16 * elem;
  const int64_t blocks = c / 16, w2 = 2 * w;
  const size_t inPlane = static_cast<size_t>(h * w) * vec, outPlane = 4 * inPlane;
  for (int64_t k = 0; k < blocks; ++k)
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        const char* sp = s + static_cast<size_t>((2 * a + b) * blocks + k) * inPlane;
        char* up = u + static_cast<size_t>(k) * outPlane;
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x)
            std::memcpy(up + static_cast<size_t>((2 * y + a) * w2 + 2 * x + b) * vec,
                        sp + static_cast<size_t>(y * w + x) * vec, vec);
      }
  std::memcpy(u + static_cast<size_t>(blocks) * outPlane, e,
              static_cast<size_t>(blocks) * outPlane);
}

}  // namespace

std::vector<float> OneDnnNet::forward(const float* x, int64_t h, int64_t w) const {
  try {
    return run(x, h, w);
  } catch (const dnnl::error& e) {
    throw Error(
        std::string("model: oneDNN could not run the fused network: ") + e.what() + " (status " +
        std::to_string(static_cast<int>(e.status)) +
        "). Report it with `lscpu`; the reference engine (ModelLoadOptions::engine) avoids it.");
  }
}

std::vector<float> OneDnnNet::run(const float* x, int64_t h, int64_t w) const {
  if (h <= 0 || w <= 0 || h % (1 << depth_) || w % (1 << depth_))
    throw DataError("model: OneDnnNet needs one [" + std::to_string(weights_->f.inputBands) +
                    ",H,W] tile with H, W multiples of " + std::to_string(1 << depth_) + ".");
  const auto plan = planFor(h, w);
  const Plan& p = *plan;
  const Weights& W = *weights_;
  const FoldedWeights& F = W.f;
  const auto& eng = cpuEngine();
  Buffers& B = threadBuffers();
  auto bytes = [&](int64_t c, int level) {
    return static_cast<size_t>(c * p.hs[level] * p.ws[level]) * W.elem;
  };
  if (B.plan != p.serial) {
    B = Buffers();
    B.plan = p.serial;
    size_t tsMax = 64, pooledMax = 64, decMax = 64, catMax = 64;
    for (int i = 0; i <= depth_; ++i) {
      B.enc.emplace_back(bytes(p.ch[i], i));
      if (i > 0) pooledMax = std::max(pooledMax, bytes(p.ch[i - 1], i));
      tsMax = std::max(tsMax, bytes(p.ch[i], i));
    }
    for (int i = 0; i < depth_; ++i) {
      decMax = std::max(decMax, bytes(p.ch[i], i));
      catMax = std::max(catMax, bytes(2 * p.ch[i], i));
      tsMax = std::max(tsMax, bytes(4 * p.ch[i], i + 1));
    }
    B.pooled = Buffer(pooledMax);
    B.dec = Buffer(decMax);
    B.cat = Buffer(catMax);
    B.ts = Buffer(std::max(tsMax, p.headOut.get_size()));
    B.in = Buffer(p.inReorder ? p.inAct.get_size() : 64);
    B.scratch = Buffer(std::max<size_t>(p.scratch, 64));
  }
  dnnl::stream s(eng);
  memory scratch(memory::desc({static_cast<int64_t>(B.scratch.bytes)}, dt::u8, tag::a), eng,
                 B.scratch.data);
  auto mem = [&](const memory::desc& d, void* data) { return memory(d, eng, data); };
  auto run = [&](const Conv& c, void* src, void* dst) {
    c.prim.execute(s, {{DNNL_ARG_SRC, mem(c.src, src)},
                       {DNNL_ARG_WEIGHTS, c.weights},
                       {DNNL_ARG_BIAS, c.bias},
                       {DNNL_ARG_DST, mem(c.dst, dst)},
                       {DNNL_ARG_SCRATCHPAD, scratch}});
  };
  // Block: dst = relu(conv2(relu(conv1(src))) + skip(src)).
  auto block = [&](const Conv& c1, const Conv& c2, const Conv& sk, bool hasSkip, void* src,
                   void* dst, size_t srcBytes) {
    run(c1, src, B.ts.data);
    if (hasSkip)
      run(sk, src, dst);
    else
      std::memcpy(dst, src, srcBytes);
    run(c2, B.ts.data, dst);
  };
  void* in = const_cast<float*>(x);  // blocked layout: the first block reads the NCHW input
  if (p.inReorder) {
    p.inReorder.execute(
        s, {{DNNL_ARG_FROM, mem(p.inF32, in)}, {DNNL_ARG_TO, mem(p.inAct, B.in.data)}});
    in = B.in.data;
  }
  block(p.enc1[0], p.enc2[0], p.encSkip[0], F.enc[0].hasSkip, in, B.enc[0].data, B.in.bytes);
  for (int i = 1; i <= depth_; ++i) {
    p.pool[i - 1].execute(s, {{DNNL_ARG_SRC, mem(p.poolSrc[i - 1], B.enc[i - 1].data)},
                              {DNNL_ARG_DST, mem(p.poolDst[i - 1], B.pooled.data)},
                              {DNNL_ARG_SCRATCHPAD, scratch}});
    block(p.enc1[i], p.enc2[i], p.encSkip[i], F.enc[i].hasSkip, B.pooled.data, B.enc[i].data,
          bytes(p.ch[i - 1], i));
  }
  void* y = B.enc[depth_].data;
  for (int i = depth_ - 1; i >= 0; --i) {
    run(p.up[i], y, B.ts.data);
    s.wait();
    (p.layout == tag::nhwc ? shuffleConcat : shuffleConcatBlocked)(
        static_cast<const char*>(B.ts.data), static_cast<const char*>(B.enc[i].data),
        static_cast<char*>(B.cat.data), p.hs[i + 1], p.ws[i + 1], p.ch[i], W.elem);
    block(p.dec1[i], p.dec2[i], p.decSkip[i], F.dec[i].hasSkip, B.cat.data, B.dec.data,
          bytes(2 * p.ch[i], i));
    y = B.dec.data;
  }
  run(p.head, y, B.ts.data);  // the logits (blocked: 3 channels padded to 16) reuse `ts`
  std::vector<float> out(static_cast<size_t>(F.head.out * h * w));
  p.outReorder.execute(
      s, {{DNNL_ARG_FROM, mem(p.headOut, B.ts.data)}, {DNNL_ARG_TO, mem(p.outF32, out.data())}});
  s.wait();
  return out;
}

std::vector<float> OneDnnNet::predictProbabilities(const float* x, int64_t h, int64_t w) const {
  const int64_t m = int64_t(1) << depth_;
  const int64_t hp = (h + m - 1) / m * m, wp = (w + m - 1) / m * m;
  const int64_t bands = weights_->f.inputBands;
  std::vector<float> padded;
  const float* in = x;
  if (hp != h || wp != w) {  // zero padding at the bottom and right
    padded.assign(static_cast<size_t>(bands * hp * wp), 0.f);
    for (int64_t b = 0; b < bands; ++b)
      for (int64_t r = 0; r < h; ++r)
        std::memcpy(&padded[static_cast<size_t>((b * hp + r) * wp)], x + (b * h + r) * w,
                    sizeof(float) * static_cast<size_t>(w));
    in = padded.data();
  }
  const std::vector<float> logits = forward(in, hp, wp);
  const int64_t heads = weights_->f.head.out;
  std::vector<float> prob(static_cast<size_t>(heads * h * w));
  for (int64_t c = 0; c < heads; ++c)
    for (int64_t r = 0; r < h; ++r) {
      const float* src = &logits[static_cast<size_t>((c * hp + r) * wp)];
      float* dst = &prob[static_cast<size_t>((c * h + r) * w)];
      for (int64_t k = 0; k < w; ++k) dst[k] = 1.f / (1.f + std::exp(-src[k]));
    }
  return prob;
}

}  // namespace fieldseg::model
