#include "run_record.hpp"

#include <ctime>
#include <filesystem>

#include "fieldseg/error.hpp"
#include "fieldseg/temp_files.hpp"
#include "fieldseg/version.hpp"

namespace fieldseg::cli {
namespace {

namespace fs = std::filesystem;

std::vector<std::string>& storedCommandLine() {
  static std::vector<std::string> args;
  return args;
}

}  // namespace

void setCommandLine(int argc, char** argv) { storedCommandLine().assign(argv, argv + argc); }

const std::vector<std::string>& commandLine() { return storedCommandLine(); }

std::string utcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string runRecordPath(const std::string& out) { return out + ".run.json"; }

nlohmann::json runRecordHead(const std::string& command, const std::string& startedUtc) {
  nlohmann::json j;
  j["command"] = command;
  j["fieldseg_version"] = kVersion;
  j["command_line"] = commandLine();
  if (!startedUtc.empty()) j["started_utc"] = startedUtc;
  j["finished_utc"] = utcNow();
  return j;
}

nlohmann::json fileEntry(const std::string& path) {
  if (path.rfind("/vsi", 0) == 0 || path.find("://") != std::string::npos) return {{"path", path}};
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec);
  const auto size = fs::file_size(path, ec);
  if (ec) return {{"path", abs.empty() ? path : abs.lexically_normal().string()}};
  return {{"path", abs.lexically_normal().string()}, {"bytes", size}};
}

void writeTextAtomically(const std::string& path, const std::string& text,
                         const std::string& command) {
  try {
    writeFileAtomically(path, text + "\n");
  } catch (const IoError& e) {
    throw IoError(command + ": " + e.what());
  }
}

}  // namespace fieldseg::cli
