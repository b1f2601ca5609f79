// The fields pass's store of built fields (tiles/delineate.cpp): kept in memory, or spilled to a
// temporary binary file so that memory stays bounded by the tiles in flight (only the first pixel
// and the file offset of each field stay in RAM), and handed back sorted by first pixel.
//
// Thread safety: none; the fields pass adds from its serial stage only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "field_builder.hpp"

namespace fieldseg {

class FieldStore {
 public:
  /// spillPath "" = in memory; else the file is created now (IoError if it cannot be) and removed
  /// when the store is destroyed.
  explicit FieldStore(std::string spillPath);
  ~FieldStore();
  FieldStore(const FieldStore&) = delete;
  FieldStore& operator=(const FieldStore&) = delete;

  void add(post::BuiltField&& f);
  size_t size() const { return file_ ? index_.size() : mem_.size(); }
  /// Calls fn on every field in increasing first-pixel order (once: the store is emptied).
  void forEachSorted(const std::function<void(post::BuiltField&&)>& fn);

 private:
  template <typename T>
  void put(T v);
  void putString(const std::string& s);
  void putRing(const Ring& r);
  template <typename T>
  void get(T& v);
  void getString(std::string& s);
  void getRing(Ring& r);
  post::BuiltField decode();

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<post::BuiltField> mem_;
  std::vector<std::pair<std::int64_t, std::int64_t>> index_;
  std::int64_t offset_ = 0;
  std::vector<char> buf_;
  size_t pos_ = 0;
};

}  // namespace fieldseg
