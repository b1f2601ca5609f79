// Acquisition dates as fiboa's determination_datetime wants them: ISO 8601 in UTC
// ("2021-08-01T00:00:00Z"). Owner: io (src/io/datetime.cpp). Pure; reentrant.
#pragma once

#include <optional>
#include <string>

namespace fieldseg {

/// `text` as "YYYY-MM-DDTHH:MM:SSZ". Reads "YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM[:SS[.fff]]" with an
/// optional zone ("Z", "+HH:MM", "-HHMM", converted to UTC; none = UTC), and TIFF's
/// "YYYY:MM:DD HH:MM:SS". Nothing for anything else or an impossible date.
std::optional<std::string> isoUtc(const std::string& text);

}  // namespace fieldseg
