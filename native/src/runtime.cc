// Process-wide engine settings: threads, seeds, devices, the allocator, the
// CPU's features and the GEMM backend, and a raw sgemm timer that benchmarks
// use as the ceiling for matmul speed.
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <torch/version.h>

#include <chrono>
#include <vector>

#include "caching_allocator.h"
#include "cpu_features.h"
#include "gemm_dispatch.h"
#include "tensor_registry.h"

namespace tttnn {

namespace {

// OpenBLAS is reached through libtorch's BLAS dependency, not linked by us,
// so its extras are looked up at run time (BlasSymbol, gemm_dispatch.h).
using SetThreadsFn = void (*)(int);
using GetConfigFn = char* (*)();

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    int64_t n = ArgInt(info, 0);
    if (n < 1) throw std::invalid_argument("setNumThreads: need at least 1 thread");
    at::set_num_threads(int(n));
    // OpenBLAS keeps its own thread pool; keep it in step with torch's.
    if (auto fn = reinterpret_cast<SetThreadsFn>(BlasSymbol("openblas_set_num_threads"))) fn(int(n));
    return info.Env().Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    double seed = ArgDouble(info, 0);
    if (seed < 0 || seed != double(uint64_t(seed))) throw std::invalid_argument("manualSeed: expected a non-negative integer");
    at::manual_seed(uint64_t(seed));
    return info.Env().Undefined();
  });
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::hasCUDA() ? double(at::getNumGPUs()) : 0.0);
}

Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(LiveTensorCount()));
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("torchVersion", TORCH_VERSION);
  // Where libtorch was loaded from: the file holding one of its functions.
  Dl_info where{};
  bool found = dladdr(reinterpret_cast<void*>(&at::get_num_threads), &where) != 0 && where.dli_fname != nullptr;
  out.Set("torchLibrary", found ? std::string(where.dli_fname) : std::string("unknown"));
  // A CUDA build loads libtorch_cuda.so (linked with --no-as-needed); whether
  // a GPU is there is cudaDeviceCount's answer.
  void* cuda = dlopen("libtorch_cuda.so", RTLD_LAZY | RTLD_NOLOAD);
  out.Set("cudaBuild", cuda != nullptr);
  if (cuda != nullptr) dlclose(cuda);  // drops only the reference NOLOAD took
  out.Set("parallel", at::get_parallel_info());
  auto get_config = reinterpret_cast<GetConfigFn>(BlasSymbol("openblas_get_config"));
  out.Set("blas", get_config != nullptr ? std::string(get_config()) : std::string("unknown (not OpenBLAS)"));
  return out;
}

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  const CpuFeatures& cpu = DetectCpuFeatures();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("vendor", cpu.vendor);
  out.Set("brand", cpu.brand);
  out.Set("family", cpu.family);
  out.Set("model", cpu.model);
  out.Set("avx2", cpu.avx2);
  out.Set("avx512", cpu.avx512);
  out.Set("avx512Bf16", cpu.avx512_bf16);
  out.Set("amxBf16", cpu.amx_bf16);
  out.Set("nativeBf16", cpu.native_bf16());
  return out;
}

Napi::Value GemmInfo(const Napi::CallbackInfo& info) {
  GemmBackendInfo gemm = CurrentGemmBackend();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("backend", GemmBackendName(gemm.backend));
  out.Set("reason", gemm.reason);
  out.Set("openblasCore", gemm.openblas_core);
  out.Set("onednnAvailable", gemm.onednn_available);
  out.Set("onednnVersion", gemm.onednn_version);
  out.Set("onednnIsa", gemm.onednn_isa);
  out.Set("openblasCalls", double(gemm.openblas_calls));
  out.Set("onednnCalls", double(gemm.onednn_calls));
  return out;
}

Napi::Value SetGemm(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    SetGemmBackend(ArgString(info, 0));
    return info.Env().Undefined();
  });
}

Napi::Value GetAllocatorStats(const Napi::CallbackInfo& info) {
  CachingAllocatorStats stats = AllocatorStats();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("cachedBytes", double(stats.cached_bytes));
  out.Set("limitBytes", double(stats.limit_bytes));
  out.Set("hits", double(stats.hits));
  out.Set("misses", double(stats.misses));
  return out;
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  EmptyAllocatorCache();
  return info.Env().Undefined();
}

Napi::Value SetCacheLimit(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    double bytes = ArgDouble(info, 0);
    if (bytes < 0) throw std::invalid_argument("setAllocatorCacheLimit: bytes must be >= 0");
    SetAllocatorCacheLimit(size_t(bytes));
    return info.Env().Undefined();
  });
}

// sgemmSeconds(m, n, k, iterations, backend) -> mean seconds of one
// C = A @ B through "openblas" or "onednn", with no framework in between.
Napi::Value SgemmSeconds(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    int m = int(ArgInt(info, 0)), n = int(ArgInt(info, 1)), k = int(ArgInt(info, 2));
    int iterations = int(ArgInt(info, 3));
    const std::string name = ArgString(info, 4);
    if (name != "openblas" && name != "onednn") throw std::invalid_argument("sgemmSeconds: backend must be openblas or onednn");
    GemmBackend backend = name == "onednn" ? GemmBackend::kOneDnn : GemmBackend::kOpenBlas;
    std::vector<float> a(size_t(m) * k, 0.5f), b(size_t(k) * n, 0.25f), c(size_t(m) * n, 0.f);
    RawSgemm(backend, m, n, k, a.data(), b.data(), c.data());  // warm-up
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; i++) RawSgemm(backend, m, n, k, a.data(), b.data(), c.data());
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    return Napi::Number::New(info.Env(), elapsed.count() / iterations);
  });
}

}  // namespace

void RegisterRuntime(Napi::Env env, Napi::Object exports) {
  InstallCachingAllocator();
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed, "manualSeed"));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, CudaDeviceCount, "cudaDeviceCount"));
  exports.Set("liveTensors", Napi::Function::New(env, LiveTensors, "liveTensors"));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  exports.Set("gemmInfo", Napi::Function::New(env, GemmInfo, "gemmInfo"));
  exports.Set("setGemmBackend", Napi::Function::New(env, SetGemm, "setGemmBackend"));
  exports.Set("allocatorStats", Napi::Function::New(env, GetAllocatorStats, "allocatorStats"));
  exports.Set("emptyCache", Napi::Function::New(env, EmptyCache, "emptyCache"));
  exports.Set("setAllocatorCacheLimit", Napi::Function::New(env, SetCacheLimit, "setAllocatorCacheLimit"));
  exports.Set("sgemmSeconds", Napi::Function::New(env, SgemmSeconds, "sgemmSeconds"));
}

}  // namespace tttnn
