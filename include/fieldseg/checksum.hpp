// File checksums for provenance records (run.json): SHA-256 as lowercase hex.
#pragma once

#include <string>

namespace fieldseg {

/// SHA-256 of `bytes`, 64 lowercase hex digits.
std::string sha256Hex(const std::string& bytes);
/// SHA-256 of the file at `path` (read in 1 MiB blocks). Throws IoError when it cannot be read.
std::string sha256File(const std::string& path);

}  // namespace fieldseg
