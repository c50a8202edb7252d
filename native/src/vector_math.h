// Float loops that vectorize without -ffast-math, shared by the fused
// attention kernels (masked_softmax.cc, causal_attention.cc). Inline
// functions: each includer compiles them into its own target_clones
// (AVX-512, AVX2, baseline), under its own `#pragma GCC optimize`.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

namespace tttnn::vector_math {

// exp(x) for x <= 0 without a libm call, so that loops over it vectorize:
// Cephes' expf (range reduction by ln 2, degree-6 polynomial), within 1 ulp
// of exp on [-87, 0] (checked against double-precision exp every 1e-4); below -87 it returns 0, where std::exp returns
// denormals (< 2e-38), invisible after the row's sum.
inline float ExpNonPositive(float x) {
  const float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  const bool underflow = x < -87.0f;
  x = underflow ? -87.0f : x;
  // n = round(x / ln 2) by the 1.5 * 2^23 trick: plain arithmetic, so the loop stays vectorizable.
  const float kRound = 12582912.0f;
  const float n = (x * kLog2e + kRound) - kRound;
  const float r = x - n * kLn2Hi - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (int32_t(n) + 127) << 23;  // 2^n as a float's exponent
  float two_n;
  std::memcpy(&two_n, &bits, sizeof two_n);
  return underflow ? 0.0f : e * two_n;
}

// The loops below are written to vectorize without fast-math: element-wise
// loops, and reductions over kLanes partial results that GCC turns into
// vector max / add (a plain `max = max(max, v)` loop stays scalar, since
// reordering it is not IEEE-exact).
constexpr int64_t kLanes = 16;

inline float MaxOf(const float* v, int64_t n) {
  float lanes[kLanes];
  for (int64_t k = 0; k < kLanes; k++) lanes[k] = -std::numeric_limits<float>::infinity();
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int64_t k = 0; k < kLanes; k++) lanes[k] = v[j + k] > lanes[k] ? v[j + k] : lanes[k];
  }
  float max = -std::numeric_limits<float>::infinity();
  for (; j < n; j++) max = v[j] > max ? v[j] : max;
  for (int64_t k = 0; k < kLanes; k++) max = lanes[k] > max ? lanes[k] : max;
  return max;
}

inline float SumOf(const float* v, int64_t n) {
  float lanes[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int64_t k = 0; k < kLanes; k++) lanes[k] += v[j + k];
  }
  float sum = 0.f;
  for (; j < n; j++) sum += v[j];
  for (int64_t k = 0; k < kLanes; k++) sum += lanes[k];
  return sum;
}

}  // namespace tttnn::vector_math
