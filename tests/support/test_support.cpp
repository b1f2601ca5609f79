#include "test_support.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace fs = std::filesystem;

namespace fieldseg::test {

TempDir::TempDir() {
  std::random_device rd;
  auto base = fs::temp_directory_path();
  for (int i = 0; i < 100; ++i) {
    fs::path p = base / ("fieldseg-test-" + std::to_string(rd()));
    if (fs::create_directory(p)) {
      path_ = p.string();
      return;
    }
  }
  throw std::runtime_error("cannot create a temp dir");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string realdataDir() {
  std::string dir = FIELDSEG_REALDATA_DIR;
  if (const char* env = std::getenv("FIELDSEG_REALDATA")) dir = env;
  return fs::is_directory(dir) ? dir : std::string();
}

namespace {
std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'')
      q += "'\\''";
    else
      q += c;
  }
  return q + "'";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

CliResult runShell(const std::string& command) {
  TempDir tmp;
  std::string out = tmp.file("out"), err = tmp.file("err");
  std::string cmd = "( " + command + " ) >" + quote(out) + " 2>" + quote(err) + " </dev/null";
  int status = std::system(cmd.c_str());
  CliResult r;
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

CliResult runCli(const std::vector<std::string>& args) {
  std::string cmd = quote(FIELDSEG_CLI);
  for (const auto& a : args) cmd += " " + quote(a);
  return runShell(cmd);
}

void synthSmallholder(const std::string& image, const std::string& truth, int size, int seed) {
  const CliResult r =
      runCli({"-q", "synth", "--preset", "smallholder", "--size", std::to_string(size), "--seed",
              std::to_string(seed), "--out", image, "--truth", truth});
  ASSERT_EQ(r.exitCode, 0) << r.err;
}

nlohmann::json readJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("test: cannot read '" + path + "'");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("test: '" + path + "' is not JSON: " + e.what());
  }
}

}  // namespace fieldseg::test
