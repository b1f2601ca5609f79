#include "fieldseg/temp_files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "fieldseg/error.hpp"
#include "fieldseg/file_env.hpp"

namespace fieldseg {
namespace {

namespace fs = std::filesystem;
constexpr const char* kMark = ".fieldseg-tmp-";

std::string hostName() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) return "localhost";
  for (char& c : host)
    if (c == '@' || c == '/') c = '_';
  return host;
}

}  // namespace

std::string tempSibling(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  const fs::path p(path);
  const std::string name = p.stem().string() + kMark + std::to_string(::getpid()) + "@" +
                           hostName() + "@" + std::to_string(counter++) + p.extension().string();
  std::string temp = (p.parent_path() / name).string();
  fileEnv().willCreate(temp);
  return temp;
}

bool isStaleTempName(const std::string& name) {
  const size_t at = name.find(kMark);
  if (at == std::string::npos) return false;
  const char* s = name.c_str() + at + std::char_traits<char>::length(kMark);
  char* end = nullptr;
  errno = 0;
  const long pid = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '@' || pid <= 0) return false;
  // Only this host's processes can be checked: on a shared folder (a cluster's output directory)
  // another node's temp files are left alone.
  const std::string rest(end + 1);
  const size_t at2 = rest.find('@');
  if (at2 == std::string::npos || rest.substr(0, at2) != hostName()) return false;
  if (pid == static_cast<long>(::getpid())) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

int removeStaleTemps(const std::string& dir) {
  std::error_code ec;
  int removed = 0;
  fs::directory_iterator it(dir.empty() ? "." : dir, ec);
  if (ec) return 0;
  for (const auto& e : it) {
    if (e.is_symlink(ec) || !isStaleTempName(e.path().filename().string())) continue;
    if (e.is_regular_file(ec)) {
      if (fs::remove(e.path(), ec)) ++removed;
    } else if (e.is_directory(ec)) {  // a killed command's scratch folder (calibrate)
      if (fs::remove_all(e.path(), ec) > 0 && !ec) ++removed;
    }
  }
  return removed;
}

namespace {

[[noreturn]] void failWrite(const std::string& what, const std::string& path) {
  throw IoError("io: cannot " + what + " '" + path + "': " + std::strerror(errno) +
                ". Check that the folder is writable and not full.");
}

}  // namespace

void writeFileAtomically(const std::string& path, const std::string& content) {
  fs::path target(path);
  fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    errno = ec.value();
    failWrite("create directory", dir.string());
  }
  const std::string tmp = tempSibling(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) failWrite("create", tmp);
  if (!writeFully(fd, content.data(), content.size())) {
    const int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = saved;
    failWrite("write", tmp);
  }
  const bool synced = ::fsync(fd) == 0;
  int saved = errno;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    if (synced) saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    failWrite("flush", tmp);
  }
  publishFile(tmp, path, "io");
}

}  // namespace fieldseg
