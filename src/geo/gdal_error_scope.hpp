// GDAL set-up and error conversion for src/geo and src/io (internal header of src/geo, which src/io
// may include).
//
// initGdal() registers the drivers once and installs a process-wide error handler that keeps GDAL
// quiet: GDAL never prints to stderr by itself. GdalErrorScope captures the messages GDAL emits
// on the current thread while it lives, so a failing call can be turned into one fieldseg error
// whose message carries GDAL's own cause.
//
// Thread safety: initGdal() is safe to call from any thread (runs once). A GdalErrorScope belongs
// to the thread that created it (GDAL's handler stack is thread-local).
#pragma once

#include <string>

namespace fieldseg::geo {

/// Registers all GDAL drivers and the quiet error handler; cheap after the first call.
void initGdal();

/// Collects GDAL errors raised on this thread during its lifetime (nothing reaches stderr).
class GdalErrorScope {
 public:
  GdalErrorScope();
  ~GdalErrorScope();
  GdalErrorScope(const GdalErrorScope&) = delete;
  GdalErrorScope& operator=(const GdalErrorScope&) = delete;

  /// The last CE_Failure/CE_Fatal message (or the last warning when there was no failure), "" if
  /// none.
  std::string message() const;
  bool hasFailure() const { return !failure_.empty(); }

 private:
  void handler(int errClass, int errNo, const char* msg);
  std::string failure_;
  std::string warning_;
};

/// "<cause>" cleaned for our messages: GDAL's text without a trailing period/newline, or
/// `fallback` when GDAL gave none.
std::string gdalCause(const GdalErrorScope& scope, const std::string& fallback);

}  // namespace fieldseg::geo
