// ArenaPlan: see arena_plan.hpp. Greedy by size: buffers sorted by size (then by first step), each
// placed in the lowest gap between the buffers already placed whose lives overlap its own.
#include "arena_plan.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "fieldseg/error.hpp"

namespace fieldseg::model {

int ArenaPlan::add(size_t bytes, int first, int last) {
  if (last < first) throw Error("model: arena buffer dies before it is written.");
  items_.push_back(Item{bytes, 0, first, last});
  return static_cast<int>(items_.size()) - 1;
}

void ArenaPlan::extend(int id, int last) {
  Item& it = items_.at(static_cast<size_t>(id));
  it.last = std::max(it.last, last);
}

void ArenaPlan::place(size_t align) {
  std::vector<size_t> order(items_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return items_[a].bytes != items_[b].bytes ? items_[a].bytes > items_[b].bytes
                                              : items_[a].first < items_[b].first;
  });
  auto up = [&](size_t n) { return (n + align - 1) / align * align; };
  std::vector<size_t> placed;
  bytes_ = 0;
  for (size_t i : order) {
    Item& it = items_[i];
    // [offset, end) of the placed buffers alive with this one, by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t j : placed) {
      const Item& o = items_[j];
      if (o.first <= it.last && it.first <= o.last) busy.emplace_back(o.offset, o.offset + o.bytes);
    }
    std::sort(busy.begin(), busy.end());
    size_t at = 0;
    for (const auto& [b, e] : busy) {
      if (at + it.bytes <= b) break;
      at = std::max(at, up(e));
    }
    it.offset = at;
    bytes_ = std::max(bytes_, at + it.bytes);
    placed.push_back(i);
  }
}

size_t ArenaPlan::peakLive() const {
  int steps = 0;
  for (const Item& it : items_) steps = std::max(steps, it.last + 1);
  std::vector<size_t> live(static_cast<size_t>(steps), 0);
  for (const Item& it : items_)
    for (int s = it.first; s <= it.last; ++s) live[static_cast<size_t>(s)] += it.bytes;
  return live.empty() ? 0 : *std::max_element(live.begin(), live.end());
}

size_t ArenaPlan::sum() const {
  size_t n = 0;
  for (const Item& it : items_) n += it.bytes;
  return n;
}

}  // namespace fieldseg::model
