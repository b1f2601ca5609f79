// OneDnnNet's memory (onednn_net.hpp): one arena per tile whose buffers share bytes by liveness
// (arena_plan.hpp), and the arenas kept between tiles.
#include <algorithm>
#include <initializer_list>
#include <mutex>

#include "arena_plan.hpp"
#include "onednn_plan.hpp"

namespace fieldseg::model {

using tag = dnnl::memory::format_tag;

void OneDnnNet::layOut(Plan& p) const {
  const FoldedWeights& F = weights_->f;
  const bool split = p.splitDecoder;
  const auto levels = static_cast<size_t>(depth_ + 1), decLevels = static_cast<size_t>(depth_);
  for (auto* v : {&p.tEnc, &p.e}) v->assign(levels, 0);
  for (auto* v : {&p.pooled, &p.poolScratchOff, &p.s, &p.cat, &p.tDec, &p.d})
    v->assign(decLevels, 0);
  // Steps in the order run() executes them; each buffer lives from the step that writes it first
  // to the last step that reads it (ArenaPlan::extend), each scratchpad for its own step.
  ArenaPlan a;
  int step = 0;
  std::vector<std::pair<size_t*, int>> slots;  // offset field <- arena id
  auto buffer = [&](size_t* off, size_t bytes) {
    const int id = a.add(bytes, step, step);
    slots.emplace_back(off, id);
    return id;
  };
  auto scratch = [&](Conv& c) {
    if (c.scratch.get_size()) buffer(&c.scratchOff, c.scratch.get_size());
  };
  auto read = [&](std::initializer_list<int> ids) {
    for (int id : ids)
      if (id >= 0) a.extend(id, step);
  };
  std::vector<int> eId(levels, -1);
  int x = -1;  // the block's input; -1: the caller's (blocked fp32)
  if (p.inReorder) {
    x = buffer(&p.inOff, p.inAct.get_size());
    ++step;
  }
  for (size_t i = 0; i < levels; ++i) {
    if (i > 0) {
      read({eId[i - 1]});
      x = buffer(&p.pooled[i - 1], p.poolDst[i - 1].get_size());
      if (p.poolScratch[i - 1].get_size())
        buffer(&p.poolScratchOff[i - 1], p.poolScratch[i - 1].get_size());
      ++step;
    }
    read({x});  // the skip (or copy) first: its scratchpad then overlaps no middle activation
    eId[i] = buffer(&p.e[i], p.enc2[i].dst.get_size());
    if (F.enc[i].hasSkip) scratch(p.encSkip[i]);
    ++step;
    read({x});
    const int t = buffer(&p.tEnc[i], p.enc1[i].dst.get_size());
    scratch(p.enc1[i]);
    ++step;
    read({t, eId[i]});
    scratch(p.enc2[i]);
    ++step;
  }
  int y = eId[decLevels];
  for (size_t i = decLevels; i-- > 0;) {
    read({y});
    const int s = buffer(&p.s[i], p.up[i].dst.get_size());
    scratch(p.up[i]);
    ++step;
    read({s, eId[i]});  // the shuffle (and E's copy unsplit)
    const int cat = buffer(&p.cat[i], p.dec1[i].src.get_size());
    ++step;
    int t = -1;
    if (split) {  // conv1's halves, then the skip's
      read({cat});
      t = buffer(&p.tDec[i], p.dec1[i].dst.get_size());
      scratch(p.dec1[i]);
      ++step;
      read({eId[i], t});
      scratch(p.dec1b[i]);
      ++step;
      read({cat});
      y = buffer(&p.d[i], p.dec2[i].dst.get_size());
      if (F.dec[i].hasSkip) scratch(p.decSkip[i]);
      ++step;
      read({eId[i], y});
      if (F.dec[i].hasSkip) scratch(p.decSkipB[i]);
      ++step;
    } else {  // as block() in run(): the skip, then conv1
      read({cat});
      y = buffer(&p.d[i], p.dec2[i].dst.get_size());
      if (F.dec[i].hasSkip) scratch(p.decSkip[i]);
      ++step;
      read({cat});
      t = buffer(&p.tDec[i], p.dec1[i].dst.get_size());
      scratch(p.dec1[i]);
      ++step;
    }
    read({t, y});
    scratch(p.dec2[i]);
    ++step;
  }
  read({y});
  const int logits = buffer(&p.logitsOff, p.headOut.get_size());
  scratch(p.head);
  ++step;
  read({logits});  // the reorder to NCHW
  a.place(64);
  for (const auto& [off, id] : slots) *off = a.offset(id);
  p.arena = a.bytes();
}

// Workspaces (one tile's arena each) are kept between tiles, so a long run does not page-fault
// them in again per tile: as many as tiles ever ran at once, until releaseWorkspace().
std::unique_ptr<OneDnnNet::Workspace> OneDnnNet::takeWorkspace(const Plan& p) const {
  std::unique_ptr<Workspace> ws;
  {
    std::lock_guard<std::mutex> lock(poolMutex_);
    auto it = std::find_if(idle_.begin(), idle_.end(),
                           [&](const auto& w) { return w->plan == p.serial; });
    if (it == idle_.end() && !idle_.empty()) it = idle_.end() - 1;
    if (it != idle_.end()) {
      ws = std::move(*it);
      idle_.erase(it);
    }
  }
  if (!ws) ws = std::make_unique<Workspace>();
  if (ws->arena.bytes < p.arena) {
    ws->arena = Buffer();  // free the old one first
    ws->arena = Buffer(p.arena);
  }
  ws->plan = p.serial;
  return ws;
}

void OneDnnNet::releaseWorkspace() const {
  std::lock_guard<std::mutex> lock(poolMutex_);
  idle_.clear();
}

}  // namespace fieldseg::model
