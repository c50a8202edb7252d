// bf16 mixed precision: libtorch's own CPU autocast, the code behind
// torch.autocast('cpu', dtype=torch.bfloat16). While it is on, matmul-like
// ops (linear, mm, bmm, addmm, ...) cast their inputs to bf16 and return
// bf16; the losses autocast lists as fp32 (cross_entropy, ...) cast back;
// parameters, gradients and optimizer state stay fp32 ("master weights").
//
// The state is per thread; every op of ours runs on the JS main thread, so
// setting it here covers forward passes. It is set for the CPU and, in a CUDA
// build, for CUDA too, so that a model on either device gets the same casts. Backward runs with it off
// (autocast.h): the casts it needs are recorded in the graph.
//
// Python's context manager caches the bf16 copy of each weight until the
// region exits. We keep autocast on across training steps, where the
// optimizer changes the fp32 weights in place, so the cache would serve
// stale copies: it is off (each weight is used once per forward anyway).
#include "autocast.h"

#include "tensor_registry.h"

namespace tttnn {

namespace {

// setAutocast(dtype | null): "bfloat16" turns bf16 autocast on, null off.
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (ArgIsMissing(info, 0)) {
      for (c10::DeviceType device : AutocastDevices()) compat::SetAutocastEnabled(device, false);
      at::autocast::clear_cache();
      return info.Env().Undefined();
    }
    at::ScalarType dtype = ParseDType(ArgString(info, 0));
    if (dtype != at::kBFloat16) throw std::invalid_argument("setAutocast: CPU autocast supports bfloat16 only");
    at::autocast::set_autocast_cache_enabled(false);
    for (c10::DeviceType device : AutocastDevices()) {
      compat::SetAutocastDtype(device, dtype);
      compat::SetAutocastEnabled(device, true);
    }
    return info.Env().Undefined();
  });
}

// getAutocast() -> "bfloat16" while on, null while off.
Napi::Value GetAutocast(const Napi::CallbackInfo& info) {
  if (!compat::AutocastEnabled(c10::DeviceType::CPU)) return info.Env().Null();
  return Napi::String::New(info.Env(), DTypeName(compat::AutocastDtype(c10::DeviceType::CPU)));
}

}  // namespace

void RegisterAutocast(Napi::Env env, Napi::Object exports) {
  exports.Set("setAutocast", Napi::Function::New(env, SetAutocast, "setAutocast"));
  exports.Set("getAutocast", Napi::Function::New(env, GetAutocast, "getAutocast"));
}

}  // namespace tttnn
