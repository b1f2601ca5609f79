// renderQuicklook (see include/fieldseg/quicklook.hpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
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

// The per-band 2-98 % stretch of `r` as interleaved RGB (one band: grey; invalid pixels black).
cv::Mat stretchRgb(const Raster<float>& r) {
  cv::Mat rgb(r.rows, r.cols, CV_8UC3, cv::Scalar(0, 0, 0));
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
    auto* out = rgb.ptr<std::uint8_t>();
    for (size_t i = 0; i < r.plane(); ++i) {
      if (!r.valid[i]) continue;
      out[i * 3 + c] = static_cast<std::uint8_t>(std::clamp((p[i] - lo) * scale, 0.0, 255.0) + 0.5);
    }
  }
  return rgb;
}

// Text with a dark outline, readable on any background.
void outlinedText(cv::Mat& img, const std::string& text, cv::Point at, double scale) {
  cv::putText(img, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
  cv::putText(img, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(255, 255, 255), 1,
              cv::LINE_AA);
}

// The longest 1, 2 or 5 x 10^k metres that fits in `maxM`.
double niceLength(double maxM) {
  const double p = std::pow(10.0, std::floor(std::log10(maxM)));
  for (double m : {5.0, 2.0, 1.0})
    if (m * p <= maxM) return m * p;
  return p;
}

// A bar of a round length (about a fifth of the width) in the lower left corner, labelled.
void drawScaleBar(cv::Mat& img, double metresPerPx) {
  if (!(metresPerPx > 0) || !std::isfinite(metresPerPx) || img.cols < 64) return;
  const double lengthM = niceLength(img.cols * 0.2 * metresPerPx);
  const int lengthPx = static_cast<int>(std::lround(lengthM / metresPerPx));
  if (lengthPx < 8) return;
  char label[32];
  if (lengthM >= 1000)
    std::snprintf(label, sizeof label, "%g km", lengthM / 1000);
  else
    std::snprintf(label, sizeof label, "%g m", lengthM);
  const int x0 = 10, y0 = img.rows - 12;
  cv::rectangle(img, {x0 - 1, y0 - 4}, {x0 + lengthPx + 1, y0 + 4}, cv::Scalar(0, 0, 0),
                cv::FILLED);
  cv::rectangle(img, {x0, y0 - 3}, {x0 + lengthPx, y0 + 3}, cv::Scalar(255, 255, 255), cv::FILLED);
  outlinedText(img, label, {x0, y0 - 9}, 0.45);
}

// A dark strip with `text` above `img`; the text shrinks to fit the width.
cv::Mat withHeader(const cv::Mat& img, const std::string& text) {
  double scale = 0.5;
  int base = 0;
  cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base);
  if (size.width > img.cols - 12) {
    scale *= static_cast<double>(img.cols - 12) / size.width;
    size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base);
  }
  const int strip = std::max(12, size.height + base + 10);
  cv::Mat out(img.rows + strip, img.cols, CV_8UC3, cv::Scalar(32, 32, 32));
  img.copyTo(out(cv::Rect(0, strip, img.cols, img.rows)));
  cv::putText(out, text, {6, strip - base - 5}, cv::FONT_HERSHEY_SIMPLEX, scale,
              cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  return out;
}

}  // namespace

RgbImage renderQuicklook(const RasterSource& image, const FieldSet& fields,
                         const QuicklookOptions& o) {
  const Raster<float> r = image.readDecimated(std::max(16, o.maxSidePx));
  cv::Mat canvas = stretchRgb(r);
  // Enlarge small inputs by an integer factor, so pixels stay square and sharp.
  const int longer = std::max(r.rows, r.cols);
  const int k = (o.minSidePx > 0 && longer > 0 && longer < o.minSidePx)
                    ? (o.minSidePx + longer - 1) / longer
                    : 1;
  if (k > 1) cv::resize(canvas, canvas, cv::Size(), k, k, cv::INTER_NEAREST);

  const FieldSet f = (fields.crs.empty() || fields.crs.sameAs(r.grid.crs()))
                         ? fields
                         : reproject(fields, r.grid.crs());
  constexpr int kShift = 4;  // sub-pixel precision for cv::polylines
  auto toPts = [&](const Ring& ring) {
    std::vector<cv::Point> pts;
    pts.reserve(ring.size());
    for (const auto& p : ring) {
      const Point px = r.grid.worldToPixel(p.x, p.y);
      pts.emplace_back(static_cast<int>(std::lround(px.x * k * (1 << kShift))),
                       static_cast<int>(std::lround(px.y * k * (1 << kShift))));
    }
    return pts;
  };
  std::vector<std::vector<std::vector<cv::Point>>> all;
  all.reserve(f.fields.size());
  for (const auto& fld : f.fields) {
    std::vector<std::vector<cv::Point>> rings{toPts(fld.polygon.exterior)};
    for (const auto& h : fld.polygon.holes) rings.push_back(toPts(h));
    all.push_back(std::move(rings));
  }
  const int width = std::max(1, o.lineWidthPx);
  // Dark underlay first for every field, then the colour, so neighbours do not hide each other.
  const cv::Scalar dark(o.color[0] / 4, o.color[1] / 4, o.color[2] / 4);
  for (const auto& rings : all)
    cv::polylines(canvas, rings, true, dark, width + 2, cv::LINE_AA, kShift);
  const cv::Scalar color(o.color[0], o.color[1], o.color[2]);
  for (const auto& rings : all)
    cv::polylines(canvas, rings, true, color, width, cv::LINE_AA, kShift);

  if (o.scaleBar) drawScaleBar(canvas, r.grid.gsdMeters() / k);
  if (!o.header.empty()) canvas = withHeader(canvas, o.header);

  RgbImage out;
  out.rows = canvas.rows;
  out.cols = canvas.cols;
  out.rgb.assign(canvas.datastart, canvas.dataend);
  return out;
}

}  // namespace fieldseg
