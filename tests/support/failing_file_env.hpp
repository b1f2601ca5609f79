// A FileEnv (fieldseg/file_env.hpp) that fails on purpose, for fault-injection tests: it refuses
// the n-th temp file, cuts a write short with ENOSPC, or refuses the final rename with EACCES.
// Install it with fieldseg::ScopedFileEnv for the span of one write.
#pragma once

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fieldseg/error.hpp"
#include "fieldseg/file_env.hpp"

namespace fieldseg::test {

class FailingFileEnv : public FileEnv {
 public:
  enum class Fail { Create, Write, Rename };
  /// Fails the first operation of kind `what` after `allowed` of them went through.
  explicit FailingFileEnv(Fail what, int allowed = 0) : what_(what), allowed_(allowed) {}

  void willCreate(const std::string& path) override {
    if (what_ == Fail::Create && allowed_-- <= 0)
      throw IoError("test: refusing to create '" + path + "'");
  }
  long write(int fd, const char* data, std::size_t n) override {
    if (what_ != Fail::Write) return FileEnv::write(fd, data, n);
    if (written_ == 0 && n > 1) {  // half of the first chunk lands, then the disk is "full"
      written_ = n / 2;
      return FileEnv::write(fd, data, n / 2);
    }
    errno = ENOSPC;
    return -1;
  }
  int rename(const std::string& from, const std::string& to) override {
    if (what_ != Fail::Rename || allowed_-- > 0) return FileEnv::rename(from, to);
    errno = EACCES;
    return -1;
  }

 private:
  Fail what_;
  int allowed_;
  std::size_t written_ = 0;
};

/// The whole content of the file at `path` ("" when it cannot be read).
inline std::string fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The names of the entries of `dir`, sorted (to show that nothing was left beside an output).
inline std::vector<std::string> entriesOf(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace fieldseg::test
