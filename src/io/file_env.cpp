#include "fieldseg/file_env.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "fieldseg/error.hpp"

namespace fieldseg {
namespace {

FileEnv& posixEnv() {
  static FileEnv env;
  return env;
}

std::atomic<FileEnv*>& installed() {
  static std::atomic<FileEnv*> env{&posixEnv()};
  return env;
}

}  // namespace

void FileEnv::willCreate(const std::string&) {}

long FileEnv::write(int fd, const char* data, std::size_t n) {
  return static_cast<long>(::write(fd, data, n));
}

int FileEnv::rename(const std::string& from, const std::string& to) {
  return std::rename(from.c_str(), to.c_str());
}

FileEnv& fileEnv() { return *installed().load(); }

bool writeFully(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const long w = fileEnv().write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

ScopedFileEnv::ScopedFileEnv(FileEnv& env) : previous_(installed().exchange(&env)) {}

ScopedFileEnv::~ScopedFileEnv() { installed().store(previous_); }

void publishFile(const std::string& temp, const std::string& path, const std::string& what) {
  if (fileEnv().rename(temp, path) != 0) {
    const int saved = errno;
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    throw IoError(what + ": cannot move the finished file '" + temp + "' into place as '" + path +
                  "': " + std::strerror(saved) +
                  ". Check that the folder is writable; nothing was written under that name.");
  }
  // Make the rename itself durable (matters on shared file systems after a node crash).
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace fieldseg
