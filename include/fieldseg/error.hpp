// The one exception hierarchy of fieldseg (see ../shared/STYLE.md, "Errors").
//
// Library code throws these and nothing else; foreign errors (GDAL CPLErr, c10::Error, PROJ) are
// converted once, at the boundary of the folder that owns the library. The CLI's main() catches
// them, prints what() on one line and exits 1 (runtime) or 2 (usage / config).
//
// Message form: "<component>: <what failed> '<value>': <cause>. <how to fix>".
#pragma once

#include <stdexcept>
#include <string>

namespace fieldseg {

/// Any failure at run time (I/O, bad data, numeric trouble). CLI exit code 1.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The caller asked for something invalid (flag, config key, option value). CLI exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

/// A file or URL could not be opened, read or written.
class IoError : public Error {
 public:
  using Error::Error;
};

/// Input that opened but cannot be used (no georeferencing, no polygons, CRS not transformable...).
class DataError : public Error {
 public:
  using Error::Error;
};

}  // namespace fieldseg
