#include "field_store.hpp"

#include <algorithm>
#include <cstring>

#include "fieldseg/error.hpp"

namespace fieldseg {

FieldStore::FieldStore(std::string spillPath) : path_(std::move(spillPath)) {
  if (path_.empty()) return;
  file_ = std::fopen(path_.c_str(), "w+b");
  if (!file_)
    throw IoError("delineate: cannot create the temporary field store '" + path_ +
                  "'. Check that the output folder is writable.");
}

FieldStore::~FieldStore() {
  if (file_) {
    std::fclose(file_);
    std::remove(path_.c_str());
  }
}

void FieldStore::add(post::BuiltField&& f) {
  if (!file_) {
    mem_.push_back(std::move(f));
    return;
  }
  index_.push_back({f.firstPixel, offset_});
  buf_.clear();
  put(f.firstPixel);
  for (std::int64_t v : {f.minRow, f.minCol, f.maxRow, f.maxCol}) put(v);
  putRing(f.field.polygon.exterior);
  put(static_cast<std::uint32_t>(f.field.polygon.holes.size()));
  for (const auto& h : f.field.polygon.holes) putRing(h);
  put(static_cast<std::uint32_t>(f.field.attrs.size()));
  for (const auto& [k, v] : f.field.attrs) {
    putString(k);
    put(static_cast<std::uint8_t>(v.index()));
    if (v.index() == 0) put(std::get<std::int64_t>(v));
    if (v.index() == 1) put(std::get<double>(v));
    if (v.index() == 2) putString(std::get<std::string>(v));
  }
  const std::uint64_t n = buf_.size();
  if (std::fwrite(&n, sizeof n, 1, file_) != 1 ||
      std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size())
    throw IoError("delineate: cannot write the temporary field store '" + path_ +
                  "' (disk full?). Free space in the output folder.");
  offset_ += static_cast<std::int64_t>(sizeof n + buf_.size());
}

void FieldStore::forEachSorted(const std::function<void(post::BuiltField&&)>& fn) {
  if (!file_) {
    std::sort(mem_.begin(), mem_.end(),
              [](const auto& a, const auto& b) { return a.firstPixel < b.firstPixel; });
    for (auto& f : mem_) fn(std::move(f));
    mem_.clear();
    return;
  }
  std::sort(index_.begin(), index_.end());
  std::fflush(file_);
  for (const auto& [first, off] : index_) {
    (void)first;
    std::uint64_t n = 0;
    if (std::fseek(file_, static_cast<long>(off), SEEK_SET) != 0 ||
        std::fread(&n, sizeof n, 1, file_) != 1)
      throw IoError("delineate: cannot read back the temporary field store '" + path_ + "'.");
    buf_.resize(n);
    if (std::fread(buf_.data(), 1, n, file_) != n)
      throw IoError("delineate: cannot read back the temporary field store '" + path_ + "'.");
    pos_ = 0;
    fn(decode());
  }
}

post::BuiltField FieldStore::decode() {
  post::BuiltField f;
  get(f.firstPixel);
  get(f.minRow);
  get(f.minCol);
  get(f.maxRow);
  get(f.maxCol);
  getRing(f.field.polygon.exterior);
  std::uint32_t holes = 0;
  get(holes);
  f.field.polygon.holes.resize(holes);
  for (auto& h : f.field.polygon.holes) getRing(h);
  std::uint32_t attrs = 0;
  get(attrs);
  for (std::uint32_t k = 0; k < attrs; ++k) {
    std::string key;
    getString(key);
    std::uint8_t type = 0;
    get(type);
    if (type == 0) {
      std::int64_t v = 0;
      get(v);
      f.field.attrs[key] = v;
    } else if (type == 1) {
      double v = 0;
      get(v);
      f.field.attrs[key] = v;
    } else {
      std::string v;
      getString(v);
      f.field.attrs[key] = v;
    }
  }
  return f;
}

template <typename T>
void FieldStore::put(T v) {
  const auto* p = reinterpret_cast<const char*>(&v);
  buf_.insert(buf_.end(), p, p + sizeof v);
}

void FieldStore::putString(const std::string& s) {
  put(static_cast<std::uint32_t>(s.size()));
  buf_.insert(buf_.end(), s.begin(), s.end());
}

void FieldStore::putRing(const Ring& r) {
  put(static_cast<std::uint32_t>(r.size()));
  for (const auto& p : r) {
    put(p.x);
    put(p.y);
  }
}

template <typename T>
void FieldStore::get(T& v) {
  std::memcpy(&v, buf_.data() + pos_, sizeof v);
  pos_ += sizeof v;
}

void FieldStore::getString(std::string& s) {
  std::uint32_t n = 0;
  get(n);
  s.assign(buf_.data() + pos_, n);
  pos_ += n;
}

void FieldStore::getRing(Ring& r) {
  std::uint32_t n = 0;
  get(n);
  r.resize(n);
  for (auto& p : r) {
    get(p.x);
    get(p.y);
  }
}

}  // namespace fieldseg
