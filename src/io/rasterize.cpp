// rasterizePolygons: GDALRasterizeGeometries onto a MEM dataset that wraps the output buffer.
#include "fieldseg/rasterize.hpp"

#include <gdal.h>
#include <gdal_alg.h>
#include <gdal_priv.h>
#include <ogr_api.h>
#include <ogr_geometry.h>

#include <memory>
#include <string>

#include "fieldseg/error.hpp"
#include "gdal_error.hpp"
#include "ogr_polygons.hpp"

namespace fieldseg {
Raster<std::int32_t> rasterizePolygons(const std::vector<Polygon>& polygons, const GridSpec& grid,
                                       const RasterizeOptions& options) {
  if (!options.values.empty() && options.values.size() != polygons.size())
    throw UsageError("io: rasterize got " + std::to_string(options.values.size()) +
                     " burn values for " + std::to_string(polygons.size()) +
                     " polygons. Give one value per polygon or none.");
  if (grid.width() <= 0 || grid.height() <= 0)
    throw UsageError("io: cannot rasterize onto an empty grid " + std::to_string(grid.width()) +
                     "x" + std::to_string(grid.height()) + ". Give a grid with pixels.");

  Raster<std::int32_t> out(1, grid.height(), grid.width(), 0);
  out.grid = grid;
  out.bandNames = {"instance"};

  io::initGdal();
  io::GdalErrorScope errors;
  GDALDriverH mem = GDALGetDriverByName("MEM");
  if (!mem) throw IoError("io: GDAL MEM driver missing: cannot rasterize. Reinstall GDAL.");
  GDALDatasetH ds = GDALCreate(mem, "", grid.width(), grid.height(), 0, GDT_Int32, nullptr);
  if (!ds)
    throw IoError("io: cannot create MEM dataset: " + io::gdalCause(errors, "unknown cause") + ".");
  std::unique_ptr<void, void (*)(void*)> guard(ds, [](void* d) { GDALClose(d); });
  // Wrap our buffer as the band, so GDAL burns straight into it.
  // CPLPrintPointer does not terminate the string: the buffer starts zeroed and keeps its last
  // byte.
  char ptr[64] = {};
  CPLPrintPointer(ptr, out.data.data(), sizeof(ptr) - 1);
  std::string dataPtr = std::string("DATAPOINTER=") + ptr;
  char* bandOpts[] = {const_cast<char*>(dataPtr.c_str()), nullptr};
  if (GDALAddBand(ds, GDT_Int32, bandOpts) != CE_None)
    throw IoError("io: cannot wrap raster buffer: " + io::gdalCause(errors, "unknown cause") + ".");
  auto gt = grid.geoTransform();
  GDALSetGeoTransform(ds, gt.data());

  std::vector<std::unique_ptr<OGRPolygon>> geoms;
  std::vector<OGRGeometryH> handles;
  std::vector<double> burn;
  geoms.reserve(polygons.size());
  for (size_t i = 0; i < polygons.size(); ++i) {
    const Polygon& p = polygons[i];
    if (p.exterior.size() < 3) continue;
    auto g = io::toOgrPolygon(p, io::DegenerateHoles::kDrop);
    handles.push_back(OGRGeometry::ToHandle(g.get()));
    burn.push_back(options.values.empty() ? static_cast<double>(i + 1)
                                          : static_cast<double>(options.values[i]));
    geoms.push_back(std::move(g));
  }
  if (handles.empty()) return out;

  int band = 1;
  char allTouched[] = "ALL_TOUCHED=TRUE";
  char* rOpts[] = {options.allTouched ? allTouched : nullptr, nullptr};
  const CPLErr err =
      GDALRasterizeGeometries(ds, 1, &band, static_cast<int>(handles.size()), handles.data(),
                              nullptr, nullptr, burn.data(), rOpts, nullptr, nullptr);
  if (err != CE_None)
    throw IoError("io: GDALRasterizeGeometries failed: " + io::gdalCause(errors, "unknown cause") +
                  ". Check the polygons are in the grid's CRS.");
  GDALFlushCache(ds);
  return out;
}

}  // namespace fieldseg
