// Whole-file writes for src/batch (fieldseg::writeFileAtomically, src/io/temp_files.cpp: readers
// see the old file or the complete new one, never a prefix), whole-file reads and the marker hash.
#include "atomic_file.hpp"

#include <fstream>
#include <sstream>

#include "fieldseg/temp_files.hpp"

namespace fieldseg::batch {

void writeFileAtomic(const std::string& path, const std::string& content) {
  writeFileAtomically(path, content);
}

bool readWholeFile(const std::string& path, std::string& content) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  content = ss.str();
  return true;
}

std::string fnv1a64Hex(const std::string& bytes) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace fieldseg::batch
