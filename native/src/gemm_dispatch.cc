// The `sgemm_` every fp32 GEMM in the process goes through; see gemm_dispatch.h.
#include "gemm_dispatch.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "cpu_features.h"

namespace tttnn {

namespace {

// Fortran BLAS: column-major, every argument by pointer.
using FortranSgemm = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                              const int*, const float*, const int*, const float*, float*, const int*);
// oneDNN's C API (dnnl.h): row-major, returns a dnnl_status_t (0 = success).
using DnnlSgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
using DnnlGetIsa = int (*)();
struct DnnlVersion {
  int major, minor, patch;
  const char* hash;
  unsigned cpu_runtime, gpu_runtime;
};
using DnnlGetVersion = const DnnlVersion* (*)();
using CoreNameFn = char* (*)();

const char* DnnlIsaName(int isa) {
  switch (isa) {
    case 0x1: return "sse41";
    case 0x3: return "avx";
    case 0x7: return "avx2";
    case 0x407: return "avx2_vnni";
    case 0xf: return "avx512_mic";
    case 0x1f: return "avx512_mic_4ops";
    case 0x27: return "avx512_core";
    case 0x67: return "avx512_core_vnni";
    case 0xe7: return "avx512_core_bf16";
    case 0x3e7: return "avx512_core_amx";
    default: return "unknown";
  }
}

struct Libraries {
  FortranSgemm openblas_sgemm = nullptr;
  DnnlSgemm dnnl_sgemm = nullptr;
  std::string openblas_core;
  std::string onednn_version;
  std::string onednn_isa;
};

const Libraries& Libs() {
  static const Libraries libs = [] {
    Libraries l;
    l.openblas_sgemm = reinterpret_cast<FortranSgemm>(BlasSymbol("sgemm_"));
    if (auto core = reinterpret_cast<CoreNameFn>(BlasSymbol("openblas_get_corename"))) {
      l.openblas_core = core();
    }
    // Loaded by libtorch already when it is Debian's; dlopen without NOLOAD
    // also finds a libdnnl.so.2 that only sits on the library path.
    if (void* dnnl = dlopen("libdnnl.so.2", RTLD_LAZY | RTLD_LOCAL)) {
      l.dnnl_sgemm = reinterpret_cast<DnnlSgemm>(dlsym(dnnl, "dnnl_sgemm"));
      if (auto isa = reinterpret_cast<DnnlGetIsa>(dlsym(dnnl, "dnnl_get_effective_cpu_isa"))) l.onednn_isa = DnnlIsaName(isa());
      if (auto version = reinterpret_cast<DnnlGetVersion>(dlsym(dnnl, "dnnl_version"))) {
        const DnnlVersion* v = version();
        l.onednn_version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
      }
    }
    return l;
  }();
  return libs;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// Does OpenBLAS's kernel set use the CPU's widest vector ISA?
bool OpenBlasKernelsFitCpu(const std::string& core, const CpuFeatures& cpu) {
  const std::string c = Lower(core);
  const bool avx512_kernels = c == "skylakex" || c == "cooperlake" || c == "sapphirerapids";
  const bool avx2_kernels = avx512_kernels || c == "haswell" || c == "zen";
  if (cpu.avx512) return avx512_kernels;
  if (cpu.avx2) return avx2_kernels;
  return true;
}

struct Choice {
  GemmBackend backend;
  std::string reason;
};

Choice AutoChoice() {
  const Libraries& libs = Libs();
  const CpuFeatures& cpu = DetectCpuFeatures();
  if (libs.dnnl_sgemm == nullptr) return {GemmBackend::kOpenBlas, "oneDNN not found"};
  if (libs.openblas_sgemm == nullptr) return {GemmBackend::kOneDnn, "no BLAS sgemm_ found"};
  if (libs.openblas_core.empty()) return {GemmBackend::kOneDnn, "libblas.so.3 is not OpenBLAS"};
  if (!OpenBlasKernelsFitCpu(libs.openblas_core, cpu)) {
    return {GemmBackend::kOneDnn, "OpenBLAS runs its " + libs.openblas_core + " kernels on a CPU with " + cpu.widest_isa()};
  }
  return {GemmBackend::kOpenBlas, "OpenBLAS's " + libs.openblas_core + " kernels use this CPU's " + cpu.widest_isa()};
}

std::mutex choice_mutex;
std::atomic<GemmBackend> current{GemmBackend::kOpenBlas};
std::string current_reason;
std::atomic<uint64_t> openblas_calls{0}, onednn_calls{0};

Choice Resolve(const std::string& requested) {
  const std::string name = Lower(requested);
  if (name.empty() || name == "auto") return AutoChoice();
  if (name == "openblas") {
    if (Libs().openblas_sgemm == nullptr) throw std::runtime_error("GEMM backend openblas: no BLAS sgemm_ is loaded");
    return {GemmBackend::kOpenBlas, "requested"};
  }
  if (name == "onednn") {
    if (Libs().dnnl_sgemm == nullptr) throw std::runtime_error("GEMM backend onednn: libdnnl.so.2 with dnnl_sgemm was not found");
    return {GemmBackend::kOneDnn, "requested"};
  }
  throw std::invalid_argument("unknown GEMM backend '" + requested + "' (expected auto, openblas or onednn)");
}

void Apply(const Choice& choice) {
  std::lock_guard<std::mutex> lock(choice_mutex);
  current = choice.backend;
  current_reason = choice.reason;
}

// The choice at load: TTTNN_GEMM, else auto. A bad TTTNN_GEMM must not stop
// the addon from loading; it falls back to auto and says why in the reason.
void EnsureChosen() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("TTTNN_GEMM");
    try {
      Apply(Resolve(env != nullptr ? env : "auto"));
    } catch (const std::exception& e) {
      Choice fallback = AutoChoice();
      fallback.reason = std::string("TTTNN_GEMM ignored (") + e.what() + "); " + fallback.reason;
      Apply(fallback);
    }
  });
}

// Column-major C = op(A) op(B) is row-major C^T = op(B)^T op(A)^T: swap the
// operands and the dimensions, keep the transpose flags.
bool OneDnnSgemm(char transa, char transb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                 int ldb, float beta, float* c, int ldc) {
  return Libs().dnnl_sgemm(transb, transa, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc) == 0;
}

}  // namespace

void* BlasSymbol(const char* name) {
  for (const char* library : {"libblas.so.3", "libopenblas.so.0"}) {
    void* handle = dlopen(library, RTLD_LAZY | RTLD_NOLOAD);
    if (handle == nullptr) continue;
    void* symbol = dlsym(handle, name);
    dlclose(handle);  // NOLOAD only raised the count; the library stays loaded
    if (symbol != nullptr) return symbol;
  }
  return nullptr;
}

const char* GemmBackendName(GemmBackend backend) { return backend == GemmBackend::kOneDnn ? "onednn" : "openblas"; }

void SetGemmBackend(const std::string& name) {
  EnsureChosen();
  Apply(Resolve(name));
}

GemmBackendInfo CurrentGemmBackend() {
  EnsureChosen();
  const Libraries& libs = Libs();
  GemmBackendInfo info;
  {
    std::lock_guard<std::mutex> lock(choice_mutex);
    info.backend = current;
    info.reason = current_reason;
  }
  info.openblas_core = libs.openblas_core;
  info.onednn_available = libs.dnnl_sgemm != nullptr;
  info.onednn_version = libs.onednn_version;
  info.onednn_isa = libs.onednn_isa;
  info.openblas_calls = openblas_calls;
  info.onednn_calls = onednn_calls;
  return info;
}

void RawSgemm(GemmBackend backend, int m, int n, int k, const float* a, const float* b, float* c) {
  const Libraries& libs = Libs();
  if (backend == GemmBackend::kOneDnn) {
    if (libs.dnnl_sgemm == nullptr || libs.dnnl_sgemm('N', 'N', m, n, k, 1.f, a, k, b, n, 0.f, c, n) != 0) {
      throw std::runtime_error("dnnl_sgemm is unavailable or failed");
    }
    return;
  }
  if (libs.openblas_sgemm == nullptr) throw std::runtime_error("no BLAS sgemm_ is loaded");
  const float one = 1.f, zero = 0.f;
  libs.openblas_sgemm("N", "N", &n, &m, &k, &one, b, &n, a, &k, &zero, c, &n);  // row-major via the transpose identity
}

}  // namespace tttnn

// The interposer. Default visibility so that the dynamic linker binds
// libtorch's, FAISS's and LAPACK's `sgemm_` calls here. Trailing Fortran
// string-length arguments, when a Fortran caller passes them, are ignored.
extern "C" __attribute__((visibility("default"))) void sgemm_(const char* transa, const char* transb, const int* m,
                                                              const int* n, const int* k, const float* alpha,
                                                              const float* a, const int* lda, const float* b,
                                                              const int* ldb, const float* beta, float* c,
                                                              const int* ldc) {
  using namespace tttnn;
  EnsureChosen();
  const Libraries& libs = Libs();
  // Empty products, and anything oneDNN rejects, go to the reference
  // semantics of the BLAS itself.
  if (current.load(std::memory_order_relaxed) == GemmBackend::kOneDnn && *m > 0 && *n > 0 && *k > 0 &&
      OneDnnSgemm(*transa, *transb, *m, *n, *k, *alpha, a, *lda, b, *ldb, *beta, c, *ldc)) {
    onednn_calls.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (libs.openblas_sgemm == nullptr) std::abort();  // unreachable: libtorch itself links a BLAS
  openblas_calls.fetch_add(1, std::memory_order_relaxed);
  libs.openblas_sgemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

namespace tttnn {

bool ThreadLocalSgemm(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                      const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const Libraries& libs = Libs();
  if (libs.dnnl_sgemm == nullptr) return false;
  if (libs.dnnl_sgemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) != 0) {
    throw std::runtime_error("dnnl_sgemm failed");
  }
  return true;
}

void BlasSgemmRowMajor(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                       int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const Libraries& libs = Libs();
  if (libs.openblas_sgemm == nullptr) throw std::runtime_error("no BLAS sgemm_ is loaded");
  const int M = int(m), N = int(n), K = int(k), LDA = int(lda), LDB = int(ldb), LDC = int(ldc);
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T.
  libs.openblas_sgemm(&transb, &transa, &N, &M, &K, &alpha, b, &LDB, a, &LDA, &beta, c, &LDC);
}

}  // namespace tttnn
