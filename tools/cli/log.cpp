#include "log.hpp"

#include <unistd.h>

#include <cmath>
#include <thread>

#include "fieldseg/error.hpp"

namespace fieldseg::cli {
namespace {
Verbosity gVerbosity = Verbosity::Normal;
}

Verbosity verbosity() { return gVerbosity; }

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
void setVerbosity(Verbosity v) { gVerbosity = v; }

void logLine(const std::string& line, bool detail) {
  Verbosity need = detail ? Verbosity::Verbose : Verbosity::Normal;
  if (static_cast<int>(gVerbosity) >= static_cast<int>(need)) {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

Progress::Progress(std::string label, long long total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(isatty(STDERR_FILENO) && gVerbosity != Verbosity::Quiet),
      start_(std::chrono::steady_clock::now()),
      lastDraw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::update(long long done, long long pixels) {
  if (!enabled_ || finished_) return;
  auto now = std::chrono::steady_clock::now();
  // Redraw at most 10 times a second, and always at the end.
  if (done < total_ && now - lastDraw_ < std::chrono::milliseconds(100)) return;
  lastDraw_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double frac = total_ > 0 ? static_cast<double>(done) / total_ : 1.0;
  int width = 30;
  int filled = static_cast<int>(std::lround(frac * width));
  std::string bar(filled, '#');
  bar.append(width - filled, '.');
  std::string rate;
  if (pixels > 0 && secs > 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.2f Mpx/s", pixels / secs / 1e6);
    rate = buf;
  }
  std::string eta;
  if (done > 0 && done < total_) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " ETA %.0fs", secs * (total_ - done) / done);
    eta = buf;
  }
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %s%s%s   ", label_.c_str(), bar.c_str(), done, total_,
               unit_.c_str(), rate.c_str(), eta.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_ && !finished_) std::fprintf(stderr, "\n");
  finished_ = true;
}

}  // namespace fieldseg::cli
