#include "chip_file.hpp"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fieldseg/error.hpp"
#ifndef FIELDSEG_NO_GDAL
#include "fieldseg/raster_source.hpp"
#endif

namespace fieldseg::model {
namespace {

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

torch::Tensor readRawChip(const std::string& path, std::vector<std::string>* names,
                          std::vector<std::uint8_t>* valid) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("model: cannot open chip '" + path + "': no such file or not readable.");
  char magic[8];
  unsigned char lb[4];
  if (!in.read(magic, 8) || std::memcmp(magic, "FSGCHIP1", 8) != 0 ||
      !in.read(reinterpret_cast<char*>(lb), 4))
    throw DataError("model: '" + path + "' is not a fieldseg raw chip (bad header). Repack it.");
  const std::uint32_t len = lb[0] | (lb[1] << 8) | (lb[2] << 16) | (std::uint32_t(lb[3]) << 24);
  if (len > (1u << 20)) throw DataError("model: raw chip '" + path + "' has a corrupt header.");
  std::string headText(len, '\0');
  if (!in.read(headText.data(), len))
    throw DataError("model: raw chip '" + path + "' is truncated. Repack it.");
  int64_t rows = 0, cols = 0;
  std::string dtype;
  std::vector<std::string> bands;
  std::vector<double> scale;
  try {
    auto h = nlohmann::json::parse(headText);
    rows = h.at("rows").get<int64_t>();
    cols = h.at("cols").get<int64_t>();
    dtype = h.at("dtype").get<std::string>();
    bands = h.at("bands").get<std::vector<std::string>>();
    scale = h.at("scale").get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError("model: raw chip '" + path + "' has a bad header (" + e.what() +
                    "). Repack it.");
  }
  const auto nb = static_cast<int64_t>(bands.size());
  if (rows <= 0 || cols <= 0 || rows > 65536 || cols > 65536 || nb == 0 || nb > 256 ||
      scale.size() != bands.size())
    throw DataError("model: raw chip '" + path + "' has impossible dimensions. Repack it.");
  torch::ScalarType type;
  if (dtype == "u8")
    type = torch::kUInt8;
  else if (dtype == "u16")
    type = torch::kInt32;  // read as u16 below, widened (LibTorch 1.13 has no uint16)
  else if (dtype == "f32")
    type = torch::kFloat32;
  else
    throw DataError("model: raw chip '" + path + "' has unknown dtype '" + dtype + "'.");
  const int64_t n = nb * rows * cols;
  torch::Tensor out;
  if (dtype == "u16") {
    std::vector<std::uint16_t> buf(static_cast<size_t>(n));
    if (!in.read(reinterpret_cast<char*>(buf.data()), n * 2))
      throw DataError("model: raw chip '" + path + "' is truncated. Repack it.");
    out = torch::empty({nb, rows, cols}, torch::kFloat32);
    float* o = out.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<float>(buf[static_cast<size_t>(i)]);
  } else {
    torch::Tensor raw = torch::empty({nb, rows, cols}, type);
    if (!in.read(static_cast<char*>(raw.data_ptr()), n * raw.element_size()))
      throw DataError("model: raw chip '" + path + "' is truncated. Repack it.");
    out = raw.to(torch::kFloat32);
  }
  for (int64_t b = 0; b < nb; ++b)
    if (scale[static_cast<size_t>(b)] != 1.0) out[b].mul_(scale[static_cast<size_t>(b)]);
  if (names) {
    names->clear();
    for (const auto& b : bands) names->push_back(lower(b));
  }
  if (valid) valid->assign(static_cast<size_t>(rows * cols), 1);
  return out;
}

}  // namespace

torch::Tensor readChipTensor(const std::string& path, std::vector<std::string>* names,
                             std::vector<std::uint8_t>* valid) {
  if (endsWith(lower(path), ".fsc")) return readRawChip(path, names, valid);
#ifdef FIELDSEG_NO_GDAL
  throw UsageError("model: chip '" + path +
                   "' is not a .fsc raw chip, and this trainer was built without GDAL. Pack the "
                   "chips with tools/device/pack_chips.py.");
#else
  auto src = openRaster({path});
  Raster<float> r = src->read(src->grid().fullWindow());
  if (names) {
    names->clear();
    for (const auto& b : src->bands())
      names->push_back(lower(b.description.empty() ? b.name : b.description));
  }
  if (valid) *valid = r.valid;
  return torch::from_blob(r.data.data(), {r.bands, r.rows, r.cols}, torch::kFloat32).clone();
#endif
}

}  // namespace fieldseg::model
