// Which library computes fp32 matrix products (GEMM): OpenBLAS or oneDNN.
//
// libtorch (and FAISS and LAPACK) call the Fortran BLAS symbol `sgemm_`.
// This addon defines `sgemm_` itself; the dynamic linker binds those calls
// to it (the addon comes before libblas.so.3 in its own lookup scope), and
// it hands each call to the chosen backend:
//
//   openblas  the libblas.so.3 libtorch was linked against (Debian: OpenBLAS)
//   onednn    dnnl_sgemm from libdnnl (already loaded by libtorch), whose
//             kernels are chosen by CPUID features (AVX2, AVX-512, ...)
//
// Why: OpenBLAS 0.3.21 picks its kernels by CPU model number. On a model it
// does not know (Intel family 6 model 207) it runs generic SSE3 kernels at
// a fifth of the CPU's speed. We may not set OPENBLAS_CORETYPE (some
// machines set it to work around miscomputing builds), so instead `auto`
// sends GEMMs to oneDNN whenever OpenBLAS's kernel set does not use the
// CPU's widest vector ISA, and keeps OpenBLAS where it does (it is as fast
// there, and it is what PyTorch users get). TTTNN_GEMM=openblas|onednn|auto
// overrides at load; setGemmBackend at run time.
#pragma once

#include <cstdint>
#include <string>

namespace tttnn {

enum class GemmBackend { kOpenBlas, kOneDnn };

struct GemmBackendInfo {
  GemmBackend backend;
  std::string reason;             // why auto chose it, or "requested"
  std::string openblas_core;      // OpenBLAS's kernel set ("Zen", "Prescott"), "" if not OpenBLAS
  bool onednn_available = false;  // libdnnl with dnnl_sgemm could be loaded
  std::string onednn_version;     // "2.6.3"
  std::string onednn_isa;         // the ISA oneDNN's kernels use ("avx2", "avx512_core_amx")
  uint64_t openblas_calls = 0;    // sgemm_ calls served by each backend since load
  uint64_t onednn_calls = 0;
};

const char* GemmBackendName(GemmBackend backend);
// "auto" re-runs the automatic choice. Throws for an unknown name or an unavailable backend.
void SetGemmBackend(const std::string& name);
GemmBackendInfo CurrentGemmBackend();

// A symbol of the BLAS libtorch loaded (libblas.so.3, or libopenblas.so.0),
// looked up in that library itself, so that "sgemm_" finds OpenBLAS's and
// not ours; nullptr when absent (OpenBLAS's extras with another BLAS).
void* BlasSymbol(const char* name);

// One row-major fp32 C[m,n] = A[m,k] @ B[k,n] through `backend`, with no
// framework around it: the ceiling the benchmarks compare to.
void RawSgemm(GemmBackend backend, int m, int n, int k, const float* a, const float* b, float* c);

// Row-major C[m,n] = alpha op(A) op(B) + beta C, op 'N' or 'T', with leading
// dimensions: oneDNN's dnnl_sgemm, which inside at::parallel_for runs on the
// calling thread alone, so that a kernel can run many small GEMMs side by side
// (causal_attention.cc). false when oneDNN is not loaded.
bool ThreadLocalSgemm(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                      const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// The same through libblas.so.3 (OpenBLAS, with its own threads): for callers
// outside a parallel region, where ThreadLocalSgemm is unavailable.
void BlasSgemmRowMajor(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                       int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace tttnn
