// ArenaPlan: places a fixed schedule's buffers in one block of memory. Each buffer is live from
// the step that first writes it to the step that last reads it; two buffers share bytes only when
// their lives do not overlap, so the block needs about the largest set of buffers live at one step
// instead of the sum of all (the fused network's activations and its convolutions' scratchpads:
// onednn_net.cpp).
#pragma once

#include <cstddef>
#include <vector>

namespace fieldseg::model {

class ArenaPlan {
 public:
  /// A buffer of `bytes` live from step `first` to step `last` (inclusive); returns its id.
  int add(size_t bytes, int first, int last);
  /// Lets buffer `id` live until step `last` too (a later reader).
  void extend(int id, int last);
  /// Assigns the offsets (buffers in turn, each at the lowest offset that overlaps no placed
  /// buffer live at the same time; the smallest block of three orders: largest, longest-lived, or
  /// largest bytes x steps first), every offset a multiple of `align`.
  void place(size_t align = 64);
  size_t offset(int id) const { return items_.at(static_cast<size_t>(id)).offset; }
  /// Bytes of the block (valid after place()).
  size_t bytes() const { return bytes_; }
  /// The most bytes live at one step (a lower bound of bytes()).
  size_t peakLive() const;
  /// The sum of every buffer (the block without sharing).
  size_t sum() const;

 private:
  struct Item {
    size_t bytes = 0, offset = 0;
    int first = 0, last = 0;
  };
  std::vector<Item> items_;
  size_t bytes_ = 0;
};

}  // namespace fieldseg::model
