// The file-system seam every output goes through, after leveldb's Env: a writer builds its file
// under a temp sibling (fieldseg/temp_files.hpp) and publishes it under its real name with
// publishFile(), the one atomic step that makes an output appear. Tests install a FileEnv that
// refuses a create, a write or the rename on purpose (ScopedFileEnv) and check that nothing
// half-written is left, under the output's name or as a temp file.
//
// Thread safety: the installed FileEnv is called from any thread that writes; installing one
// (ScopedFileEnv) is for tests, while no writer runs.
#pragma once

#include <cstddef>
#include <string>

namespace fieldseg {

class FileEnv {
 public:
  virtual ~FileEnv() = default;
  /// Called with the name of every temp file or folder before it is created; throw IoError to
  /// refuse it (the default accepts all).
  virtual void willCreate(const std::string& path);
  /// write(2) of up to `n` bytes to `fd`: the count written, or -1 with errno set.
  virtual long write(int fd, const char* data, std::size_t n);
  /// rename(2) of `from` onto `to`: 0, or -1 with errno set.
  virtual int rename(const std::string& from, const std::string& to);
};

/// The installed FileEnv (the plain POSIX one unless a test installed another).
FileEnv& fileEnv();

/// All `n` bytes of `data` to `fd` through fileEnv().write, across short writes and EINTR; false
/// with errno set when a write fails.
bool writeFully(int fd, const char* data, std::size_t n);

/// Installs `env` until this object dies, then restores the previous one (tests).
class ScopedFileEnv {
 public:
  explicit ScopedFileEnv(FileEnv& env);
  ~ScopedFileEnv();
  ScopedFileEnv(const ScopedFileEnv&) = delete;
  ScopedFileEnv& operator=(const ScopedFileEnv&) = delete;

 private:
  FileEnv* previous_;
};

/// Moves the finished temp file `temp` onto `path` (rename through fileEnv(), then an fsync of
/// the folder so the rename survives a crash). On failure `temp` is removed, an existing `path` is
/// left as it was, and IoError names both. `what` starts the message ("io", "model", ...).
void publishFile(const std::string& temp, const std::string& path, const std::string& what);

}  // namespace fieldseg
