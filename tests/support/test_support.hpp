// Shared test helpers: temp dirs under the build tree, the real-data folder (skip when absent), and
// running the `fieldseg` executable.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fieldseg::test {

/// A fresh, empty directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// ../shared/realdata as seen from the source tree, or "" when it is absent.
std::string realdataDir();

struct CliResult {
  int exitCode = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// Runs the built `fieldseg` with `args` (each argument shell-quoted), capturing stdout and stderr.
CliResult runCli(const std::vector<std::string>& args);

/// runCli that must succeed: a fatal test failure with its stderr otherwise (wrap in
/// ASSERT_NO_FATAL_FAILURE to stop the calling test).
inline void runOk(const std::vector<std::string>& args) {
  const CliResult r = runCli(args);
  ASSERT_EQ(r.exitCode, 0) << r.err;
}

/// The JSON document in `path` (a run record, a GeoJSON file, a grid); throws
/// std::runtime_error naming the file when it cannot be read or is not JSON.
nlohmann::json readJsonFile(const std::string& path);

/// Runs any shell command, capturing output the same way.
CliResult runShell(const std::string& command);

/// `fieldseg -q synth --preset smallholder --size SIZE --seed SEED --out IMAGE --truth TRUTH`,
/// asserting success (use with ASSERT_NO_FATAL_FAILURE).
void synthSmallholder(const std::string& image, const std::string& truth, int size, int seed);

/// The what() of the exception `f` throws, or "" when it throws nothing.
template <typename F>
std::string messageOf(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace fieldseg::test

/// Skips the current test (with a clear message) when ../shared/realdata is not there.
#define FIELDSEG_REQUIRE_REALDATA()                                                      \
  do {                                                                                   \
    if (::fieldseg::test::realdataDir().empty())                                         \
      GTEST_SKIP() << "../shared/realdata is absent: this test needs the real data set"; \
  } while (0)
