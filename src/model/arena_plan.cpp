// ArenaPlan: see arena_plan.hpp. Greedy: buffers taken in some order, each placed in the lowest
// gap between the buffers already placed whose lives overlap its own; the best of a few orders.
#include "arena_plan.hpp"

#include <algorithm>
#include <functional>
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

namespace {

// Places items in `order`, each at the lowest offset where it overlaps no placed item live at the
// same time; returns the block's bytes.
template <class Item>
size_t placeInOrder(std::vector<Item>& items, const std::vector<size_t>& order, size_t align) {
  auto up = [&](size_t n) { return (n + align - 1) / align * align; };
  std::vector<size_t> placed;
  size_t bytes = 0;
  for (size_t i : order) {
    Item& it = items[i];
    // [offset, end) of the placed buffers alive with this one, by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t j : placed) {
      const Item& o = items[j];
      if (o.first <= it.last && it.first <= o.last) busy.emplace_back(o.offset, o.offset + o.bytes);
    }
    std::sort(busy.begin(), busy.end());
    size_t at = 0;
    for (const auto& [b, e] : busy) {
      if (at + it.bytes <= b) break;
      at = std::max(at, up(e));
    }
    it.offset = at;
    bytes = std::max(bytes, at + it.bytes);
    placed.push_back(i);
  }
  return bytes;
}

}  // namespace

void ArenaPlan::place(size_t align) {
  // Greedy placement depends on the order; a few orders are tried and the smallest block kept:
  // largest first, longest-lived first, and largest bytes x steps first (ties by first step).
  using Key = std::function<bool(const Item&, const Item&)>;
  const std::vector<Key> keys = {
      [](const Item& a, const Item& b) { return a.bytes > b.bytes; },
      [](const Item& a, const Item& b) { return a.last - a.first > b.last - b.first; },
      [](const Item& a, const Item& b) {
        return a.bytes * size_t(a.last - a.first + 1) > b.bytes * size_t(b.last - b.first + 1);
      }};
  bytes_ = 0;
  std::vector<Item> best;
  for (const Key& key : keys) {
    std::vector<size_t> order(items_.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const Item &x = items_[a], &y = items_[b];
      if (key(x, y)) return true;
      if (key(y, x)) return false;
      return x.first < y.first;
    });
    std::vector<Item> trial = items_;
    const size_t n = placeInOrder(trial, order, align);
    if (best.empty() || n < bytes_) {
      bytes_ = n;
      best = std::move(trial);
    }
  }
  if (!best.empty()) items_ = std::move(best);
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
