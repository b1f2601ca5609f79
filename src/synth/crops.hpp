// What the fields of the synthetic cadastre grow (internal to src/synth): the crop of a large
// (US-like) field or of a smallholder plot, drawn from the layout's Rng in a fixed order.
#pragma once

#include <cstdint>

#include "layout.hpp"
#include "noise.hpp"

namespace fieldseg::synth {

/// Maize, soybean, small grain, bare soil or hay, with rows along `rowDir` (across the rows).
void assignLargeCrop(Parcel& p, V2 rowDir, Rng& rng);
/// A plot sharing its block's season and soil, with a slow regional swing of green cover; `g`
/// is the GSD in metres.
void assignSmallCrop(Parcel& p, const Block& b, V2 rowDir, Rng& rng, std::uint64_t sceneSeed,
                     double g);

}  // namespace fieldseg::synth
