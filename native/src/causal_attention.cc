// Causal self-attention as one fused, blocked kernel, forward and backward:
// softmax(q k^T * scale, causal [and windowed]) v with dropout on the
// probabilities, never holding a T x T tensor.
//
// Why: in a GPT-2-small TTT step (1024 tokens) the attention's batched
// products (libtorch 1.13's bmm: every T x T score, half of them blocked,
// at ~45 GFLOPS) with the masked softmax and its saved T x T probabilities
// took about a quarter of the step (npm run bench:profile). Here, per
// (batch, head, block of kBlock queries) the scores of the keys that block
// can see are computed with small GEMMs (oneDNN's sgemm, one per thread,
// tasks taken from a shared counter), the softmax is done row by row in
// registers-friendly loops (vector_math.h), and only the rows' log-sum-exp
// is kept for the backward pass, which recomputes the probabilities
// (flash-attention's scheme, without the online softmax: a block's whole key
// range, at most T, fits in its scratch row).
//
// Keys visible to query i: [i - window + 1, i] (window 0: [0, i]), the
// masks of GPT-2, GPT-Neo's local layers and the rotary families' sliding
// windows. Dropout keeps a probability when a hash of (seed, row, key) says
// so; the seed is drawn from libtorch's default CPU generator (manual_seed
// makes it reproducible) and the backward pass regenerates the same mask.
//
// On libtorch >= 2.1 without dropout the addon calls
// at::scaled_dot_product_attention instead (PyTorch's own fused CPU kernel).
// fp32 on the CPU; other dtypes and devices are the caller's (attention.ts).
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <vector>

#include "gemm_dispatch.h"
#include "torch_compat.h"

// The row loops need the vectorizer's full cost model and no trapping math
// (see masked_softmax.cc); after the includes, so only this file is affected.
#pragma GCC optimize("O3", "no-trapping-math")
#include "vector_math.h"  // after the pragma: its loops get the same options

namespace tttnn {

namespace {

using namespace vector_math;

#define TTTNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// Queries per task: small enough that a causal block skips most of the
// blocked half (about 53 % of the T x T products at T = 1024), big enough for
// efficient GEMMs.
constexpr int64_t kBlock = 64;

// ---- row kernels (one row of a block's scores, keys [0, n)) ----------------

// s[lo, hi) -> softmax probabilities, 0 elsewhere; returns the row's log-sum-exp.
TTTNN_CLONES float SoftmaxRow(float* s, int64_t n, int64_t lo, int64_t hi) {
  float* v = s + lo;
  const int64_t m = hi - lo;
  const float max = MaxOf(v, m);
  for (int64_t j = 0; j < m; j++) v[j] = ExpNonPositive(v[j] - max);
  const float sum = SumOf(v, m);
  const float inverse = 1.f / sum;
  for (int64_t j = 0; j < m; j++) v[j] *= inverse;
  for (int64_t j = 0; j < lo; j++) s[j] = 0.f;
  for (int64_t j = hi; j < n; j++) s[j] = 0.f;
  return max + std::log(sum);
}

// s[lo, hi) -> exp(s - lse) (the forward pass's probabilities again), 0 elsewhere.
TTTNN_CLONES void ProbabilityRow(float* s, int64_t n, int64_t lo, int64_t hi, float lse) {
  for (int64_t j = lo; j < hi; j++) s[j] = ExpNonPositive(std::min(s[j] - lse, 0.f));
  for (int64_t j = 0; j < lo; j++) s[j] = 0.f;
  for (int64_t j = hi; j < n; j++) s[j] = 0.f;
}

// A 32-bit integer hash (lowbias32, Chris Wellons): plain integer arithmetic that vectorizes.
inline uint32_t Mix(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// Dropout on s[lo, hi): key j (absolute `first + j`) is dropped when the
// top 24 bits of its hash fall under `threshold` (p * 2^24); kept ones are
// scaled by 1 / (1 - p). `row_key` identifies the (seed, batch, head, query).
TTTNN_CLONES void DropoutRow(float* s, int64_t lo, int64_t hi, int64_t first, uint32_t row_key, uint32_t threshold, float keep_scale) {
  for (int64_t j = lo; j < hi; j++) {
    const uint32_t u = Mix(row_key ^ (uint32_t(first + j) * 0x9e3779b9u)) >> 8;
    s[j] = u < threshold ? 0.f : s[j] * keep_scale;
  }
}

// w = dP on [lo, hi) -> dS = p * (dP - sum(p * dP)) there (0 elsewhere, where p is 0).
TTTNN_CLONES void SoftmaxGradRow(const float* p, float* w, int64_t n, int64_t lo, int64_t hi) {
  float lanes[kLanes] = {};
  int64_t j = lo;
  for (; j + kLanes <= hi; j += kLanes) {
    for (int64_t l = 0; l < kLanes; l++) lanes[l] += p[j + l] * w[j + l];
  }
  float dot = 0.f;
  for (; j < hi; j++) dot += p[j] * w[j];
  for (int64_t l = 0; l < kLanes; l++) dot += lanes[l];
  for (int64_t k = lo; k < hi; k++) w[k] = p[k] * (w[k] - dot);
  for (int64_t k = 0; k < lo; k++) w[k] = 0.f;
  for (int64_t k = hi; k < n; k++) w[k] = 0.f;
}

// ---- geometry, GEMMs, tasks ------------------------------------------------

struct Geometry {
  int64_t batch, heads, tokens, dim;
  int64_t window;  // 0: unlimited
  float scale;
  float dropout;
  uint64_t seed;

  int64_t First(int64_t i) const { return window > 0 ? std::max<int64_t>(0, i - window + 1) : 0; }
  int64_t Blocks() const { return (tokens + kBlock - 1) / kBlock; }
  uint32_t RowKey(int64_t b, int64_t h, int64_t i) const {
    return Mix(uint32_t(seed) ^ Mix(uint32_t(seed >> 32) + uint32_t((b * heads + h) * tokens + i)));
  }
  uint32_t Threshold() const { return uint32_t(double(dropout) * double(1u << 24)); }
};

// A [B, H, T, D] tensor with a contiguous last dim, by element strides.
struct HeadView {
  float* base;
  int64_t sb, sh, st;
  float* Row(int64_t b, int64_t h, int64_t t) const { return base + b * sb + h * sh + t * st; }
};

HeadView View(const at::Tensor& x) {
  TORCH_CHECK(x.stride(3) == 1, "causal attention: the head dim must be contiguous");
  return {x.data_ptr<float>(), x.stride(0), x.stride(1), x.stride(2)};
}

// Row-major C = alpha op(A) op(B) + beta C on this thread (oneDNN), or through
// libblas's own threads when tasks run one after another (no oneDNN).
void Gemm(bool serial, char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (serial || !ThreadLocalSgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) {
    BlasSgemmRowMajor(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

// Runs task(t, scratch) for t in [0, count): with oneDNN on every thread,
// each taking the next task from a shared counter (tasks cost different
// amounts: a causal block's cost grows with its position); without, in order.
template <typename Task>
void RunTasks(int64_t count, int64_t scratch_floats, bool serial, const Task& task) {
  if (serial) {
    std::vector<float> scratch(static_cast<size_t>(scratch_floats));
    for (int64_t t = 0; t < count; t++) task(t, scratch.data());
    return;
  }
  std::atomic<int64_t> next{0};
  at::parallel_for(0, at::get_num_threads(), 1, [&](int64_t, int64_t) {
    std::vector<float> scratch(static_cast<size_t>(scratch_floats));
    for (int64_t t = next.fetch_add(1); t < count; t = next.fetch_add(1)) task(t, scratch.data());
  });
}

bool Serial() { return !CurrentGemmBackend().onednn_available; }

// q, k, v [B, H, T, D] fp32 -> out [B, H, T, D] (a view of a [B, T, H, D]
// tensor, so that merging the heads is a view too), lse [B, H, T].
std::pair<at::Tensor, at::Tensor> Forward(const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in, const Geometry& g) {
  const at::Tensor q = q_in.stride(3) == 1 ? q_in : q_in.contiguous();
  const at::Tensor k = k_in.stride(3) == 1 ? k_in : k_in.contiguous();
  const at::Tensor v = v_in.stride(3) == 1 ? v_in : v_in.contiguous();
  at::Tensor out = at::empty({g.batch, g.tokens, g.heads, g.dim}, q.options()).transpose(1, 2);
  at::Tensor lse = at::empty({g.batch, g.heads, g.tokens}, q.options());
  const HeadView Q = View(q), K = View(k), V = View(v), O = View(out);
  float* L = lse.data_ptr<float>();
  const int64_t pairs = g.batch * g.heads, blocks = g.Blocks();
  const bool serial = Serial();
  RunTasks(pairs * blocks, kBlock * g.tokens, serial, [&](int64_t t, float* s) {
    const int64_t block = blocks - 1 - t / pairs;  // the costliest blocks first
    const int64_t b = (t % pairs) / g.heads, h = t % g.heads;
    const int64_t i0 = block * kBlock, n = std::min(kBlock, g.tokens - i0);
    const int64_t first = g.First(i0), keys = i0 + n - first;
    Gemm(serial, 'N', 'T', n, keys, g.dim, g.scale, Q.Row(b, h, i0), Q.st, K.Row(b, h, first), K.st, 0.f, s, keys);
    for (int64_t r = 0; r < n; r++) {
      const int64_t i = i0 + r;
      float* row = s + r * keys;
      const int64_t lo = g.First(i) - first, hi = i + 1 - first;
      L[(b * g.heads + h) * g.tokens + i] = SoftmaxRow(row, keys, lo, hi);
      if (g.dropout > 0) DropoutRow(row, lo, hi, first, g.RowKey(b, h, i), g.Threshold(), 1.f / (1.f - g.dropout));
    }
    Gemm(serial, 'N', 'N', n, g.dim, keys, 1.f, s, keys, V.Row(b, h, first), V.st, 0.f, O.Row(b, h, i0), O.st);
  });
  return {out, lse};
}

// Gradients of q, k, v given dout; one task per (batch, head), which owns
// that head's dk and dv rows (blocks of a head add into the same keys).
std::vector<at::Tensor> Backward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& lse,
                                 const at::Tensor& dout_in, const Geometry& g) {
  const at::Tensor dout = dout_in.stride(3) == 1 ? dout_in : dout_in.contiguous();
  at::Tensor dq = at::empty({g.batch, g.tokens, g.heads, g.dim}, q.options()).transpose(1, 2);
  at::Tensor dk = at::zeros({g.batch, g.tokens, g.heads, g.dim}, q.options()).transpose(1, 2);
  at::Tensor dv = at::zeros({g.batch, g.tokens, g.heads, g.dim}, q.options()).transpose(1, 2);
  const HeadView Q = View(q), K = View(k), V = View(v), dO = View(dout), dQ = View(dq), dK = View(dk), dV = View(dv);
  const float* L = lse.data_ptr<float>();
  const bool serial = Serial();
  const int64_t block_floats = kBlock * g.tokens;
  RunTasks(g.batch * g.heads, 3 * block_floats, serial, [&](int64_t t, float* scratch) {
    const int64_t b = t / g.heads, h = t % g.heads;
    float* p = scratch;                     // probabilities
    float* pd = scratch + block_floats;     // after dropout
    float* w = scratch + 2 * block_floats;  // dP, then dS
    for (int64_t block = 0; block < g.Blocks(); block++) {
      const int64_t i0 = block * kBlock, n = std::min(kBlock, g.tokens - i0);
      const int64_t first = g.First(i0), keys = i0 + n - first;
      Gemm(serial, 'N', 'T', n, keys, g.dim, g.scale, Q.Row(b, h, i0), Q.st, K.Row(b, h, first), K.st, 0.f, p, keys);
      for (int64_t r = 0; r < n; r++) {
        const int64_t i = i0 + r;
        ProbabilityRow(p + r * keys, keys, g.First(i) - first, i + 1 - first, L[(b * g.heads + h) * g.tokens + i]);
      }
      const float* used = p;  // the probabilities that multiplied v
      if (g.dropout > 0) {
        std::copy(p, p + n * keys, pd);
        for (int64_t r = 0; r < n; r++) {
          const int64_t i = i0 + r;
          DropoutRow(pd + r * keys, g.First(i) - first, i + 1 - first, first, g.RowKey(b, h, i), g.Threshold(), 1.f / (1.f - g.dropout));
        }
        used = pd;
      }
      // dv[keys] += P^T dout[block]; dP = dout[block] v[keys]^T (through the dropout mask).
      Gemm(serial, 'T', 'N', keys, g.dim, n, 1.f, used, keys, dO.Row(b, h, i0), dO.st, 1.f, dV.Row(b, h, first), dV.st);
      Gemm(serial, 'N', 'T', n, keys, g.dim, 1.f, dO.Row(b, h, i0), dO.st, V.Row(b, h, first), V.st, 0.f, w, keys);
      for (int64_t r = 0; r < n; r++) {
        const int64_t i = i0 + r, lo = g.First(i) - first, hi = i + 1 - first;
        if (g.dropout > 0) DropoutRow(w + r * keys, lo, hi, first, g.RowKey(b, h, i), g.Threshold(), 1.f / (1.f - g.dropout));
        SoftmaxGradRow(p + r * keys, w + r * keys, keys, lo, hi);
      }
      // dq[block] = scale dS k[keys]; dk[keys] += scale dS^T q[block].
      Gemm(serial, 'N', 'N', n, g.dim, keys, g.scale, w, keys, K.Row(b, h, first), K.st, 0.f, dQ.Row(b, h, i0), dQ.st);
      Gemm(serial, 'T', 'N', keys, g.dim, n, g.scale, w, keys, Q.Row(b, h, i0), Q.st, 1.f, dK.Row(b, h, first), dK.st);
    }
  });
  return {dq, dk, dv};
}

uint64_t DrawSeed() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

Geometry GeometryOf(const at::Tensor& q, double scale, int64_t window, double dropout, uint64_t seed) {
  return {q.size(0), q.size(1), q.size(2), q.size(3), window, float(scale), float(dropout), seed};
}

struct CausalAttention : public torch::autograd::Function<CausalAttention> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            double scale, int64_t window, double dropout) {
    const uint64_t seed = dropout > 0 ? DrawSeed() : 0;
    auto [out, lse] = Forward(q, k, v, GeometryOf(q, scale, window, dropout, seed));
    ctx->save_for_backward({q, k, v, lse});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["window"] = window;
    ctx->saved_data["dropout"] = dropout;
    ctx->saved_data["seed"] = int64_t(seed);
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    RECORD_FUNCTION("tttnn::causal_attention_backward", std::vector<c10::IValue>());
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &lse = saved[3];
    const Geometry g = GeometryOf(q, ctx->saved_data["scale"].toDouble(), ctx->saved_data["window"].toInt(),
                                  ctx->saved_data["dropout"].toDouble(), uint64_t(ctx->saved_data["seed"].toInt()));
    std::vector<at::Tensor> d = Backward(q, k, v, lse, grads[0].to(at::kFloat), g);
    return {d[0], d[1], d[2], at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

// q, k, v [B, H, T, D] fp32 on the CPU, the same T for all; window 0 for
// plain causal attention; dropout applies when > 0 (the caller passes 0
// outside training). Returns [B, H, T, D].
at::Tensor FusedCausalAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale, int64_t window,
                                double dropout, bool use_sdpa) {
  TORCH_CHECK(q.dim() == 4 && k.sizes() == q.sizes() && v.sizes() == q.sizes(), "causal attention: q, k and v must be [B, H, T, D] of one shape");
  TORCH_CHECK(q.device().is_cpu() && q.scalar_type() == at::kFloat && k.scalar_type() == at::kFloat && v.scalar_type() == at::kFloat,
              "causal attention: fp32 CPU tensors only");
  TORCH_CHECK(window >= 0 && dropout >= 0 && dropout < 1, "causal attention: window must be >= 0 and dropout in [0, 1)");
#if TTTNN_TORCH_AT_LEAST(2, 1)
  if (use_sdpa && dropout == 0) {
    if (window == 0) return at::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true, scale);
    const at::Tensor i = at::arange(q.size(2), q.options().dtype(at::kLong));
    const at::Tensor back = i.unsqueeze(1) - i.unsqueeze(0);  // query - key
    return at::scaled_dot_product_attention(q, k, v, back.ge(0).logical_and(back.lt(window)), 0.0, false, scale);
  }
#endif
  RECORD_FUNCTION("tttnn::causal_attention", std::vector<c10::IValue>());
  return CausalAttention::apply(q, k, v, scale, window, dropout);
}

}  // namespace tttnn
