// Internal to src/batch: whole-file writes that are atomic on POSIX file systems (temp file in the
// same directory, fsync, rename, fsync of the directory), and a content hash for done-markers.
#pragma once

#include <cstdint>
#include <string>

namespace fieldseg::batch {

/// Writes `content` to `path` atomically, creating parent directories. Throws IoError.
void writeFileAtomic(const std::string& path, const std::string& content);
/// Reads a whole file; returns false when it cannot be opened.
bool readWholeFile(const std::string& path, std::string& content);
/// FNV-1a 64-bit hash, as 16 lower-case hex digits.
std::string fnv1a64Hex(const std::string& bytes);

}  // namespace fieldseg::batch
