// renderQuicklook (see include/fieldseg/quicklook.hpp).
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "fieldseg/quicklook.hpp"

namespace fieldseg {
namespace {

double percentileOf(std::vector<float>& v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q / 100.0 * (v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

RgbImage renderQuicklook(const RasterSource& image, const FieldSet& fields,
                         const QuicklookOptions& o) {
  Raster<float> r = image.readDecimated(std::max(16, o.maxSidePx));
  RgbImage out;
  out.rows = r.rows;
  out.cols = r.cols;
  out.rgb.assign(static_cast<size_t>(r.rows) * r.cols * 3, 0);
  const int nb = std::min(3, r.bands);
  for (int c = 0; c < 3; ++c) {
    const int b = nb == 3 ? c : 0;
    const float* p = r.band(b);
    std::vector<float> vals;
    vals.reserve(r.plane());
    for (size_t i = 0; i < r.plane(); ++i)
      if (r.valid[i] && std::isfinite(p[i])) vals.push_back(p[i]);
    const double lo = percentileOf(vals, 2), hi = percentileOf(vals, 98);
    const double scale = 255.0 / std::max(hi - lo, 1e-9);
    for (size_t i = 0; i < r.plane(); ++i) {
      if (!r.valid[i]) continue;
      out.rgb[i * 3 + c] =
          static_cast<std::uint8_t>(std::clamp((p[i] - lo) * scale, 0.0, 255.0) + 0.5);
    }
  }
  cv::Mat canvas(out.rows, out.cols, CV_8UC3, out.rgb.data());
  const FieldSet f = (fields.crs.empty() || fields.crs.sameAs(r.grid.crs()))
                         ? fields
                         : reproject(fields, r.grid.crs());
  const cv::Scalar color(o.color[0], o.color[1], o.color[2]);
  constexpr int kShift = 4;  // sub-pixel precision for cv::polylines
  auto toPts = [&](const Ring& ring) {
    std::vector<cv::Point> pts;
    pts.reserve(ring.size());
    for (const auto& p : ring) {
      const Point px = r.grid.worldToPixel(p.x, p.y);
      pts.emplace_back(static_cast<int>(std::lround(px.x * (1 << kShift))),
                       static_cast<int>(std::lround(px.y * (1 << kShift))));
    }
    return pts;
  };
  for (const auto& fld : f.fields) {
    std::vector<std::vector<cv::Point>> rings{toPts(fld.polygon.exterior)};
    for (const auto& h : fld.polygon.holes) rings.push_back(toPts(h));
    cv::polylines(canvas, rings, true, color, std::max(1, o.lineWidthPx), cv::LINE_AA, kShift);
  }
  return out;
}

}  // namespace fieldseg
