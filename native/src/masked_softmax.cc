// Softmax over the last dim with blocked positions excluded, forward and
// backward in one pass each: the attention's mask + softmax.
//
// Why not ATen's: in a GPT-2-small TTT step (1024 tokens), libtorch 1.13's
// _masked_softmax took 11 % of the time and its backward 3.5 %
// (npm run bench:profile), 3-4x a plain softmax of the same size. Here each
// row is a few vectorizable passes (mask, max, exp, sum, scale), compiled
// for AVX-512, AVX2 and baseline x86-64 and chosen at load by CPU features
// (target_clones), and stops at the row's last unblocked position.
//
// Semantics as _masked_softmax: blocked positions get probability 0, a row
// with every position blocked gives zeros (not NaN), gradients flow only to
// unblocked positions. fp32 and bf16 (under autocast) inputs; the arithmetic
// is fp32 either way.
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <c10/util/BFloat16.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "tensor_registry.h"

// The row kernels need the vectorizer's full cost model (-O2's "very cheap"
// one skips loops of unknown length), and no trapping math so that the exp's
// selects become vector blends (libtorch is built with it too); after the
// includes, so that only this file's own functions are affected.
#pragma GCC optimize("O3", "no-trapping-math")
#include "vector_math.h"  // after the pragma: its loops get the same options

namespace tttnn {

namespace {

using namespace vector_math;

#define TTTNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// Element loads and stores: fp32, or bf16 as its raw 16 bits (the upper half
// of an fp32; stored rounded to nearest even), in plain integer arithmetic
// that vectorizes, unlike c10::BFloat16's conversions.
inline float ToFloat(float v) { return v; }
inline float ToFloat(uint16_t bf16) {
  const uint32_t bits = uint32_t(bf16) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
inline void Store(float* out, float v) { *out = v; }
inline void Store(uint16_t* out, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  *out = uint16_t((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// One row of n: y = softmax(x) over the positions where blocked is false.
// Inlined into one clone per target below, where the loops vectorize.
// `scratch` holds n floats.
template <typename T>
inline __attribute__((always_inline)) void ForwardRow(const T* x, const uint8_t* blocked, T* y, int64_t n, float* scratch) {
  // Loads and exps happen for every position and are then masked: branch-free loops vectorize.
  for (int64_t j = 0; j < n; j++) {
    const float v = ToFloat(x[j]);
    scratch[j] = blocked[j] ? -std::numeric_limits<float>::infinity() : v;
  }
  const float max = MaxOf(scratch, n);
  if (max == -std::numeric_limits<float>::infinity()) {  // every position blocked
    for (int64_t j = 0; j < n; j++) Store(y + j, 0.f);
    return;
  }
  for (int64_t j = 0; j < n; j++) {
    const float e = ExpNonPositive(scratch[j] - max);  // blocked: exp(-inf) -> 0 already; the select keeps it exact
    scratch[j] = blocked[j] ? 0.f : e;
  }
  const float inverse = 1.f / SumOf(scratch, n);
  for (int64_t j = 0; j < n; j++) Store(y + j, scratch[j] * inverse);
}

// dx = y * (dy - sum(dy * y)); blocked positions have y = 0, so dx = 0 there.
// `scratch` holds n floats.
template <typename T>
inline __attribute__((always_inline)) void BackwardRow(const T* y, const T* dy, T* dx, int64_t n, float* scratch) {
  for (int64_t j = 0; j < n; j++) scratch[j] = ToFloat(dy[j]) * ToFloat(y[j]);
  const float dot = SumOf(scratch, n);
  for (int64_t j = 0; j < n; j++) Store(dx + j, ToFloat(y[j]) * (ToFloat(dy[j]) - dot));
}

// bf16 rows are passed as their raw uint16_t bits (see ToFloat / Store).
TTTNN_CLONES void ForwardRowF32(const float* x, const uint8_t* b, float* y, int64_t n, float* s) { ForwardRow(x, b, y, n, s); }
TTTNN_CLONES void ForwardRowBf16(const uint16_t* x, const uint8_t* b, uint16_t* y, int64_t n, float* s) { ForwardRow(x, b, y, n, s); }
TTTNN_CLONES void BackwardRowF32(const float* y, const float* dy, float* dx, int64_t n, float* s) { BackwardRow(y, dy, dx, n, s); }
TTTNN_CLONES void BackwardRowBf16(const uint16_t* y, const uint16_t* dy, uint16_t* dx, int64_t n, float* s) { BackwardRow(y, dy, dx, n, s); }

inline const uint16_t* Raw(const c10::BFloat16* p) { return reinterpret_cast<const uint16_t*>(p); }
inline uint16_t* Raw(c10::BFloat16* p) { return reinterpret_cast<uint16_t*>(p); }
inline const uint8_t* Raw(const bool* p) { return reinterpret_cast<const uint8_t*>(p); }
inline void RowForward(const float* x, const bool* b, float* y, int64_t n, float* s) { ForwardRowF32(x, Raw(b), y, n, s); }
inline void RowForward(const c10::BFloat16* x, const bool* b, c10::BFloat16* y, int64_t n, float* s) { ForwardRowBf16(Raw(x), Raw(b), Raw(y), n, s); }
inline void RowBackward(const float* y, const float* dy, float* dx, int64_t n, float* s) { BackwardRowF32(y, dy, dx, n, s); }
inline void RowBackward(const c10::BFloat16* y, const c10::BFloat16* dy, c10::BFloat16* dx, int64_t n, float* s) { BackwardRowBf16(Raw(y), Raw(dy), Raw(dx), n, s); }

// The mask as one bool row per row of x: expanded to x's shape, and made
// contiguous only when its last dim is not already (a [T, T] causal mask or a
// [B, 1, 1, T] padding mask broadcast over heads and queries is not copied).
struct MaskRows {
  at::Tensor expanded;
  std::vector<int64_t> sizes, strides;
  const bool* base;
  // Pointer to the mask row of x's row `row` (x contiguous, rows in order).
  const bool* Row(int64_t row) const {
    int64_t offset = 0;
    for (int64_t d = int64_t(sizes.size()) - 2; d >= 0; d--) {
      offset += (row % sizes[d]) * strides[d];
      row /= sizes[d];
    }
    return base + offset;
  }
};

MaskRows Rows(const at::Tensor& blocked, const at::Tensor& x) {
  MaskRows m;
  m.expanded = blocked.expand_as(x);
  if (m.expanded.stride(-1) != 1) m.expanded = m.expanded.contiguous();
  m.sizes = m.expanded.sizes().vec();
  m.strides = m.expanded.strides().vec();
  m.base = m.expanded.data_ptr<bool>();
  return m;
}

// Positions after a row's last unblocked one (a causal row's future, right
// padding) are neither exponentiated nor differentiated: the row is computed
// over its first `length` positions and the rest set to 0. Lengths are kept
// for the backward pass, where y is 0 past them and so is dx.
int64_t UnblockedLength(const bool* blocked, int64_t n) {
  const void* last_open = memrchr(blocked, 0, size_t(n));  // last byte == false
  return last_open == nullptr ? 0 : static_cast<const bool*>(last_open) - blocked + 1;
}

template <typename T>
std::pair<at::Tensor, at::Tensor> Forward(const at::Tensor& x_in, const at::Tensor& blocked) {
  at::Tensor x = x_in.contiguous();
  at::Tensor y = at::empty_like(x);
  const int64_t n = x.size(-1), rows = n == 0 ? 0 : x.numel() / n;
  at::Tensor lengths = at::empty({rows}, x.options().dtype(at::kInt));
  MaskRows mask = Rows(blocked, x);
  const T* xp = x.data_ptr<T>();
  T* yp = y.data_ptr<T>();
  int32_t* lp = lengths.data_ptr<int32_t>();
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(n));
    for (int64_t r = begin; r < end; r++) {
      const bool* b = mask.Row(r);
      const int64_t m = UnblockedLength(b, n);
      lp[r] = int32_t(m);
      if (m > 0) RowForward(xp + r * n, b, yp + r * n, m, scratch.data());
      std::memset(yp + r * n + m, 0, sizeof(T) * size_t(n - m));
    }
  });
  return {y, lengths};
}

template <typename T>
at::Tensor Backward(const at::Tensor& y, const at::Tensor& lengths, const at::Tensor& dy_in) {
  at::Tensor dy = dy_in.contiguous();
  at::Tensor dx = at::empty_like(y);
  const int64_t n = y.size(-1), rows = n == 0 ? 0 : y.numel() / n;
  const T* yp = y.data_ptr<T>();
  const T* dyp = dy.data_ptr<T>();
  const int32_t* lp = lengths.data_ptr<int32_t>();
  T* dxp = dx.data_ptr<T>();
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(n));
    for (int64_t r = begin; r < end; r++) {
      const int64_t m = lp[r];
      if (m > 0) RowBackward(yp + r * n, dyp + r * n, dxp + r * n, m, scratch.data());
      std::memset(dxp + r * n + m, 0, sizeof(T) * size_t(n - m));
    }
  });
  return dx;
}

struct MaskedSoftmax : public torch::autograd::Function<MaskedSoftmax> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& blocked) {
    auto [y, lengths] = x.scalar_type() == at::kBFloat16 ? Forward<c10::BFloat16>(x, blocked) : Forward<float>(x, blocked);
    ctx->save_for_backward({y, lengths});
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();  // a copy: the list is a temporary
    const at::Tensor& y = saved[0];
    const at::Tensor& lengths = saved[1];
    at::Tensor dy = grads[0].to(y.scalar_type());
    at::Tensor dx = y.scalar_type() == at::kBFloat16 ? Backward<c10::BFloat16>(y, lengths, dy) : Backward<float>(y, lengths, dy);
    return {dx, at::Tensor()};
  }
};

}  // namespace

// Softmax over the last dim of x excluding `blocked` (bool, broadcastable to
// x). Other dtypes or devices (float64, CUDA) use ATen's _masked_softmax.
at::Tensor MaskedSoftmaxLastDim(const at::Tensor& x, const at::Tensor& blocked) {
  const bool fused = x.device().is_cpu() && blocked.device().is_cpu() && blocked.scalar_type() == at::kBool &&
                     (x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16) && x.dim() >= 1;
  if (!fused) return at::_masked_softmax(x, blocked.expand_as(x), x.dim() - 1, 2);
  RECORD_FUNCTION("tttnn::masked_softmax", std::vector<c10::IValue>());  // a row in the op profiler
  return MaskedSoftmax::apply(x, blocked);
}

}  // namespace tttnn
