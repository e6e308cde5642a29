#pragma once
// A screenshot's pixels, to check what the browser painted: 8-bit RGB or RGBA PNGs
// without interlacing (what headless Chromium writes), inflated with zlib and unfiltered.
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace ktstr::test {

struct Rgb {
  int r = 0, g = 0, b = 0;
};

struct PngPixels {
  uint32_t width = 0, height = 0;
  std::vector<Rgb> pixels;  ///< row by row
};

namespace png_detail {
inline uint32_t be32(const std::string& s, size_t at) {
  return uint32_t(uint8_t(s[at])) << 24 | uint32_t(uint8_t(s[at + 1])) << 16 | uint32_t(uint8_t(s[at + 2])) << 8 |
         uint32_t(uint8_t(s[at + 3]));
}
inline int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}
}  // namespace png_detail

/// nullopt when the file is no PNG of that kind (or is damaged).
inline std::optional<PngPixels> decode_png(const std::string& file) {
  using namespace png_detail;
  if (file.size() < 33 || file.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return std::nullopt;
  PngPixels out;
  int channels = 0;
  std::string idat;
  for (size_t at = 8; at + 12 <= file.size();) {
    const uint32_t length = be32(file, at);
    const std::string type = file.substr(at + 4, 4);
    if (at + 12 + length > file.size()) return std::nullopt;
    if (type == "IHDR") {
      out.width = be32(file, at + 8);
      out.height = be32(file, at + 12);
      const int depth = uint8_t(file[at + 16]), color = uint8_t(file[at + 17]), interlace = uint8_t(file[at + 20]);
      if (depth != 8 || interlace != 0 || (color != 2 && color != 6)) return std::nullopt;
      channels = color == 2 ? 3 : 4;
    } else if (type == "IDAT") {
      idat += file.substr(at + 8, length);
    }
    at += 12 + length;
  }
  if (!channels || out.width == 0 || out.height == 0 || out.width > 20000 || out.height > 20000) return std::nullopt;
  const size_t stride = size_t(out.width) * channels;
  std::vector<uint8_t> raw((stride + 1) * out.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK ||
      raw_size != raw.size())
    return std::nullopt;
  std::vector<uint8_t> prev(stride, 0), row(stride);
  out.pixels.reserve(size_t(out.width) * out.height);
  for (uint32_t y = 0; y < out.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= size_t(channels) ? row[i - channels] : 0, b = prev[i], c = i >= size_t(channels) ? prev[i - channels] : 0;
      int v = in[i];
      switch (filter) {
        case 0: break;
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) / 2; break;
        case 4: v += paeth(a, b, c); break;
        default: return std::nullopt;
      }
      row[i] = uint8_t(v);
    }
    for (uint32_t x = 0; x < out.width; ++x)
      out.pixels.push_back({row[x * channels], row[x * channels + 1], row[x * channels + 2]});
    prev.swap(row);
  }
  return out;
}

/// CSS hsl(h, s%, l%) in 8-bit sRGB.
inline Rgb hsl_to_rgb(double h, double s, double l) {
  const double c = (1 - std::abs(2 * l - 1)) * s;
  const double hp = h / 60;
  const double x = c * (1 - std::abs(std::fmod(hp, 2.0) - 1));
  double r = 0, g = 0, b = 0;
  if (hp < 1) r = c, g = x;
  else if (hp < 2) r = x, g = c;
  else if (hp < 3) g = c, b = x;
  else if (hp < 4) g = x, b = c;
  else if (hp < 5) r = x, b = c;
  else r = c, b = x;
  const double m = l - c / 2;
  auto byte = [&](double v) { return int(std::lround((v + m) * 255)); };
  return {byte(r), byte(g), byte(b)};
}

}  // namespace ktstr::test
