// Internal to src/batch: the pieces of the cell store that runShard uses separately (so the test
// hook can stop between the output and its marker).
#pragma once

#include <string>

#include "fieldseg/batch.hpp"

namespace fieldseg::batch {

std::string cellOutputText(const GridCell& cell, const Crs& gridCrs, const FieldSet& fields);
FieldSet parseCellOutput(const std::string& text, const std::string& source);
std::string markerText(const GridCell& cell, const std::string& output, int fieldCount);

}  // namespace fieldseg::batch
