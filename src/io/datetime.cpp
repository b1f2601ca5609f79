// isoUtc (see include/fieldseg/datetime.hpp).
#include "fieldseg/datetime.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace fieldseg {
namespace {

bool digits(const std::string& s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t i = at; i < at + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

int num(const std::string& s, size_t at, size_t n) { return std::stoi(s.substr(at, n)); }

}  // namespace

std::optional<std::string> isoUtc(const std::string& text) {
  const std::string& s = text;
  // Date: YYYY-MM-DD or TIFF's YYYY:MM:DD.
  if (!digits(s, 0, 4) || s.size() < 10 || !(s[4] == '-' || s[4] == ':') || s[7] != s[4] ||
      !digits(s, 5, 2) || !digits(s, 8, 2))
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = num(s, 0, 4) - 1900;
  tm.tm_mon = num(s, 5, 2) - 1;
  tm.tm_mday = num(s, 8, 2);
  size_t at = 10;
  int offsetMin = 0;
  if (at < s.size()) {
    if (!(s[at] == 'T' || s[at] == ' ') || !digits(s, at + 1, 2) || s.size() < at + 6 ||
        s[at + 3] != ':' || !digits(s, at + 4, 2))
      return std::nullopt;
    tm.tm_hour = num(s, at + 1, 2);
    tm.tm_min = num(s, at + 4, 2);
    at += 6;
    if (at < s.size() && s[at] == ':') {
      if (!digits(s, at + 1, 2)) return std::nullopt;
      tm.tm_sec = num(s, at + 1, 2);
      at += 3;
      if (at < s.size() && s[at] == '.') {  // fractions of a second: dropped
        ++at;
        while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at]))) ++at;
      }
    }
    if (at < s.size()) {
      if (s[at] == 'Z' || s[at] == 'z') {
        ++at;
      } else if (s[at] == '+' || s[at] == '-') {
        const int sign = s[at] == '+' ? 1 : -1;
        if (!digits(s, at + 1, 2)) return std::nullopt;
        int h = num(s, at + 1, 2), m = 0;
        at += 3;
        if (at < s.size() && s[at] == ':') ++at;
        if (digits(s, at, 2)) {
          m = num(s, at, 2);
          at += 2;
        }
        if (h > 23 || m > 59) return std::nullopt;
        offsetMin = sign * (h * 60 + m);
      }
      if (at != s.size()) return std::nullopt;
    }
  }
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  const std::tm asGiven = tm;
  std::time_t t = timegm(&tm);
  // timegm normalises 2021-02-30 to 2021-03-02: refuse dates that moved.
  if (tm.tm_mday != asGiven.tm_mday || tm.tm_mon != asGiven.tm_mon) return std::nullopt;
  t -= static_cast<std::time_t>(offsetMin) * 60;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buf);
}

}  // namespace fieldseg
