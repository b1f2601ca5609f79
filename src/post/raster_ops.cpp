#include "raster_ops.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace fieldseg::post {

void distanceToZero(const std::uint8_t* bin, int rows, int cols, std::vector<float>& d) {
  d.assign(static_cast<size_t>(rows) * cols, 0.0f);
  if (rows == 0 || cols == 0) return;
  const cv::Mat1b in(rows, cols, const_cast<std::uint8_t*>(bin));
  cv::Mat1f out(rows, cols, d.data());
  cv::distanceTransform(in, out, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
}

void dilateSquare(const std::uint8_t* in, int rows, int cols, int ksize,
                  std::vector<std::uint8_t>& out) {
  out.assign(static_cast<size_t>(rows) * cols, 0);
  if (rows == 0 || cols == 0) return;
  const cv::Mat1b src(rows, cols, const_cast<std::uint8_t*>(in));
  cv::Mat1b dst(rows, cols, out.data());
  cv::dilate(src, dst, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(ksize, ksize)));
}

void gaussianBlurInPlace(float* plane, int rows, int cols, double sigma, int ksize) {
  if (rows == 0 || cols == 0) return;
  cv::Mat m(rows, cols, CV_32F, plane);
  cv::GaussianBlur(m, m, cv::Size(ksize, ksize), sigma, sigma, cv::BORDER_REFLECT_101);
}

}  // namespace fieldseg::post
