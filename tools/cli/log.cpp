#include "log.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "fieldseg/error.hpp"
#include "run_record.hpp"

namespace fieldseg::cli {
namespace {
Verbosity gVerbosity = Verbosity::Normal;
LogFormat gFormat = LogFormat::Text;

// "delineate: 12 fields" -> "delineate"; empty when the line names no command.
std::string commandOf(const std::string& line) {
  const auto colon = line.find(": ");
  if (colon == std::string::npos || colon == 0 || colon > 24) return {};
  const std::string head = line.substr(0, colon);
  for (char c : head)
    if (!(std::islower(static_cast<unsigned char>(c)) || c == '-')) return {};
  return head;
}

void emitJson(nlohmann::ordered_json j) {
  std::fprintf(stderr, "%s\n",
               j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  std::fflush(stderr);
}

nlohmann::ordered_json event(const std::string& level) {
  nlohmann::ordered_json j;
  j["time"] = utcNow();
  j["level"] = level;
  return j;
}
}  // namespace

Verbosity verbosity() { return gVerbosity; }
void setVerbosity(Verbosity v) { gVerbosity = v; }
LogFormat logFormat() { return gFormat; }
void setLogFormat(LogFormat f) { gFormat = f; }

int cappedThreads(int requested, const std::string& command) {
  if (requested < 0) {
    throw UsageError(command + ": --threads " + std::to_string(requested) +
                     " must be >= 0 (0 = all cores).");
  }
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (cores > 0 && requested > cores) {
    logLine(command + ": warning: --threads " + std::to_string(requested) + " exceeds the " +
            std::to_string(cores) + " hardware threads; using " + std::to_string(cores) + ".");
    return cores;
  }
  return requested;
}

void logLine(const std::string& line, bool detail) {
  Verbosity need = detail ? Verbosity::Verbose : Verbosity::Normal;
  if (static_cast<int>(gVerbosity) < static_cast<int>(need)) return;
  if (gFormat == LogFormat::Text) {
    std::fprintf(stderr, "%s\n", line.c_str());
    return;
  }
  const bool warning = line.find(": warning:") != std::string::npos;
  auto j = event(warning ? "warning" : detail ? "detail" : "info");
  if (const std::string c = commandOf(line); !c.empty()) j["command"] = c;
  j["message"] = line;
  emitJson(std::move(j));
}

void logError(const std::string& message, int exitCode) {
  if (gFormat == LogFormat::Text) {
    std::fprintf(stderr, "fieldseg: %s\n", message.c_str());
    return;
  }
  auto j = event("error");
  if (const std::string c = commandOf(message); !c.empty()) j["command"] = c;
  j["exit_code"] = exitCode;
  j["message"] = message;
  emitJson(std::move(j));
}

Progress::Progress(std::string label, long long total, std::string unit)
    : Progress(label, std::vector<Stage>{{label, 1.0}}, std::move(unit)) {
  total_ = total;
}

Progress::Progress(std::string label, std::vector<Stage> stages, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      stages_(std::move(stages)),
      stageSeconds_(stages_.size(), 0.0),
      tty_(isatty(STDERR_FILENO) && gVerbosity != Verbosity::Quiet && gFormat == LogFormat::Text),
      json_(gFormat == LogFormat::Json && gVerbosity != Verbosity::Quiet),
      start_(std::chrono::steady_clock::now()),
      stageStart_(start_),
      lastDraw_(start_) {
  if (stages_.empty()) stages_.push_back({label_, 1.0});
  if (stageSeconds_.empty()) stageSeconds_.push_back(0.0);
}

Progress::~Progress() { finish(); }

double Progress::fraction() const {
  double sum = 0, before = 0;
  for (size_t i = 0; i < stages_.size(); ++i) {
    sum += stages_[i].weight;
    if (static_cast<int>(i) < current_) before += stages_[i].weight;
  }
  const double inStage = total_ > 0 ? std::min(1.0, static_cast<double>(done_) / total_) : 0.0;
  const double f = (before + stages_[current_].weight * inStage) / std::max(sum, 1e-12);
  return std::clamp(f, 0.0, 1.0);
}

void Progress::update(long long done, long long pixels) {
  update(stages_[current_].name, done, total_, pixels);
}

void Progress::update(const std::string& stage, long long done, long long total, long long pixels) {
  if (finished_) return;
  int idx = current_;
  for (size_t i = 0; i < stages_.size(); ++i)
    if (stages_[i].name == stage) idx = static_cast<int>(i);
  const auto now = std::chrono::steady_clock::now();
  if (idx != current_) {
    draw(true);  // the last state of the stage that ended
    stageSeconds_[current_] += std::chrono::duration<double>(now - stageStart_).count();
    stageStart_ = now;
    current_ = idx;
  }
  done_ = done;
  total_ = total;
  pixels_ = pixels;
  draw(done >= total);
}

void Progress::draw(bool force) {
  if (!tty_ && !json_) return;
  const auto now = std::chrono::steady_clock::now();
  // Redraw a terminal at most 10 times a second, log json at most once a second.
  const auto every = json_ ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(100);
  if (!force && now - lastDraw_ < every) return;
  lastDraw_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double stageSecs = std::chrono::duration<double>(now - stageStart_).count();
  const double frac = fraction();
  const double eta = frac > 0 && frac < 1 ? secs * (1 - frac) / frac : 0;
  const double mpxs = pixels_ > 0 && stageSecs > 0 ? pixels_ / stageSecs / 1e6 : 0;
  const std::string& stage = stages_[current_].name;
  if (json_) {
    auto j = event("progress");
    j["command"] = label_;
    j["stage"] = stage;
    j["done"] = done_;
    j["total"] = total_;
    j["unit"] = unit_;
    j["fraction"] = std::round(frac * 1e4) / 1e4;
    j["elapsed_s"] = std::round(secs * 10) / 10;
    j["eta_s"] = std::round(eta * 10) / 10;
    if (mpxs > 0) j["mpx_per_s"] = std::round(mpxs * 1000) / 1000;
    emitJson(std::move(j));
    return;
  }
  const int width = 30;
  const int filled = static_cast<int>(std::lround(frac * width));
  std::string bar(filled, '#');
  bar.append(width - filled, '.');
  char rate[64] = "", etaText[64] = "";
  if (mpxs > 0) std::snprintf(rate, sizeof rate, " %.2f Mpx/s", mpxs);
  if (frac > 0 && frac < 1) std::snprintf(etaText, sizeof etaText, " ETA %.0fs", eta);
  const std::string name = stages_.size() > 1 ? label_ + " (" + stage + ")" : label_;
  std::fprintf(stderr, "\r%s [%s] %3.0f%% %lld/%lld %s%s%s   ", name.c_str(), bar.c_str(),
               frac * 100, done_, total_, unit_.c_str(), rate, etaText);
  std::fflush(stderr);
}

void Progress::finish() {
  if (finished_) return;
  stageSeconds_[current_] +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stageStart_).count();
  if (tty_) std::fprintf(stderr, "\n");
  finished_ = true;
}

}  // namespace fieldseg::cli
