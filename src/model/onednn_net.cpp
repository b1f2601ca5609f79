// OneDnnNet: see onednn_net.hpp. One tile's forward pass, per level i (spatial size / 2^i):
//   encoder  P_i = maxpool(E_{i-1}) (P_0 = the input in NHWC); E_i = block(P_i)
//   decoder  S = conv1x1(D_{i+1} or E_depth) to 4 c_i channels, ordered (a, b, c) so that output
//            pixel (2h + a, 2w + b) takes one run of c_i channels; U_i = [shuffle(S), E_i];
//            D_i = block(U_i)
//   block    T = relu(conv1(X)); Y = skip(X) (or X); Y = relu(conv2(T) + Y) as one primitive
//            (sum and ReLU post-ops)
//   head     L = conv1x1(D_0), reordered to float32 NCHW.
// In the blocked layout in fp32 the decoder block's conv1 and skip read U_i and E_i as two
// convolutions each (the E half adds onto the U half's output), so [U_i, E_i] is never built; in
// bf16 (where that sum would round the U half to bf16 first) E_i is one copy into the upper half
// of [U_i, E_i], whose channel blocks follow U's. Every buffer and scratchpad of a tile lives in
// one arena (onednn_arena.cpp).
// Layouts: networks whose channel counts are not multiples of 16, CPUs without fast blocked
// kernels, and bf16 where oneDNN's NHWC convolutions run on AMX keep activations NHWC and run
// direct convolutions. Otherwise the activations use oneDNN's blocked layout nChw16c (16 channels
// per vector): in fp32 every 3x3 convolution runs as Winograd F(4x4, 3x3) (about 1.2-2.4x faster
// per convolution than direct on AVX-512, max abs difference about 1e-5 on unit-scale
// activations) and the first block reads the float32 NCHW input with no reorder; in bf16 without
// AMX the blocked direct kernels (jit_bf16) beat NHWC's brgconv by 1.3x on the 16-channel
// full-resolution convolutions (their 16 output channels fill one vector, where brgconv's NHWC
// kernel is bound by its broadcasts) and the first block reads the input as bf16 NCHW. The
// up-sampling copies 16-channel vectors in both.
#include "onednn_net.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>

#include "fieldseg/error.hpp"
#include "onednn_plan.hpp"
#include "pixel_shuffle.hpp"

namespace fieldseg::model {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

constexpr size_t kMaxPlans = 8;
// oneDNN sizes a Winograd convolution's scratchpad by its own schedule: at 512 px the 16 -> 16
// convolutions want 82 MB each, at 640 px 7 MB. Above this a convolution runs direct instead, so
// no tile size makes the arena (onednn_arena.cpp) balloon.
constexpr size_t kMaxWinogradScratch = size_t{32} << 20;

const dnnl::engine& cpuEngine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

}  // namespace

namespace {

memory::desc act(int64_t c, int64_t h, int64_t w, dt type, tag layout) {
  return memory::desc({1, c, h, w}, type, layout);
}

// Where an activation layout is given up: oneDNN's reference kernels are orders of magnitude
// slower.
struct SlowKernel {};

// The primitive descriptor of conv `cw` (k x k, stride 1, "same" padding) from `src` to `dst`;
// `sum`: add what dst holds first.
dnnl::convolution_forward::primitive_desc describeConv(const ConvWeights& cw,
                                                       const memory::desc& src,
                                                       const memory::desc& dst, dt type, bool relu,
                                                       bool sum, dnnl::algorithm alg) {
  const memory::desc wAny({cw.out, cw.in, cw.k, cw.k}, type, tag::any);
  const memory::desc bDesc({cw.out}, dt::f32, tag::a);
  const int64_t p = cw.k / 2;
  dnnl::post_ops po;
  if (sum) po.append_sum(1.0f);
  if (relu) po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return dnnl::convolution_forward::primitive_desc(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, alg, src, wAny, bDesc,
                                      dst, {1, 1}, {p, p}, {p, p}),
      attr, cpuEngine());
}

bool isReference(const dnnl::convolution_forward::primitive_desc& pd) {
  return std::string(pd.impl_info_str()).rfind("ref", 0) == 0;
}

// conv on activations in `layout`; `src`: the input's descriptor when it is not an activation
// (the first block's input).
Conv makeConv(const ConvWeights& cw, int64_t h, int64_t w, dt type, tag layout, bool relu, bool sum,
              int* winograd = nullptr, const memory::desc* src = nullptr) {
  const auto& eng = cpuEngine();
  Conv c;
  c.src = src ? *src : act(cw.in, h, w, type, layout);
  c.dst = act(cw.out, h, w, type, layout);
  const memory::desc bDesc({cw.out}, dt::f32, tag::a);
  auto describe = [&](dnnl::algorithm alg) {
    return describeConv(cw, c.src, c.dst, type, relu, sum, alg);
  };
  dnnl::convolution_forward::primitive_desc pd;
  bool wino = false;
  if (layout == tag::nChw16c && type == dt::f32 && cw.k == 3 && cw.in % 16 == 0 &&
      cw.out % 16 == 0 && !src) {
    try {
      pd = describe(dnnl::algorithm::convolution_winograd);
      wino = pd.scratchpad_desc().get_size() <= kMaxWinogradScratch;
    } catch (const dnnl::error&) {  // not on this CPU: direct below
    }
  }
  if (!wino) pd = describe(dnnl::algorithm::convolution_direct);
  if (layout != tag::nhwc && isReference(pd)) throw SlowKernel{};
  if (winograd) *winograd += wino;
  c.prim = dnnl::convolution_forward(pd);
  c.scratch = pd.scratchpad_desc();
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

// A convolution's input channels [0, c) and [c, in) as two convolutions whose outputs add up to
// it; the bias goes with the first.
std::pair<ConvWeights, ConvWeights> splitInput(const ConvWeights& cw, int64_t c) {
  ConvWeights a, b;
  a.out = b.out = cw.out;
  a.k = b.k = cw.k;
  a.in = c;
  b.in = cw.in - c;
  const auto kk = static_cast<size_t>(cw.k * cw.k), in = static_cast<size_t>(cw.in);
  const auto cut = static_cast<size_t>(c) * kk;
  for (size_t o = 0; o < static_cast<size_t>(cw.out); ++o) {
    const auto row = cw.weight.begin() + static_cast<std::ptrdiff_t>(o * in * kk);
    a.weight.insert(a.weight.end(), row, row + static_cast<std::ptrdiff_t>(cut));
    b.weight.insert(b.weight.end(), row + static_cast<std::ptrdiff_t>(cut),
                    row + static_cast<std::ptrdiff_t>(in * kk));
  }
  a.bias = cw.bias;
  b.bias.assign(static_cast<size_t>(cw.out), 0.f);
  return {a, b};
}

dnnl::reorder makeReorder(const memory::desc& from, const memory::desc& to) {
  const auto& eng = cpuEngine();
  return dnnl::reorder(dnnl::reorder::primitive_desc(eng, from, eng, to));
}

}  // namespace

OneDnnNet::OneDnnNet(FoldedWeights f, ActivationLayout layout)
    : weights_(std::make_unique<Weights>()), layout_(layout) {
  depth_ = f.depth;
  weights_->type = f.bf16 ? dt::bf16 : dt::f32;
  weights_->elem = f.bf16 ? 2 : 4;
  weights_->f = std::move(f);
}

OneDnnNet::~OneDnnNet() = default;

int64_t OneDnnNet::inputBands() const { return weights_->f.inputBands; }

bool OneDnnNet::usesWinograd(int64_t h, int64_t w) const {
  return planFor(h, w)->winogradConvs > 0;
}

std::string OneDnnNet::kernels() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!last_) return "";
  const Plan& p = *last_;
  std::string s = std::string("oneDNN ") + (weights_->f.bf16 ? "bf16" : "fp32") + " " +
                  (p.layout == tag::nhwc ? "NHWC" : "nChw16c") + ", ";
  if (p.winogradConvs == 0) return s + "direct convolutions";
  return s + std::to_string(p.winogradConvs) + " of " + std::to_string(p.convs3x3) +
         " 3x3 convolutions Winograd";
}

size_t OneDnnNet::workspaceBytes(int64_t h, int64_t w) const { return planFor(h, w)->arena; }

// Whether oneDNN runs bf16 NHWC convolutions on AMX here (brgconv:avx512_core_amx_bf16): then
// NHWC is the fast bf16 layout, as its blocked bf16 kernels have no AMX version.
bool OneDnnNet::bf16UsesAmx() {
  static const bool amx = [] {
    try {
      const memory::desc a({1, 16, 64, 64}, dt::bf16, tag::nhwc);
      const dnnl::convolution_forward::primitive_desc pd(
          dnnl::convolution_forward::desc(
              dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, a,
              memory::desc({16, 16, 3, 3}, dt::bf16, tag::any), a, {1, 1}, {1, 1}, {1, 1}),
          cpuEngine());
      return std::string(pd.impl_info_str()).find("amx") != std::string::npos;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return amx;
}

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
  bool blockable =
      layout_ != ActivationLayout::Nhwc && !(F.bf16 && bf16UsesAmx()) && F.enc[0].hasSkip;
  for (const auto& e : F.enc) blockable = blockable && e.conv2.out % 16 == 0;
  for (const auto& d : F.dec)
    blockable = blockable && d.hasSkip;  // split decoder (onednn_plan.hpp)
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
  p->splitDecoder = L != tag::nhwc && !F.bf16;
  for (int i = 0; i <= depth_; ++i) {
    p->hs.push_back(h >> i);
    p->ws.push_back(w >> i);
    p->ch.push_back(F.enc[i].conv2.out);
  }
  const auto& eng = cpuEngine();
  // The blocked layout's first block reads the NCHW input: float32 as it is, or as bf16; where
  // oneDNN 2.6 has no fast kernel for that (16 bands or more: its reference kernel), the input
  // reordered to the blocked layout (channels padded to a multiple of 16).
  p->inF32 = memory::desc({1, F.inputBands, h, w}, dt::f32, tag::nchw);
  p->inAct = act(F.inputBands, h, w, W.type, L == tag::nhwc ? L : tag::nchw);
  if (L != tag::nhwc) {
    const ConvWeights& c1 = F.enc[0].conv1;
    const ConvWeights& sk = F.enc[0].skip;  // blockable: enc0 always has its 1x1 projection
    const auto algo = dnnl::algorithm::convolution_direct;
    if (isReference(
            describeConv(c1, p->inAct, act(c1.out, h, w, W.type, L), W.type, true, false, algo)) ||
        isReference(
            describeConv(sk, p->inAct, act(sk.out, h, w, W.type, L), W.type, false, false, algo)))
      p->inAct = act(F.inputBands, h, w, W.type, L);
  }
  auto conv = [&](const ConvWeights& cw, int level, bool relu, bool sum,
                  const memory::desc* src = nullptr) {
    p->convs3x3 += cw.k == 3;
    return makeConv(cw, p->hs[level], p->ws[level], W.type, L, relu, sum, &p->winogradConvs, src);
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
      p->poolScratch.push_back(pd.scratchpad_desc());
    }
  }
  for (int i = 0; i < depth_; ++i) {
    p->up.push_back(conv(F.up[i], i + 1, false, false));
    const BlockWeights& D = F.dec[i];
    if (p->splitDecoder) {  // T = relu(conv1_U(U) + conv1_E(E)), D = skip_U(U) + skip_E(E)
      const auto [c1u, c1e] = splitInput(D.conv1, p->ch[i]);
      const auto [sku, ske] = splitInput(D.skip, p->ch[i]);
      p->dec1.push_back(conv(c1u, i, false, false));
      p->dec1b.push_back(conv(c1e, i, true, true));
      p->decSkip.push_back(conv(sku, i, false, false));
      p->decSkipB.push_back(conv(ske, i, false, true));
    } else {
      p->dec1.push_back(conv(D.conv1, i, true, false));
      p->decSkip.push_back(D.hasSkip ? conv(D.skip, i, false, false) : Conv{});
    }
    p->dec2.push_back(conv(D.conv2, i, true, true));
  }
  p->head = conv(F.head, 0, false, false);
  if (p->inAct != p->inF32) p->inReorder = makeReorder(p->inF32, p->inAct);
  p->headOut = p->head.dst;  // blocked: 3 channels padded to 16
  p->outF32 = memory::desc({1, F.head.out, h, w}, dt::f32, tag::nchw);
  p->outReorder = makeReorder(p->headOut, p->outF32);
  p->sigmoid = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(
      dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference,
                                  dnnl::algorithm::eltwise_logistic, p->outF32, 0.f, 0.f),
      eng));
  layOut(*p);
  return p;
}

std::vector<float> OneDnnNet::forward(const float* x, int64_t h, int64_t w) const {
  return translated(x, h, w, false);
}

std::vector<float> OneDnnNet::translated(const float* x, int64_t h, int64_t w, bool sigmoid) const {
  try {
    return run(x, h, w, sigmoid);
  } catch (const dnnl::error& e) {
    throw Error(
        std::string("model: oneDNN could not run the fused network: ") + e.what() + " (status " +
        std::to_string(static_cast<int>(e.status)) +
        "). Report it with `lscpu`; the reference engine (ModelLoadOptions::engine) avoids it.");
  }
}

std::vector<float> OneDnnNet::run(const float* x, int64_t h, int64_t w, bool sigmoid) const {
  if (h <= 0 || w <= 0 || h % (1 << depth_) || w % (1 << depth_))
    throw DataError("model: OneDnnNet needs one [" + std::to_string(weights_->f.inputBands) +
                    ",H,W] tile with H, W multiples of " + std::to_string(1 << depth_) + ".");
  const auto plan = planFor(h, w);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    last_ = plan;
  }
  const Plan& p = *plan;
  const Weights& W = *weights_;
  const FoldedWeights& F = W.f;
  const auto& eng = cpuEngine();
  struct GiveBack {  // the workspace goes back to the pool however run() ends
    const OneDnnNet* net;
    std::unique_ptr<Workspace> ws;
    ~GiveBack() {
      std::lock_guard<std::mutex> lock(net->poolMutex_);
      net->idle_.push_back(std::move(ws));
    }
  } held{this, takeWorkspace(p)};
  char* arena = static_cast<char*>(held.ws->arena.data);
  auto at = [&](size_t off) -> void* { return arena + off; };
  dnnl::stream s(eng);
  auto mem = [&](const memory::desc& d, void* data) { return memory(d, eng, data); };
  auto run = [&](const Conv& c, void* src, void* dst) {
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem(c.src, src)},
                                         {DNNL_ARG_WEIGHTS, c.weights},
                                         {DNNL_ARG_BIAS, c.bias},
                                         {DNNL_ARG_DST, mem(c.dst, dst)}};
    if (c.scratch.get_size()) args.emplace(DNNL_ARG_SCRATCHPAD, mem(c.scratch, at(c.scratchOff)));
    c.prim.execute(s, args);
  };
  // Block: dst = relu(conv2(relu(conv1(src))) + skip(src)); t: conv1's output. The skip runs
  // first, so its scratchpad (oneDNN's blocked bf16 1x1 kernels want a float32 copy of the
  // output) never overlaps t in the arena (layOut).
  auto block = [&](const Conv& c1, const Conv& c2, const Conv& sk, bool hasSkip, void* src, void* t,
                   void* dst) {
    if (hasSkip)
      run(sk, src, dst);
    else
      std::memcpy(dst, src, c1.src.get_size());
    run(c1, src, t);
    run(c2, t, dst);
  };
  void* in = const_cast<float*>(x);  // blocked fp32: the first block reads the NCHW input
  if (p.inReorder) {
    p.inReorder.execute(
        s, {{DNNL_ARG_FROM, mem(p.inF32, in)}, {DNNL_ARG_TO, mem(p.inAct, at(p.inOff))}});
    in = at(p.inOff);
  }
  block(p.enc1[0], p.enc2[0], p.encSkip[0], F.enc[0].hasSkip, in, at(p.tEnc[0]), at(p.e[0]));
  for (int i = 1; i <= depth_; ++i) {
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, mem(p.poolSrc[i - 1], at(p.e[i - 1]))},
        {DNNL_ARG_DST, mem(p.poolDst[i - 1], at(p.pooled[i - 1]))}};
    if (p.poolScratch[i - 1].get_size())
      args.emplace(DNNL_ARG_SCRATCHPAD, mem(p.poolScratch[i - 1], at(p.poolScratchOff[i - 1])));
    p.pool[i - 1].execute(s, args);
    block(p.enc1[i], p.enc2[i], p.encSkip[i], F.enc[i].hasSkip, at(p.pooled[i - 1]), at(p.tEnc[i]),
          at(p.e[i]));
  }
  void* y = at(p.e[depth_]);
  for (int i = depth_ - 1; i >= 0; --i) {
    run(p.up[i], y, at(p.s[i]));
    s.wait();
    const auto* sp = static_cast<const char*>(at(p.s[i]));
    auto* cat = static_cast<char*>(at(p.cat[i]));
    void *e = at(p.e[i]), *t = at(p.tDec[i]), *d = at(p.d[i]);
    if (p.splitDecoder) {  // cat holds U only; E stays where the encoder wrote it
      shuffleBlocked(sp, cat, p.hs[i + 1], p.ws[i + 1], p.ch[i], W.elem);
      run(p.dec1[i], cat, t);
      run(p.dec1b[i], e, t);
      run(p.decSkip[i], cat, d);
      run(p.decSkipB[i], e, d);
      run(p.dec2[i], t, d);
    } else {
      if (p.layout == tag::nhwc) {
        shuffleConcatNhwc(sp, static_cast<const char*>(e), cat, p.hs[i + 1], p.ws[i + 1], p.ch[i],
                          W.elem);
      } else {  // [U, E]: E's channel blocks follow U's
        shuffleBlocked(sp, cat, p.hs[i + 1], p.ws[i + 1], p.ch[i], W.elem);
        const size_t eBytes = p.enc2[i].dst.get_size();
        std::memcpy(cat + eBytes, e, eBytes);
      }
      block(p.dec1[i], p.dec2[i], p.decSkip[i], F.dec[i].hasSkip, cat, t, d);
    }
    y = at(p.d[i]);
  }
  run(p.head, y, at(p.logitsOff));  // blocked: 3 channels padded to 16
  std::vector<float> out(static_cast<size_t>(F.head.out * h * w));
  p.outReorder.execute(s, {{DNNL_ARG_FROM, mem(p.headOut, at(p.logitsOff))},
                           {DNNL_ARG_TO, mem(p.outF32, out.data())}});
  if (sigmoid) {  // in place, vectorised (about 3x faster than std::exp per value)
    const memory o = mem(p.outF32, out.data());
    p.sigmoid.execute(s, {{DNNL_ARG_SRC, o}, {DNNL_ARG_DST, o}});
  }
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
  std::vector<float> prob = translated(in, hp, wp, true);
  if (hp == h && wp == w) return prob;
  const int64_t heads = weights_->f.head.out;
  std::vector<float> out(static_cast<size_t>(heads * h * w));
  for (int64_t c = 0; c < heads; ++c)
    for (int64_t r = 0; r < h; ++r)
      std::memcpy(&out[static_cast<size_t>((c * h + r) * w)],
                  &prob[static_cast<size_t>((c * hp + r) * wp)],
                  sizeof(float) * static_cast<size_t>(w));
  return out;
}

}  // namespace fieldseg::model
