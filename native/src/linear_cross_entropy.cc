// The output layer and its cross entropy as one op: loss of
// (h W^T + b) against integer targets, computed a chunk of rows at a time,
// never holding the whole [N, V] logits or log-softmax.
//
// Why: a GPT-2-small TTT step's output layer makes 1024 x 50257 logits
// (206 MB in fp32), then their log-softmax (another 206 MB, kept for the
// backward pass), then in the backward pass the softmax gradient (206 MB
// more), each a full pass over memory. Here each chunk of kChunkRows rows
// (25 MB at V = 50257, about an L3 cache) has its logits made by one GEMM,
// then one pass per row computes the row's log-sum-exp (vector_math.h) and,
// when a gradient is wanted, turns the row into the loss's gradient with
// respect to the logits (softmax - one-hot, times 1/count for the mean)
// while it is still in cache; two more GEMMs give that chunk's share of the
// gradients of h and W. The gradients are kept for the backward pass, which
// only scales them by the incoming gradient (the loss is a scalar), so the
// GEMM count equals the unfused form's: nothing is recomputed.
//
// fp32 on the CPU (the output layer stays fp32 under mixed precision:
// models/decoder.ts says why). Targets equal to ignore_index contribute no
// loss and no gradient; 'mean' divides by the number of other targets
// (NaN when there is none, as torch's cross_entropy).
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#pragma GCC optimize("O3", "no-trapping-math")
#include "vector_math.h"  // after the pragma: its loops get the same options

namespace tttnn {

namespace {

using namespace vector_math;

#define TTTNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

constexpr int64_t kChunkRows = 128;

// One row of n logits: returns log-sum-exp(x). With `grad_scale` > 0 the row
// becomes grad_scale * softmax(x) (the caller subtracts grad_scale at the
// target); otherwise it is left as exp(x - max) (scratch).
TTTNN_CLONES float LogSumExpRow(float* x, int64_t n, float grad_scale) {
  const float max = MaxOf(x, n);
  if (max == std::numeric_limits<float>::infinity()) return max;
  for (int64_t j = 0; j < n; j++) x[j] = ExpNonPositive(x[j] - max);
  const float sum = SumOf(x, n);
  if (grad_scale > 0) {
    const float factor = grad_scale / sum;
    for (int64_t j = 0; j < n; j++) x[j] *= factor;
  }
  return max + std::log(sum);
}

struct Result {
  at::Tensor losses;  // [N]
  at::Tensor grad_h, grad_w, grad_b;
};

// losses[i] = lse(logits_i) - logits_i[target_i] (0 where ignored); with
// `grads`, the gradients of sum(losses) * scale.
Result Compute(const at::Tensor& h, const at::Tensor& w, const at::Tensor& b, const at::Tensor& targets, int64_t ignore_index,
               bool grads, bool grad_w, bool grad_b, float scale) {
  const int64_t rows = h.size(0), vocab = w.size(0);
  Result r;
  r.losses = at::zeros({rows}, h.options());
  if (grads) {
    r.grad_h = at::empty_like(h);
    if (grad_w) r.grad_w = at::zeros_like(w);
    if (grad_b) r.grad_b = at::zeros({vocab}, w.options());
  }
  const int64_t* t = targets.data_ptr<int64_t>();
  float* loss = r.losses.data_ptr<float>();
  for (int64_t start = 0; start < rows; start += kChunkRows) {
    const int64_t n = std::min(kChunkRows, rows - start);
    const at::Tensor hc = h.narrow(0, start, n);
    at::Tensor logits = b.defined() ? at::addmm(b, hc, w.t()) : at::mm(hc, w.t());  // [n, V]
    float* l = logits.data_ptr<float>();
    at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; i++) {
        float* row = l + i * vocab;
        const int64_t target = t[start + i];
        if (target == ignore_index) {
          if (grads) std::fill(row, row + vocab, 0.f);
          continue;
        }
        TORCH_CHECK(target >= 0 && target < vocab, "linear cross entropy: target ", target, " is out of bounds for ", vocab, " classes");
        const float target_logit = row[target];
        loss[start + i] = LogSumExpRow(row, vocab, grads ? scale : 0.f) - target_logit;
        if (grads) row[target] -= scale;
      }
    });
    if (!grads) continue;
    r.grad_h.narrow(0, start, n).copy_(at::mm(logits, w));
    if (grad_w) r.grad_w.addmm_(logits.t(), hc);
    if (grad_b) r.grad_b.add_(logits.sum(0));
  }
  return r;
}

struct LinearCrossEntropy : public torch::autograd::Function<LinearCrossEntropy> {
  // Returns the loss: the mean over counted targets ('mean') or their sum ('sum').
  // `bias` is empty ([0]) for a layer without one (an undefined tensor is no input autograd accepts in libtorch 1.13).
  // `wants`: which of h, w, bias need a gradient, decided by the caller (under no_grad the context has no edges to ask).
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& h, const at::Tensor& w, const at::Tensor& bias,
                            const at::Tensor& targets, int64_t ignore_index, bool mean, std::vector<bool> wants) {
    const at::Tensor b = bias.numel() == 0 ? at::Tensor() : bias;
    const int64_t counted = targets.ne(ignore_index).sum().item<int64_t>();
    const float scale = mean ? 1.f / float(counted) : 1.f;
    const bool grads = wants[0] || wants[1] || wants[2];
    Result r = Compute(h, w, b, targets, ignore_index, grads && counted > 0, wants[1], wants[2], scale);
    if (grads && counted == 0) {  // no target: NaN loss, zero gradients (torch's mean over nothing)
      r.grad_h = at::zeros_like(h);
      if (wants[1]) r.grad_w = at::zeros_like(w);
      if (wants[2]) r.grad_b = at::zeros_like(b);
    }
    ctx->save_for_backward({r.grad_h, r.grad_w, r.grad_b});
    at::Tensor total = r.losses.sum();
    return mean ? total.div(double(counted)) : total;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const at::Tensor& go = grads[0];
    auto scaled = [&](const at::Tensor& g) { return g.defined() ? g.mul(go) : at::Tensor(); };
    return {scaled(saved[0]), scaled(saved[1]), scaled(saved[2]), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

// h [N, C], w [V, C], b [V] or undefined, targets [N] int64; reduction
// 'mean', 'sum' (differentiable) or 'none' (per-row losses [N], no gradient).
at::Tensor LinearCrossEntropyLoss(const at::Tensor& h, const at::Tensor& w, const at::Tensor& b, const at::Tensor& targets,
                                  int64_t ignore_index, const std::string& reduction) {
  TORCH_CHECK(h.dim() == 2 && w.dim() == 2 && h.size(1) == w.size(1), "linear cross entropy: h must be [N, C] and w [V, C]");
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == h.size(0) && targets.scalar_type() == at::kLong,
              "linear cross entropy: targets must be int64 [N]");
  TORCH_CHECK(h.device().is_cpu() && h.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat && (!b.defined() || b.scalar_type() == at::kFloat),
              "linear cross entropy: fp32 CPU tensors only");
  RECORD_FUNCTION("tttnn::linear_cross_entropy", std::vector<c10::IValue>());
  const at::Tensor hc = h.contiguous(), tc = targets.contiguous();
  if (reduction == "none") {
    TORCH_CHECK(!(at::GradMode::is_enabled() && (h.requires_grad() || w.requires_grad() || (b.defined() && b.requires_grad()))),
                "linear cross entropy: reduction 'none' has no gradient; compute it under no_grad");
    return Compute(hc, w, b, tc, ignore_index, false, false, false, 1.f).losses;
  }
  TORCH_CHECK(reduction == "mean" || reduction == "sum", "linear cross entropy: reduction must be 'mean', 'sum' or 'none', got '", reduction, "'");
  const bool grad_mode = at::GradMode::is_enabled();
  std::vector<bool> wants{grad_mode && h.requires_grad(), grad_mode && w.requires_grad(), grad_mode && b.defined() && b.requires_grad()};
  return LinearCrossEntropy::apply(hc, w, b.defined() ? b : at::empty({0}, w.options()), tc, ignore_index, reduction == "mean", wants);
}

}  // namespace tttnn
