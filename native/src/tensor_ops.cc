// Tensor operations exposed to JS: creation, data transfer, the ops GPT-2,
// GPT-Neo and RoBERTa need (forward and backward come from libtorch's
// autograd), and the autograd controls.
//
// Each op is a plain function of the N-API call arguments registered under a
// name; src/engine/tensor.ts gives them types and documents the arguments.
#include <c10/core/GradMode.h>

#include <cmath>
#include <cstring>

#include "autocast.h"
#include "tensor_registry.h"

namespace tttnn {

at::Tensor MaskedSoftmaxLastDim(const at::Tensor& x, const at::Tensor& blocked);  // masked_softmax.cc
at::Tensor FusedCausalAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale, int64_t window,
                                double dropout, bool use_sdpa);  // causal_attention.cc
at::Tensor LinearCrossEntropyLoss(const at::Tensor& h, const at::Tensor& w, const at::Tensor& b, const at::Tensor& targets,
                                  int64_t ignore_index, const std::string& reduction);  // linear_cross_entropy.cc

using Args = Napi::CallbackInfo;
using TensorOp = at::Tensor (*)(const Args&);
using TensorListOp = std::vector<at::Tensor> (*)(const Args&);

static void DefTensorOp(Napi::Env env, Napi::Object exports, const char* name, TensorOp op) {
  exports.Set(name, Napi::Function::New(
                        env,
                        [op](const Args& info) -> Napi::Value {
                          return Guard(info, [&] { return WrapTensor(info.Env(), op(info)); });
                        },
                        name));
}

static void DefListOp(Napi::Env env, Napi::Object exports, const char* name, TensorListOp op) {
  exports.Set(name, Napi::Function::New(
                        env,
                        [op](const Args& info) -> Napi::Value {
                          return Guard(info, [&]() -> Napi::Value { return WrapList(info.Env(), op(info)); });
                        },
                        name));
}

using ValueOp = Napi::Value (*)(const Args&);
static void DefValueOp(Napi::Env env, Napi::Object exports, const char* name, ValueOp op) {
  exports.Set(name, Napi::Function::New(
                        env, [op](const Args& info) -> Napi::Value { return Guard(info, [&] { return op(info); }); },
                        name));
}

// A JS number as a torch Scalar: integral values stay integral so that
// `ids + 1` keeps an int64 tensor int64 (as Python's `t + 1` does).
static at::Scalar ArgScalar(const Args& a, size_t i) {
  double v = ArgDouble(a, i);
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9007199254740992.0) return at::Scalar(int64_t(v));
  return at::Scalar(v);
}

static std::vector<int64_t> ArgDimsOrAll(const Args& a, size_t i, int64_t ndim) {
  if (!ArgIsMissing(a, i)) return ArgIntList(a, i);
  std::vector<int64_t> all(ndim);
  for (int64_t d = 0; d < ndim; d++) all[d] = d;
  return all;
}

static int64_t ParseReduction(const std::string& name) {
  if (name == "mean") return at::Reduction::Mean;
  if (name == "sum") return at::Reduction::Sum;
  if (name == "none") return at::Reduction::None;
  throw std::invalid_argument("unknown reduction '" + name + "' (expected mean, sum or none)");
}

// Binary elementwise ops broadcast like torch. Tensor ids are numbers too, so
// the scalar form of each op has its own name: add(a, b) and addScalar(a, 2).
#define BINARY(NAME, FN)                                                                                  \
  DefTensorOp(env, exports, NAME, [](const Args& a) { return FN(ArgTensor(a, 0), ArgTensor(a, 1)); }); \
  DefTensorOp(env, exports, NAME "Scalar", [](const Args& a) { return FN(ArgTensor(a, 0), ArgScalar(a, 1)); })
#define UNARY(NAME, FN) DefTensorOp(env, exports, NAME, [](const Args& a) { return FN(ArgTensor(a, 0)); })

void RegisterTensorOps(Napi::Env env, Napi::Object exports) {
  // ---- creation: (shape, dtype?, device?) ----
  DefTensorOp(env, exports, "zeros", [](const Args& a) { return at::zeros(ArgIntList(a, 0), ArgOptions(a, 1)); });
  DefTensorOp(env, exports, "ones", [](const Args& a) { return at::ones(ArgIntList(a, 0), ArgOptions(a, 1)); });
  DefTensorOp(env, exports, "full",
              [](const Args& a) { return at::full(ArgIntList(a, 0), ArgScalar(a, 1), ArgOptions(a, 2)); });
  DefTensorOp(env, exports, "arange", [](const Args& a) {
    return at::arange(ArgScalar(a, 0), ArgScalar(a, 1), ArgScalar(a, 2), ArgOptions(a, 3));
  });
  DefTensorOp(env, exports, "randn", [](const Args& a) { return at::randn(ArgIntList(a, 0), ArgOptions(a, 1)); });
  DefTensorOp(env, exports, "rand", [](const Args& a) { return at::rand(ArgIntList(a, 0), ArgOptions(a, 1)); });
  DefTensorOp(env, exports, "randint", [](const Args& a) {
    at::TensorOptions options = ArgOptions(a, 3);
    if (ArgIsMissing(a, 3)) options = options.dtype(at::kLong);
    return at::randint(ArgInt(a, 0), ArgInt(a, 1), ArgIntList(a, 2), options);
  });

  // fromBuffer(bytes: ArrayBufferView, shape, dtype): copies the bytes.
  DefTensorOp(env, exports, "fromBuffer", [](const Args& a) {
    if (!a[0].IsTypedArray()) throw Napi::TypeError::New(a.Env(), "argument 0: expected a typed array");
    Napi::TypedArray view = a[0].As<Napi::TypedArray>();
    at::Tensor out = at::empty(ArgIntList(a, 1), at::TensorOptions().dtype(ParseDType(ArgString(a, 2))));
    size_t nbytes = out.numel() * out.element_size();
    if (view.ByteLength() != nbytes) {
      throw std::invalid_argument("fromBuffer: " + std::to_string(view.ByteLength()) + " bytes given but shape " +
                                  c10::str(out.sizes()) + " of " + DTypeName(out.scalar_type()) + " needs " +
                                  std::to_string(nbytes));
    }
    const uint8_t* src = static_cast<const uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
    if (nbytes > 0) std::memcpy(out.data_ptr(), src, nbytes);
    return out;
  });

  // toBuffer(t): a copy of the (contiguous, cpu) data as an ArrayBuffer.
  DefValueOp(env, exports, "toBuffer", [](const Args& a) -> Napi::Value {
    const at::Tensor& source = ArgTensor(a, 0);
    CountHostRead(source);
    at::Tensor t = source.detach().to(at::kCPU).contiguous();
    size_t nbytes = t.numel() * t.element_size();
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(a.Env(), nbytes);
    if (nbytes > 0) std::memcpy(buffer.Data(), t.data_ptr(), nbytes);
    return buffer;
  });

  DefValueOp(env, exports, "item", [](const Args& a) -> Napi::Value {
    const at::Tensor& t = ArgTensor(a, 0);
    if (t.numel() != 1) {
      throw std::invalid_argument("item: tensor has " + std::to_string(t.numel()) + " elements, expected 1");
    }
    CountHostRead(t);
    return Napi::Number::New(a.Env(), t.item().toDouble());
  });

  // ---- elementwise ----
  BINARY("add", at::add);
  BINARY("sub", at::sub);
  BINARY("mul", at::mul);
  BINARY("div", at::div);
  BINARY("pow", at::pow);
  BINARY("eq", at::eq);
  BINARY("ne", at::ne);
  BINARY("lt", at::lt);
  BINARY("le", at::le);
  BINARY("gt", at::gt);
  BINARY("ge", at::ge);
  DefTensorOp(env, exports, "maximum", [](const Args& a) { return at::maximum(ArgTensor(a, 0), ArgTensor(a, 1)); });
  DefTensorOp(env, exports, "minimum", [](const Args& a) { return at::minimum(ArgTensor(a, 0), ArgTensor(a, 1)); });
  DefTensorOp(env, exports, "logicalAnd",
              [](const Args& a) { return at::logical_and(ArgTensor(a, 0), ArgTensor(a, 1)); });
  DefTensorOp(env, exports, "logicalOr",
              [](const Args& a) { return at::logical_or(ArgTensor(a, 0), ArgTensor(a, 1)); });
  UNARY("neg", at::neg);
  UNARY("exp", at::exp);
  UNARY("log", at::log);
  UNARY("sqrt", at::sqrt);
  UNARY("rsqrt", at::rsqrt);
  UNARY("tanh", at::tanh);
  UNARY("sigmoid", at::sigmoid);
  UNARY("relu", at::relu);
  UNARY("abs", at::abs);
  UNARY("sin", at::sin);
  UNARY("cos", at::cos);
  UNARY("logicalNot", at::logical_not);
  DefTensorOp(env, exports, "clamp", [](const Args& a) {
    c10::optional<at::Scalar> lo, hi;
    if (!ArgIsMissing(a, 1)) lo = ArgScalar(a, 1);
    if (!ArgIsMissing(a, 2)) hi = ArgScalar(a, 2);
    return at::clamp(ArgTensor(a, 0), lo, hi);
  });
  // gelu(x, approximate: "none" | "tanh")
  DefTensorOp(env, exports, "gelu", [](const Args& a) { return at::gelu(ArgTensor(a, 0), ArgString(a, 1)); });
  DefTensorOp(env, exports, "where",
              [](const Args& a) { return at::where(ArgTensor(a, 0), ArgTensor(a, 1), ArgTensor(a, 2)); });
  // maskedFill(x, mask, value: number)
  DefTensorOp(env, exports, "maskedFill",
              [](const Args& a) { return at::masked_fill(ArgTensor(a, 0), ArgTensor(a, 1), ArgScalar(a, 2)); });
  DefTensorOp(env, exports, "tril", [](const Args& a) { return at::tril(ArgTensor(a, 0), ArgIntOr(a, 1, 0)); });
  DefTensorOp(env, exports, "triu", [](const Args& a) { return at::triu(ArgTensor(a, 0), ArgIntOr(a, 1, 0)); });

  // ---- neural network ops ----
  DefTensorOp(env, exports, "matmul", [](const Args& a) { return at::matmul(ArgTensor(a, 0), ArgTensor(a, 1)); });
  // linear(x, weight[out, in], bias?) = x @ weight.T + bias
  DefTensorOp(env, exports, "linear",
              [](const Args& a) { return at::linear(ArgTensor(a, 0), ArgTensor(a, 1), ArgOptTensor(a, 2)); });
  // embedding(weight[V, d], ids, paddingIdx = -1)
  DefTensorOp(env, exports, "embedding", [](const Args& a) {
    return at::embedding(ArgTensor(a, 0), ArgTensor(a, 1), ArgIntOr(a, 2, -1), false, false);
  });
  // layerNorm(x, normalizedShape, weight?, bias?, eps)
  DefTensorOp(env, exports, "layerNorm", [](const Args& a) {
    return at::layer_norm(ArgTensor(a, 0), ArgIntList(a, 1), ArgOptTensor(a, 2), ArgOptTensor(a, 3), ArgDouble(a, 4));
  });
  DefTensorOp(env, exports, "softmax", [](const Args& a) { return at::softmax(ArgTensor(a, 0), ArgInt(a, 1)); });
  // maskedSoftmax(x, blocked, dim): softmax with `blocked` (bool, broadcast to
  // x) positions excluded, fused (masked_softmax.cc); a fully blocked row
  // gives zeros.
  DefTensorOp(env, exports, "maskedSoftmax", [](const Args& a) {
    const at::Tensor& x = ArgTensor(a, 0);
    int64_t dim = at::maybe_wrap_dim(ArgInt(a, 2), x.dim());
    if (dim == x.dim() - 1) return MaskedSoftmaxLastDim(x, ArgTensor(a, 1));
    return at::_masked_softmax(x, ArgTensor(a, 1).expand_as(x), dim, 2);
  });
  // causalAttention(q, k, v, scale, window, dropout, useSdpa): fused causal
  // (window > 0: also local) attention, fp32 CPU (causal_attention.cc).
  DefTensorOp(env, exports, "causalAttention", [](const Args& a) {
    return FusedCausalAttention(ArgTensor(a, 0), ArgTensor(a, 1), ArgTensor(a, 2), ArgDouble(a, 3), ArgInt(a, 4),
                                ArgDouble(a, 5), ArgBool(a, 6));
  });
  // linearCrossEntropy(h, w, b?, targets, ignoreIndex, reduction): the output
  // layer and its cross entropy by chunks of rows (linear_cross_entropy.cc).
  DefTensorOp(env, exports, "linearCrossEntropy", [](const Args& a) {
    return LinearCrossEntropyLoss(ArgTensor(a, 0), ArgTensor(a, 1), ArgOptTensor(a, 2), ArgTensor(a, 3), ArgInt(a, 4),
                                  ArgString(a, 5));
  });
  DefTensorOp(env, exports, "logSoftmax",
              [](const Args& a) { return at::log_softmax(ArgTensor(a, 0), ArgInt(a, 1)); });
  // dropout(x, p, train): identity when train is false.
  DefTensorOp(env, exports, "dropout",
              [](const Args& a) { return at::dropout(ArgTensor(a, 0), ArgDouble(a, 1), ArgBool(a, 2)); });
  // crossEntropy(logits[N, C], target[N], ignoreIndex, reduction, labelSmoothing)
  DefTensorOp(env, exports, "crossEntropy", [](const Args& a) {
    return at::cross_entropy_loss(ArgTensor(a, 0), ArgTensor(a, 1), c10::nullopt,
                                  ParseReduction(ArgString(a, 3)), ArgIntOr(a, 2, -100),
                                  ArgIsMissing(a, 4) ? 0.0 : ArgDouble(a, 4));
  });

  // ---- reductions ----
  DefTensorOp(env, exports, "sum", [](const Args& a) {
    if (ArgIsMissing(a, 1)) return at::sum(ArgTensor(a, 0));
    return at::sum(ArgTensor(a, 0), ArgIntList(a, 1), ArgBoolOr(a, 2, false));
  });
  DefTensorOp(env, exports, "mean", [](const Args& a) {
    if (ArgIsMissing(a, 1)) return at::mean(ArgTensor(a, 0));
    return at::mean(ArgTensor(a, 0), ArgIntList(a, 1), ArgBoolOr(a, 2, false));
  });
  DefTensorOp(env, exports, "logsumexp", [](const Args& a) {
    const at::Tensor& x = ArgTensor(a, 0);
    return at::logsumexp(x, ArgDimsOrAll(a, 1, x.dim()), ArgBoolOr(a, 2, false));
  });
  DefTensorOp(env, exports, "norm", [](const Args& a) {
    const at::Tensor& x = ArgTensor(a, 0);
    return at::norm(x, ArgScalar(a, 1), ArgDimsOrAll(a, 2, x.dim()), ArgBoolOr(a, 3, false));
  });
  DefTensorOp(env, exports, "maxAll", [](const Args& a) { return at::max(ArgTensor(a, 0)); });
  DefTensorOp(env, exports, "minAll", [](const Args& a) { return at::min(ArgTensor(a, 0)); });
  // maxDim / minDim / topk return [values, indices].
  DefListOp(env, exports, "maxDim", [](const Args& a) {
    auto r = at::max(ArgTensor(a, 0), ArgInt(a, 1), ArgBoolOr(a, 2, false));
    return std::vector<at::Tensor>{std::get<0>(r), std::get<1>(r)};
  });
  DefListOp(env, exports, "minDim", [](const Args& a) {
    auto r = at::min(ArgTensor(a, 0), ArgInt(a, 1), ArgBoolOr(a, 2, false));
    return std::vector<at::Tensor>{std::get<0>(r), std::get<1>(r)};
  });
  DefListOp(env, exports, "topk", [](const Args& a) {
    auto r = at::topk(ArgTensor(a, 0), ArgInt(a, 1), ArgIntOr(a, 2, -1), ArgBoolOr(a, 3, true), true);
    return std::vector<at::Tensor>{std::get<0>(r), std::get<1>(r)};
  });
  DefTensorOp(env, exports, "argmax", [](const Args& a) {
    c10::optional<int64_t> dim;
    if (!ArgIsMissing(a, 1)) dim = ArgInt(a, 1);
    return at::argmax(ArgTensor(a, 0), dim, ArgBoolOr(a, 2, false));
  });
  DefTensorOp(env, exports, "cumsum", [](const Args& a) { return at::cumsum(ArgTensor(a, 0), ArgInt(a, 1)); });

  // ---- shapes and indexing ----
  DefTensorOp(env, exports, "reshape", [](const Args& a) { return at::reshape(ArgTensor(a, 0), ArgIntList(a, 1)); });
  DefTensorOp(env, exports, "view", [](const Args& a) { return ArgTensor(a, 0).view(ArgIntList(a, 1)); });
  DefTensorOp(env, exports, "permute", [](const Args& a) { return ArgTensor(a, 0).permute(ArgIntList(a, 1)); });
  DefTensorOp(env, exports, "transpose",
              [](const Args& a) { return at::transpose(ArgTensor(a, 0), ArgInt(a, 1), ArgInt(a, 2)); });
  // asStrided(x, size, stride, storageOffset): a view of x's storage (torch.as_strided).
  DefTensorOp(env, exports, "asStrided", [](const Args& a) {
    return at::as_strided(ArgTensor(a, 0), ArgIntList(a, 1), ArgIntList(a, 2), ArgIntOr(a, 3, 0));
  });
  DefTensorOp(env, exports, "contiguous", [](const Args& a) { return ArgTensor(a, 0).contiguous(); });
  DefTensorOp(env, exports, "unsqueeze", [](const Args& a) { return at::unsqueeze(ArgTensor(a, 0), ArgInt(a, 1)); });
  DefTensorOp(env, exports, "squeeze", [](const Args& a) {
    return ArgIsMissing(a, 1) ? at::squeeze(ArgTensor(a, 0)) : at::squeeze(ArgTensor(a, 0), ArgInt(a, 1));
  });
  DefTensorOp(env, exports, "expand", [](const Args& a) { return ArgTensor(a, 0).expand(ArgIntList(a, 1)); });
  DefTensorOp(env, exports, "flatten",
              [](const Args& a) { return at::flatten(ArgTensor(a, 0), ArgIntOr(a, 1, 0), ArgIntOr(a, 2, -1)); });
  DefTensorOp(env, exports, "narrow", [](const Args& a) {
    return at::narrow(ArgTensor(a, 0), ArgInt(a, 1), ArgInt(a, 2), ArgInt(a, 3));
  });
  // slice(x, dim, start?, end?, step = 1), Python slicing semantics.
  DefTensorOp(env, exports, "slice", [](const Args& a) {
    c10::optional<int64_t> start, end;
    if (!ArgIsMissing(a, 2)) start = ArgInt(a, 2);
    if (!ArgIsMissing(a, 3)) end = ArgInt(a, 3);
    return at::slice(ArgTensor(a, 0), ArgInt(a, 1), start, end, ArgIntOr(a, 4, 1));
  });
  DefTensorOp(env, exports, "select",
              [](const Args& a) { return at::select(ArgTensor(a, 0), ArgInt(a, 1), ArgInt(a, 2)); });
  DefTensorOp(env, exports, "indexSelect",
              [](const Args& a) { return at::index_select(ArgTensor(a, 0), ArgInt(a, 1), ArgTensor(a, 2)); });
  DefTensorOp(env, exports, "gather",
              [](const Args& a) { return at::gather(ArgTensor(a, 0), ArgInt(a, 1), ArgTensor(a, 2)); });
  DefTensorOp(env, exports, "cat", [](const Args& a) { return at::cat(ArgTensorList(a, 0), ArgIntOr(a, 1, 0)); });
  DefTensorOp(env, exports, "stack", [](const Args& a) { return at::stack(ArgTensorList(a, 0), ArgIntOr(a, 1, 0)); });
  // split(x, sizeOrSizes, dim)
  DefListOp(env, exports, "split", [](const Args& a) {
    if (ArgIsNumber(a, 1)) return at::split(ArgTensor(a, 0), ArgInt(a, 1), ArgIntOr(a, 2, 0));
    return at::split_with_sizes(ArgTensor(a, 0), ArgIntList(a, 1), ArgIntOr(a, 2, 0));
  });
  DefListOp(env, exports, "chunk",
            [](const Args& a) { return at::chunk(ArgTensor(a, 0), ArgInt(a, 1), ArgIntOr(a, 2, 0)); });

  // ---- dtype, device, copies ----
  // to(x, dtype?, device?)
  DefTensorOp(env, exports, "to", [](const Args& a) {
    const at::Tensor& x = ArgTensor(a, 0);
    at::ScalarType dtype = ArgIsMissing(a, 1) ? x.scalar_type() : ParseDType(ArgString(a, 1));
    at::Device device = ArgIsMissing(a, 2) ? x.device() : at::Device(ArgString(a, 2));
    if (device.is_cpu() && !x.device().is_cpu()) CountHostRead(x);
    return x.to(device, dtype);
  });
  DefTensorOp(env, exports, "clone", [](const Args& a) { return ArgTensor(a, 0).clone(); });
  DefTensorOp(env, exports, "detach", [](const Args& a) { return ArgTensor(a, 0).detach(); });
  // copy_(dst, src): in place, outside autograd (used to load and restore
  // parameters).
  DefValueOp(env, exports, "copy_", [](const Args& a) -> Napi::Value {
    c10::AutoGradMode no_grad(false);
    const at::Tensor& dst = ArgTensor(a, 0);
    const at::Tensor& src = ArgTensor(a, 1);
    if (dst.sizes() != src.sizes()) {
      throw std::invalid_argument("copy_: destination shape " + c10::str(dst.sizes()) + " differs from source shape " +
                                  c10::str(src.sizes()));
    }
    const_cast<at::Tensor&>(dst).copy_(src);
    return a.Env().Undefined();
  });
  DefValueOp(env, exports, "fill_", [](const Args& a) -> Napi::Value {
    c10::AutoGradMode no_grad(false);
    const_cast<at::Tensor&>(ArgTensor(a, 0)).fill_(ArgScalar(a, 1));
    return a.Env().Undefined();
  });

  // ---- autograd ----
  DefValueOp(env, exports, "requiresGrad",
             [](const Args& a) -> Napi::Value { return Napi::Boolean::New(a.Env(), ArgTensor(a, 0).requires_grad()); });
  DefValueOp(env, exports, "setRequiresGrad", [](const Args& a) -> Napi::Value {
    const_cast<at::Tensor&>(ArgTensor(a, 0)).requires_grad_(ArgBool(a, 1));
    return a.Env().Undefined();
  });
  DefValueOp(env, exports, "isLeaf",
             [](const Args& a) -> Napi::Value { return Napi::Boolean::New(a.Env(), ArgTensor(a, 0).is_leaf()); });
  // backward(x, gradient?, retainGraph = false)
  DefValueOp(env, exports, "backward", [](const Args& a) -> Napi::Value {
    AutocastSuspended forward_only;  // see autocast.h
    ArgTensor(a, 0).backward(ArgOptTensor(a, 1), ArgBoolOr(a, 2, false), false);
    return a.Env().Undefined();
  });
  // grad(x): the accumulated gradient, or null.
  DefValueOp(env, exports, "grad",
             [](const Args& a) -> Napi::Value { return WrapTensor(a.Env(), ArgTensor(a, 0).grad()); });
  // setGrad(x, gradient | null): null drops the gradient (zero_grad(set_to_none)).
  DefValueOp(env, exports, "setGrad", [](const Args& a) -> Napi::Value {
    at::Tensor& grad = const_cast<at::Tensor&>(ArgTensor(a, 0)).mutable_grad();
    grad = ArgIsMissing(a, 1) ? at::Tensor() : ArgTensor(a, 1);
    return a.Env().Undefined();
  });
  DefValueOp(env, exports, "isGradEnabled",
             [](const Args& a) -> Napi::Value { return Napi::Boolean::New(a.Env(), c10::GradMode::is_enabled()); });
  DefValueOp(env, exports, "setGradEnabled", [](const Args& a) -> Napi::Value {
    c10::GradMode::set_enabled(ArgBool(a, 0));
    return a.Env().Undefined();
  });
}

}  // namespace tttnn
