// The fused network's up-sampling copy (onednn_net.cpp): the 1x1 up-convolution's output S (4c
// channels at h x w, ordered (a, b, channel)) becomes U (c channels at 2h x 2w), pixel (2y + a,
// 2x + b) taking S's run (2a + b); the skip E (c channels at 2h x 2w) follows U in the decoder's
// input where the layout keeps channels apart.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fieldseg::model {

/// NHWC: cat[., ., 0 .. c) = U, cat[., ., c .. 2c) = E (E copied: NHWC interleaves channels).
void shuffleConcatNhwc(const char* s, const char* e, char* cat, int64_t h, int64_t w, int64_t c,
                       size_t elem);

/// nChw16c (c a multiple of 16): plane k of a buffer holds channels 16k .. 16k + 15 of every pixel,
/// 16 values per pixel. Writes U into cat's planes 0 .. c/16 (a buffer of c channels, or the first
/// half of [U, E]: in bf16 the caller copies E into planes c/16 .. 2c/16; fp32's split decoder
/// reads E where the encoder wrote it).
void shuffleBlocked(const char* s, char* cat, int64_t h, int64_t w, int64_t c, size_t elem);

}  // namespace fieldseg::model
