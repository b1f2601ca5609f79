// Logging and progress for the CLI: everything goes to stderr so stdout can carry data.
// Verbosity: -q (errors only), default (summary lines), -v (details: stage timings, inputs).
// Format: text (default) or json (--log-format json: one JSON object per line, for batch engines).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace fieldseg::cli {

enum class Verbosity { Quiet = 0, Normal = 1, Verbose = 2 };
Verbosity verbosity();
void setVerbosity(Verbosity v);

enum class LogFormat { Text, Json };
LogFormat logFormat();
void setLogFormat(LogFormat f);

/// One line to stderr at Normal verbosity (or Verbose when `detail`). In json format it is
/// {"time", "level" (info / detail / warning), "command", "message"}; a line whose text holds
/// ": warning:" is a warning.
void logLine(const std::string& line, bool detail = false);

/// The error that ends the run (always printed, even with -q): "fieldseg: MESSAGE" as text, or
/// {"time", "level": "error", "exit_code", "message"} as json.
void logError(const std::string& message, int exitCode);

/// --threads as given (0 = all cores), capped at the machine's hardware threads with a warning:
/// more workers than cores only oversubscribe them (TBB then even falls back to one worker).
/// Throws UsageError for a negative count.
int cappedThreads(int requested, const std::string& command);

/// Progress over a whole job made of weighted stages (delineate: predict 0.85, fields 0.15), so
/// one bar and one ETA cover the run from its first tile. Text format: a one-line bar on stderr,
/// drawn only when stderr is a terminal and not quiet. Json format: a {"level": "progress"} object
/// at most once a second and at each stage's end, whatever stderr is (not with -q).
/// update() is cheap and may be called from any one thread at a time.
class Progress {
 public:
  struct Stage {
    std::string name;
    double weight = 1;
  };
  /// A job of one stage named `label`.
  Progress(std::string label, long long total, std::string unit = "tiles");
  /// A job named `label` of these stages, in the order they run.
  Progress(std::string label, std::vector<Stage> stages, std::string unit = "tiles");
  ~Progress();
  /// One-stage form: done items of the total given at construction; pixels for Mpx/s, 0 to omit.
  void update(long long done, long long pixels = 0);
  /// `stage` (one of the stages given) has finished `done` of `total` items. Stages before it
  /// count as finished; a stage that never reports (skipped) counts as finished once a later one
  /// starts.
  void update(const std::string& stage, long long done, long long total, long long pixels = 0);
  void finish();
  /// Fraction of the job finished, in [0, 1].
  double fraction() const;
  /// Seconds spent in each stage so far, by stage name (for -v timings).
  const std::vector<double>& stageSeconds() const { return stageSeconds_; }

 private:
  void draw(bool force);
  std::string label_, unit_;
  std::vector<Stage> stages_;
  std::vector<double> stageSeconds_;
  int current_ = 0;
  long long done_ = 0, total_ = 0, pixels_ = 0;
  bool tty_, json_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, stageStart_, lastDraw_;
};

}  // namespace fieldseg::cli
