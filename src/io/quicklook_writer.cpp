// writeQuicklook (see include/fieldseg/quicklook.hpp): GDAL MEM dataset -> PNG or JPEG driver,
// temp file + rename.
#include <gdal_priv.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#include "fieldseg/error.hpp"
#include "fieldseg/file_env.hpp"
#include "fieldseg/quicklook.hpp"
#include "fieldseg/temp_files.hpp"
#include "gdal_error.hpp"

namespace fieldseg {

std::string quicklookFormat(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".png") return "PNG";
  if (ext == ".jpg" || ext == ".jpeg") return "JPEG";
  throw UsageError("render: output '" + path + "' has " +
                   (ext.empty() ? std::string("no extension") : "the extension '" + ext + "'") +
                   ", which names no quicklook format. Use .png or .jpg.");
}

void writeQuicklook(const RgbImage& image, const std::string& path, bool overwrite) {
  namespace fs = std::filesystem;
  const std::string format = quicklookFormat(path);
  if (!overwrite && fs::exists(path))
    throw UsageError("render: output '" + path + "' exists. Pass --overwrite to replace it.");
  if (image.rows <= 0 || image.cols <= 0)
    throw DataError("render: the quicklook of '" + path + "' is empty. Check the input image.");
  io::initGdal();
  io::GdalErrorScope errors;
  GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
  GDALDriver* drv = GetGDALDriverManager()->GetDriverByName(format.c_str());
  if (!mem || !drv)
    throw IoError("render: GDAL has no " + format + " driver. Install GDAL with " + format +
                  " support.");
  std::unique_ptr<GDALDataset> ds(mem->Create("", image.cols, image.rows, 3, GDT_Byte, nullptr));
  if (!ds) throw IoError("render: cannot allocate the quicklook: " + io::gdalCause(errors, "?"));
  // Interleaved RGB: pixel spacing 3 bytes, line spacing 3 * cols, band spacing 1.
  if (ds->RasterIO(GF_Write, 0, 0, image.cols, image.rows,
                   const_cast<std::uint8_t*>(image.rgb.data()), image.cols, image.rows, GDT_Byte, 3,
                   nullptr, 3, 3 * image.cols, 1, nullptr) != CE_None)
    throw IoError("render: cannot fill the quicklook: " + io::gdalCause(errors, "?"));
  const std::string tmp = tempSibling(path);
  char quality[] = "QUALITY=90";
  char* jpegOptions[] = {quality, nullptr};
  std::unique_ptr<GDALDataset> out(drv->CreateCopy(
      tmp.c_str(), ds.get(), FALSE, format == "JPEG" ? jpegOptions : nullptr, nullptr, nullptr));
  if (!out) {
    std::remove(tmp.c_str());
    throw IoError("render: cannot write '" + path + "': " + io::gdalCause(errors, "unknown") +
                  ". Check the folder exists and is writable.");
  }
  out.reset();
  std::remove((tmp + ".aux.xml").c_str());
  publishFile(tmp, path, "render");
}

}  // namespace fieldseg
