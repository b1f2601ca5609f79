// OneDnnNet: see onednn_net.hpp. One tile's forward pass, per level i (spatial size / 2^i):
//   encoder  P_i = maxpool(E_{i-1}) (P_0 = the input in NHWC); E_i = block(P_i)
//   decoder  S = conv1x1(D_{i+1} or E_depth) to 4 c_i channels, ordered (a, b, c) so that output
//            pixel (2h + a, 2w + b) takes one run of c_i channels; U_i = [shuffle(S), E_i];
//            D_i = block(U_i)
//   block    T = relu(conv1(X)); Y = skip(X) (or X); Y = relu(conv2(T) + Y) as one primitive
//            (sum and ReLU post-ops)
//   head     L = conv1x1(D_0), reordered to float32 NCHW.
#include "onednn_net.hpp"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>

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

memory::desc act(int64_t c, int64_t h, int64_t w, dt type) {
  return memory::desc({1, c, h, w}, type, tag::nhwc);
}

// conv (k x k, stride 1, "same" padding) on NHWC activations; `sum`: add what dst holds first.
Conv makeConv(const ConvWeights& cw, int64_t h, int64_t w, dt type, bool relu, bool sum) {
  const auto& eng = cpuEngine();
  Conv c;
  c.src = act(cw.in, h, w, type);
  c.dst = act(cw.out, h, w, type);
  const memory::desc wAny({cw.out, cw.in, cw.k, cw.k}, type, tag::any);
  const memory::desc bDesc({cw.out}, dt::f32, tag::a);
  const int64_t p = cw.k / 2;
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                    dnnl::algorithm::convolution_direct, c.src, wAny, bDesc, c.dst,
                                    {1, 1}, {p, p}, {p, p});
  dnnl::post_ops po;
  if (sum) po.append_sum(1.0f);
  if (relu) po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::convolution_forward::primitive_desc pd(d, attr, eng);
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

OneDnnNet::OneDnnNet(FoldedWeights f) : weights_(std::make_unique<Weights>()) {
  depth_ = f.depth;
  weights_->type = f.bf16 ? dt::bf16 : dt::f32;
  weights_->elem = f.bf16 ? 2 : 4;
  weights_->f = std::move(f);
}

OneDnnNet::~OneDnnNet() = default;

int64_t OneDnnNet::inputBands() const { return weights_->f.inputBands; }

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
  const Weights& W = *weights_;
  const FoldedWeights& F = W.f;
  static std::atomic<std::uint64_t> serials{0};
  auto p = std::make_shared<Plan>();
  p->serial = ++serials;
  p->h = h;
  p->w = w;
  for (int i = 0; i <= depth_; ++i) {
    p->hs.push_back(h >> i);
    p->ws.push_back(w >> i);
    p->ch.push_back(F.enc[i].conv2.out);
  }
  const auto& eng = cpuEngine();
  auto track = [&](const Conv& c) { p->scratch = std::max(p->scratch, c.scratch); };
  for (int i = 0; i <= depth_; ++i) {
    const int64_t hi = p->hs[i], wi = p->ws[i];
    p->enc1.push_back(makeConv(F.enc[i].conv1, hi, wi, W.type, true, false));
    p->encSkip.push_back(F.enc[i].hasSkip ? makeConv(F.enc[i].skip, hi, wi, W.type, false, false)
                                          : Conv{});
    p->enc2.push_back(makeConv(F.enc[i].conv2, hi, wi, W.type, true, true));
    track(p->enc1.back());
    track(p->enc2.back());
    track(p->encSkip.back());
    if (i > 0) {
      const memory::desc src = act(p->ch[i - 1], p->hs[i - 1], p->ws[i - 1], W.type);
      const memory::desc dst = act(p->ch[i - 1], hi, wi, W.type);
      dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference,
                                    dnnl::algorithm::pooling_max, src, dst, {2, 2}, {2, 2}, {0, 0},
                                    {0, 0});
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      const dnnl::pooling_forward::primitive_desc pd(d, attr, eng);
      p->pool.emplace_back(pd);
      p->poolSrc.push_back(src);
      p->poolDst.push_back(dst);
      p->scratch = std::max(p->scratch, pd.scratchpad_desc().get_size());
    }
  }
  for (int i = 0; i < depth_; ++i) {
    const int64_t hi = p->hs[i], wi = p->ws[i];
    p->up.push_back(makeConv(F.up[i], p->hs[i + 1], p->ws[i + 1], W.type, false, false));
    p->dec1.push_back(makeConv(F.dec[i].conv1, hi, wi, W.type, true, false));
    p->decSkip.push_back(F.dec[i].hasSkip ? makeConv(F.dec[i].skip, hi, wi, W.type, false, false)
                                          : Conv{});
    p->dec2.push_back(makeConv(F.dec[i].conv2, hi, wi, W.type, true, true));
    track(p->up.back());
    track(p->dec1.back());
    track(p->dec2.back());
    track(p->decSkip.back());
  }
  p->head = makeConv(F.head, h, w, W.type, false, false);
  track(p->head);
  p->inF32 = memory::desc({1, F.inputBands, h, w}, dt::f32, tag::nchw);
  p->inAct = act(F.inputBands, h, w, W.type);
  p->inReorder = makeReorder(p->inF32, p->inAct);
  p->headOut = act(F.head.out, h, w, W.type);
  p->outF32 = memory::desc({1, F.head.out, h, w}, dt::f32, tag::nchw);
  p->outReorder = makeReorder(p->headOut, p->outF32);
  // Each plan holds a copy of the weights in oneDNN's layout: keep a few sizes, not every one a
  // long job meets (plans in use stay alive through their shared_ptr).
  if (plans_.size() >= kMaxPlans) plans_.clear();
  plans_.emplace(std::make_pair(h, w), p);
  return p;
}

namespace {

// The activation buffers of one plan for one thread, kept between tiles (no page faults). Only
// the encoder outputs live across levels (the decoder's skips); every other buffer is shared by
// the levels, sized for the largest, since each is dead before the next level writes it: `pooled`
// is read by its level's block only, `cat` by its decoder block only, `dec` is consumed by the
// next up-convolution before that level's block writes it again, and `ts` serves as the blocks'
// middle activation and as the up-convolution's output (read by shuffleConcat before the block
// runs). At 640 px in fp32 that is about 175 MB a thread instead of 275.
struct Buffers {
  std::uint64_t plan = 0;  // Plan::serial
  std::vector<Buffer> enc;
  Buffer pooled, dec, cat, ts, in, head, scratch;
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
    B.ts = Buffer(tsMax);
    B.in = Buffer(static_cast<size_t>(F.inputBands * h * w) * W.elem);
    B.head = Buffer(static_cast<size_t>(F.head.out * h * w) * W.elem);
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
  p.inReorder.execute(s, {{DNNL_ARG_FROM, mem(p.inF32, const_cast<float*>(x))},
                          {DNNL_ARG_TO, mem(p.inAct, B.in.data)}});
  block(p.enc1[0], p.enc2[0], p.encSkip[0], F.enc[0].hasSkip, B.in.data, B.enc[0].data, B.in.bytes);
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
    shuffleConcat(static_cast<const char*>(B.ts.data), static_cast<const char*>(B.enc[i].data),
                  static_cast<char*>(B.cat.data), p.hs[i + 1], p.ws[i + 1], p.ch[i], W.elem);
    block(p.dec1[i], p.dec2[i], p.decSkip[i], F.dec[i].hasSkip, B.cat.data, B.dec.data,
          bytes(2 * p.ch[i], i));
    y = B.dec.data;
  }
  run(p.head, y, B.head.data);
  std::vector<float> out(static_cast<size_t>(F.head.out * h * w));
  p.outReorder.execute(
      s, {{DNNL_ARG_FROM, mem(p.headOut, B.head.data)}, {DNNL_ARG_TO, mem(p.outF32, out.data())}});
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
