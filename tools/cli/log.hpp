// Logging and progress for the CLI: everything goes to stderr so stdout can carry data.
// Verbosity: -q (errors only), default (summary lines), -v (details).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace fieldseg::cli {

enum class Verbosity { Quiet = 0, Normal = 1, Verbose = 2 };
Verbosity verbosity();
void setVerbosity(Verbosity v);

/// printf-style line to stderr at Normal verbosity (or Verbose when `detail`).
void logLine(const std::string& line, bool detail = false);

/// --threads as given (0 = all cores), capped at the machine's hardware threads with a warning:
/// more workers than cores only oversubscribe them (TBB then even falls back to one worker).
/// Throws UsageError for a negative count.
int cappedThreads(int requested, const std::string& command);

/// A one-line progress bar on stderr: drawn only when stderr is a terminal and not quiet.
/// update() is cheap and may be called from any one thread at a time.
class Progress {
 public:
  Progress(std::string label, long long total, std::string unit = "tiles");
  ~Progress();
  /// done: items finished; pixels: pixels finished so far (for Mpx/s), 0 to omit.
  void update(long long done, long long pixels = 0);
  void finish();

 private:
  std::string label_, unit_;
  long long total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, lastDraw_;
};

}  // namespace fieldseg::cli
