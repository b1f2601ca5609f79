#include "gdal_error_scope.hpp"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>

#include <mutex>

namespace fieldseg::geo {
namespace {

// Process-wide default: swallow everything. Errors that matter are captured by a GdalErrorScope
// around the call and rethrown as fieldseg errors; debug output appears only when the user sets
// CPL_DEBUG (GDAL then routes it here too, and we forward it to stderr on purpose).
void CPL_STDCALL quietHandler(CPLErr errClass, CPLErrorNum, const char* msg) {
  if (errClass == CE_Debug && CPLGetConfigOption("CPL_DEBUG", nullptr) != nullptr) {
    CPLDefaultErrorHandler(errClass, 0, msg);
  }
}

// Installed as soon as this object is loaded (src/io and src/geo use it), so even GDAL/OGR calls
// made before the first initGdal() (vector readers, OSR) stay quiet.
const bool kQuietAtLoad = [] {
  CPLSetErrorHandler(quietHandler);
  return true;
}();

}  // namespace

void initGdal() {
  static std::once_flag once;
  std::call_once(once, [] {
    GDALAllRegister();
    CPLSetErrorHandler(quietHandler);
  });
}

GdalErrorScope::GdalErrorScope() {
  initGdal();
  CPLPushErrorHandlerEx(
      [](CPLErr errClass, CPLErrorNum errNo, const char* msg) {
        auto* self = static_cast<GdalErrorScope*>(CPLGetErrorHandlerUserData());
        if (self) self->handler(static_cast<int>(errClass), static_cast<int>(errNo), msg);
      },
      this);
}

GdalErrorScope::~GdalErrorScope() { CPLPopErrorHandler(); }

void GdalErrorScope::handler(int errClass, int, const char* msg) {
  std::string text = msg ? msg : "";
  if (errClass == CE_Failure || errClass == CE_Fatal) {
    failure_ = text;
  } else if (errClass == CE_Warning) {
    warning_ = text;
  } else if (errClass == CE_Debug && CPLGetConfigOption("CPL_DEBUG", nullptr) != nullptr) {
    CPLDefaultErrorHandler(CE_Debug, 0, msg);
  }
}

std::string GdalErrorScope::message() const { return failure_.empty() ? warning_ : failure_; }

std::string gdalCause(const GdalErrorScope& scope, const std::string& fallback) {
  std::string m = scope.message();
  while (!m.empty() && (m.back() == '\n' || m.back() == '.' || m.back() == ' ')) m.pop_back();
  return m.empty() ? fallback : m;
}

}  // namespace fieldseg::geo
