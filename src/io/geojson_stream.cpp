// GeoJsonStream: see geojson_stream.hpp. The layout (spaces, line breaks, member order) is the
// one GDAL 3.6 writes with json-c's "spaced" printer; tests/unit/io/geojson_stream_test.cpp
// checks the bytes against the OGR drivers.
#include "geojson_stream.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>

#include "fieldseg/error.hpp"
#include "fieldseg/file_env.hpp"

namespace fieldseg::io {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

void appendCoordinate(std::string& out, double v, int precision) {
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, precision);
  char* end = r.ptr;
  // Fixed notation with p > 0 decimals ends "<digits>.<p digits>": the dot is p + 1 from the end.
  if (precision > 0 && r.ec == std::errc() && std::isfinite(v)) {
    char* dot = end - precision - 1;
    while (end > dot + 2 && end[-1] == '0') --end;
  } else {
    *end++ = '.';
    *end++ = '0';
  }
  out.append(buf, end);
}

// "%.17g"; when its fraction holds a run of six 9s or 0s (binary rounding: 3.2012999999999998)
// the first of 16, 15, 14 digits that has none, as GDAL prints a real property.
void appendReal(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[64];
  auto print = [&](int digits) {
    return std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, digits).ptr;
  };
  auto noisy = [&](const char* end) {
    const std::string_view s(buf, static_cast<size_t>(end - buf));
    const size_t dot = s.find('.');
    return dot != std::string_view::npos && (s.find("999999", dot) != std::string_view::npos ||
                                             s.find("000000", dot) != std::string_view::npos);
  };
  auto hasDot = [&](const char* end) { return std::memchr(buf, '.', end - buf) != nullptr; };
  char* end = print(17);
  if (noisy(end)) {
    bool ok = false;
    for (int digits = 16; digits >= 14 && !ok; --digits) {
      end = print(digits);
      ok = hasDot(end) && !noisy(end);
    }
    if (!ok) end = print(17);
  }
  out.append(buf, end);
  if (!hasDot(end) && !std::memchr(buf, 'e', static_cast<size_t>(end - buf))) out += ".0";
}

// `escapeSlash`: "/" as "\/" (json-c's default, which GDAL's GeoJSONSeq driver keeps; its
// GeoJSON driver turns it off).
void appendString(std::string& out, const std::string& v, bool escapeSlash = false) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (const char ch : v) {
    const auto u = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '/':
        out += escapeSlash ? "\\/" : "/";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void appendInteger(std::string& out, std::int64_t v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// A property value as the OGR field of `type` holds and prints it.
void appendValue(std::string& out, AttrType type, const AttrValue& v, bool escapeSlash) {
  switch (type) {
    case AttrType::Integer64:
      if (const auto* i = std::get_if<std::int64_t>(&v))
        appendInteger(out, *i);
      else if (const auto* d = std::get_if<double>(&v))
        appendInteger(out, static_cast<std::int64_t>(*d));
      else
        out += "null";
      return;
    case AttrType::Real:
      if (const auto* d = std::get_if<double>(&v))
        appendReal(out, *d);
      else if (const auto* i = std::get_if<std::int64_t>(&v))
        appendReal(out, static_cast<double>(*i));
      else
        out += "null";
      return;
    case AttrType::String:
      if (const auto* s = std::get_if<std::string>(&v)) {
        appendString(out, *s, escapeSlash);
      } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
        std::string t;
        appendInteger(t, *i);
        appendString(out, t, escapeSlash);
      } else {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof buf, std::get<double>(v),
                               std::chars_format::general, 15);
        appendString(out, std::string(buf, r.ptr), escapeSlash);
      }
      return;
  }
}

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw IoError("io: cannot " + what + " '" + path + "': " + std::strerror(errno) +
                ". Check that the folder is writable and not full.");
}

}  // namespace

std::string geoJsonCoordinate(double v, int precision) {
  std::string s;
  appendCoordinate(s, v, precision);
  return s;
}

std::string geoJsonReal(double v) {
  std::string s;
  appendReal(s, v);
  return s;
}

std::string geoJsonString(const std::string& v, bool escapeSlash) {
  std::string s;
  appendString(s, v, escapeSlash);
  return s;
}

GeoJsonStream::GeoJsonStream(const std::string& path, bool sequence, const std::string& layerName,
                             const std::map<std::string, std::string>& members)
    : path_(path), sequence_(sequence) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("create", path);
  buf_.reserve(kFlushBytes + (1 << 16));
  if (sequence_) return;
  buf_ += "{\n\"type\": \"FeatureCollection\",\n";
  for (const auto& [k, v] : members) {  // GDAL passes them through json-c's default printer
    appendString(buf_, k, true);
    buf_ += ": ";
    appendString(buf_, v, true);
    buf_ += ",\n";
  }
  buf_ += "\"name\": ";
  appendString(buf_, layerName);
  buf_ += ",\n\"features\": [\n";
}

GeoJsonStream::~GeoJsonStream() {
  if (fd_ >= 0) ::close(fd_);
}

void GeoJsonStream::format(std::string& out, const std::vector<Ring>& rings,
                           const std::vector<Prop>& props, bool sequence, bool first) {
  if (!sequence && !first) out += ",\n";
  out += "{ \"type\": \"Feature\", \"properties\": { ";
  for (size_t i = 0; i < props.size(); ++i) {
    if (i) out += ", ";
    appendString(out, *props[i].name, sequence);
    out += ": ";
    if (props[i].value)
      appendValue(out, props[i].type, *props[i].value, sequence);
    else
      out += "null";
  }
  out += props.empty() ? "}, " : " }, ";
  out += "\"geometry\": { \"type\": \"Polygon\", \"coordinates\": [ ";
  for (size_t r = 0; r < rings.size(); ++r) {
    out += r ? ", [ " : "[ ";
    const Ring& ring = rings[r];
    for (size_t i = 0; i < ring.size(); ++i) {
      out += i ? ", [ " : "[ ";
      appendCoordinate(out, ring[i].x, 7);
      out += ", ";
      appendCoordinate(out, ring[i].y, 7);
      out += " ]";
    }
    out += " ]";
  }
  out += " ] } }";
  if (sequence) out += '\n';
}

void GeoJsonStream::add(const std::vector<Ring>& rings, const std::vector<Prop>& props) {
  format(buf_, rings, props, sequence_, count_ == 0);
  ++count_;
  if (buf_.size() >= kFlushBytes) flush();
}

void GeoJsonStream::addFormatted(const std::string& text, long long n) {
  if (n <= 0) return;
  if (!sequence_ && count_ > 0) buf_ += ",\n";
  count_ += n;
  if (text.size() < kFlushBytes) {
    buf_ += text;
    if (buf_.size() >= kFlushBytes) flush();
    return;
  }
  flush();  // a large batch goes to the file as it is, without a copy into the buffer
  if (!writeFully(fd_, text.data(), text.size())) fail("write", path_);
}

void GeoJsonStream::flush() {
  if (!writeFully(fd_, buf_.data(), buf_.size())) fail("write", path_);
  buf_.clear();
}

void GeoJsonStream::finish() {
  if (!sequence_) buf_ += "\n]\n}\n";
  flush();
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("close", path_);
}

}  // namespace fieldseg::io
