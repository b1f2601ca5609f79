// See pixel_shuffle.hpp.
#include "pixel_shuffle.hpp"

#include <cstring>

namespace fieldseg::model {

void shuffleConcatNhwc(const char* s, const char* e, char* u, int64_t h, int64_t w, int64_t c,
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

void shuffleBlocked(const char* s, char* u, int64_t h, int64_t w, int64_t c, size_t elem) {
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
}

}  // namespace fieldseg::model
