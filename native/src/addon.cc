// Entry point of the native addon: registers the tensor registry, the ops,
// the optimizers, the runtime settings, FAISS indexes, bf16 autocast and the op
// profiler on the module's exports.
#include <napi.h>

#include "tensor_registry.h"

namespace tttnn {
void RegisterTensorOps(Napi::Env env, Napi::Object exports);
void RegisterOptimizers(Napi::Env env, Napi::Object exports);
void RegisterRuntime(Napi::Env env, Napi::Object exports);
void RegisterFaiss(Napi::Env env, Napi::Object exports);
void RegisterAutocast(Napi::Env env, Napi::Object exports);
void RegisterOpProfiler(Napi::Env env, Napi::Object exports);
}  // namespace tttnn

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tttnn::RegisterTensorRegistry(env, exports);
  tttnn::RegisterTensorOps(env, exports);
  tttnn::RegisterOptimizers(env, exports);
  tttnn::RegisterRuntime(env, exports);
  tttnn::RegisterFaiss(env, exports);
  tttnn::RegisterAutocast(env, exports);
  tttnn::RegisterOpProfiler(env, exports);
  return exports;
}

NODE_API_MODULE(tttnn_native, Init)
