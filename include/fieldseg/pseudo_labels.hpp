// Pseudo-labels for self-training: the fields a model delineated on unlabelled imagery that it is
// sure of, kept as weak labels (the label generator then labels only those fields and masks the
// rest, so an unsure area never trains as background).
//
// A predicted field is kept when its `confidence` (mean extent probability inside it) and its
// `boundary_strength` (mean boundary probability on its outline), the attributes `fieldseg
// delineate` writes, reach the thresholds; fields overlapping a human label by more than 1 % of
// their area (human labels win), fields touching the image frame (cut by the image edge, so one of
// their edges is not a field edge) and fields outside an area range are dropped. Pure function;
// reentrant. Ownership: weak_labels (pseudo_labels.cpp).
#pragma once

#include <optional>
#include <string>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"

namespace fieldseg {

struct PseudoLabelOptions {
  double minConfidence = 0.8;        ///< mean extent probability inside the field
  double minBoundaryStrength = 0.5;  ///< mean boundary probability on its outline
  double minAreaHa = 0;              ///< smaller fields are dropped (the `area` attribute, ha)
  double maxAreaHa = 0;              ///< larger fields are dropped (0 = no limit)
  /// Fields within `frameMarginM` of this box's edge (in the fields' CRS) are dropped; unset =
  /// keep.
  std::optional<WorldBox> frame;
  double frameMarginM = 0;
};

struct PseudoLabelReport {
  long long predicted = 0, kept = 0;
  long long lowConfidence = 0, weakBoundary = 0, outsideAreaRange = 0, touchFrame = 0;
  long long overlapLabels = 0;  ///< intersect a human label
};

/// The confident fields of `predicted` (ids and attributes kept, plus `pseudo` = 1). `labels` are
/// human labels in any CRS (reprojected to the predictions' CRS; compared as they are when either
/// has no CRS); may be empty. Throws DataError when a predicted field lacks the numeric
/// confidence, boundary_strength or area attribute (not delineate output), UsageError for
/// thresholds out of range.
FieldSet selectPseudoLabels(const FieldSet& predicted, const FieldSet& labels,
                            const PseudoLabelOptions& options, PseudoLabelReport* report = nullptr);

}  // namespace fieldseg
