// CPUID / XGETBV reading for cpu_features.h.
#include "cpu_features.h"

#include <cpuid.h>

#include <cstdint>
#include <cstring>

namespace tttnn {

namespace {

struct Regs {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Regs Cpuid(unsigned leaf, unsigned subleaf = 0) {
  Regs r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

bool Bit(unsigned value, int bit) { return ((value >> bit) & 1u) != 0; }

uint64_t Xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

CpuFeatures Detect() {
  CpuFeatures f;
  Regs r0 = Cpuid(0);
  char vendor[13] = {0};
  std::memcpy(vendor, &r0.ebx, 4);
  std::memcpy(vendor + 4, &r0.edx, 4);
  std::memcpy(vendor + 8, &r0.ecx, 4);
  f.vendor = vendor;
  unsigned max_leaf = r0.eax;

  Regs r1 = Cpuid(1);
  int base_family = int((r1.eax >> 8) & 0xf), base_model = int((r1.eax >> 4) & 0xf);
  f.family = base_family == 0xf ? base_family + int((r1.eax >> 20) & 0xff) : base_family;
  f.model = (base_family == 0x6 || base_family == 0xf) ? base_model + (int((r1.eax >> 16) & 0xf) << 4) : base_model;

  if (Cpuid(0x80000000).eax >= 0x80000004) {
    char brand[49] = {0};
    for (unsigned i = 0; i < 3; i++) {
      Regs b = Cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i, &b, 16);
    }
    f.brand = brand;
    size_t start = f.brand.find_first_not_of(' ');
    f.brand = start == std::string::npos ? "" : f.brand.substr(start);
  }

  // The OS must save the YMM (bits 1-2) / ZMM (bits 5-7) state, or the
  // instructions fault even though CPUID lists them.
  bool osxsave = Bit(r1.ecx, 27);
  uint64_t xcr0 = osxsave ? Xgetbv0() : 0;
  bool os_ymm = (xcr0 & 0x6) == 0x6;
  bool os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;
  if (max_leaf < 7) return f;
  Regs r7 = Cpuid(7, 0);
  Regs r7_1 = Cpuid(7, 1);
  f.avx2 = os_ymm && Bit(r7.ebx, 5) && Bit(r1.ecx, 12);
  f.avx512 = os_zmm && Bit(r7.ebx, 16) && Bit(r7.ebx, 17) && Bit(r7.ebx, 30) && Bit(r7.ebx, 31);
  f.avx512_bf16 = f.avx512 && Bit(r7_1.eax, 5);
  f.amx_bf16 = Bit(r7.edx, 22) && Bit(r7.edx, 24);
  return f;
}

}  // namespace

std::string CpuFeatures::widest_isa() const {
  if (avx512) return "avx512";
  if (avx2) return "avx2";
  return "sse";
}

const CpuFeatures& DetectCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

}  // namespace tttnn
