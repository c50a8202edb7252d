// What the CPU can run, read once from CPUID (and XGETBV for what the OS
// lets us use): the facts the GEMM backend choice and the precision choice
// rest on, and what `tttnn info` prints. Features, never model numbers: a
// model number a library does not know is how OpenBLAS 0.3.21 ends up on
// its generic kernels on newer Xeons.
#pragma once

#include <string>

namespace tttnn {

struct CpuFeatures {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", ...
  std::string brand;   // "Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz"
  int family = 0;      // display family and model, as /proc/cpuinfo shows them
  int model = 0;
  bool avx2 = false;      // with FMA
  bool avx512 = false;    // AVX-512 F + BW + VL + DQ, with OS support for the ZMM state
  bool avx512_bf16 = false;
  bool amx_bf16 = false;  // AMX tiles with bf16 (the OS must still grant the tile state; oneDNN asks)
  // bf16 matmuls in hardware: AMX or AVX512_BF16. Without them bf16 is
  // emulated and slower than fp32, so `--precision auto` stays fp32.
  bool native_bf16() const { return avx512 && (avx512_bf16 || amx_bf16); }
  // The widest vector ISA, as a name: "avx512", "avx2" or "sse".
  std::string widest_isa() const;
};

const CpuFeatures& DetectCpuFeatures();

}  // namespace tttnn
