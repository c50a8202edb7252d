// A caching CPU allocator for libtorch.
//
// Why: a training step allocates the same large buffers (activations,
// gradients, logits) every step. glibc serves allocations above its mmap
// threshold with fresh mmap()s, so every step page-faults its whole working
// set back in; measured on a GPT-2-small step this cost as much as the math.
// Keeping freed blocks in size-class free lists and handing them back makes a
// steady-state step allocation-free. The cache is bounded; blocks beyond the
// bound go back to the system.
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "caching_allocator.h"
#include "torch_compat.h"

namespace tttnn {

namespace {

constexpr size_t kAlignment = 64;   // cache line; also what AVX-512 loads like
constexpr size_t kHeader = 64;      // block size lives in front of the data
constexpr size_t kMinCached = 4096; // small blocks: glibc's arenas are already fast

// Round up to a size class: multiples of 1/8 of the power of two below, so at
// most 12.5% of a block is wasted and similar sizes share a free list.
size_t SizeClass(size_t n) {
  if (n <= 512) return (n + 63) & ~size_t(63);
  size_t power = size_t(1) << (63 - __builtin_clzll(n));
  size_t step = power / 8;
  return (n + step - 1) / step * step;
}

class CachingCPUAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t nbytes) TTTNN_ALLOCATE_CONST override {
    size_t size = SizeClass(nbytes == 0 ? 1 : nbytes);
    void* base = nullptr;
    if (size >= kMinCached) {
      // Best fit: the smallest cached block of at least `size` bytes, if it
      // wastes at most a quarter. Variable shapes (documents of every length)
      // then reuse blocks instead of filling the cache with unusable ones.
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = free_.lower_bound(size); it != free_.end() && it->first <= size + size / 4; ++it) {
        if (it->second.empty()) continue;
        base = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= it->first;
        hits_++;
        break;
      }
    }
    if (base == nullptr) {
      base = std::aligned_alloc(kAlignment, size + kHeader);
      if (base == nullptr) {
        EmptyCache();  // give the cached blocks back and try once more
        base = std::aligned_alloc(kAlignment, size + kHeader);
      }
      if (base == nullptr) throw c10::Error({__func__, __FILE__, uint32_t(__LINE__)}, "out of memory allocating " + std::to_string(nbytes) + " bytes");
      *static_cast<size_t*>(base) = size;
      std::lock_guard<std::mutex> lock(mutex_);
      misses_++;
    }
    // The context is the data pointer itself (libtorch's raw_allocate
    // requires it); the deleter finds the block's header just before it.
    void* data = static_cast<char*>(base) + kHeader;
    return {data, data, &CachingCPUAllocator::Free, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &CachingCPUAllocator::Free; }

  TTTNN_ALLOCATOR_COPY_DATA

  static void Free(void* data) { Instance().Release(static_cast<char*>(data) - kHeader); }

  static CachingCPUAllocator& Instance() {
    static CachingCPUAllocator* instance = new CachingCPUAllocator();  // never destroyed: tensors may outlive statics
    return *instance;
  }

  void Release(void* base) const {
    size_t size = *static_cast<size_t*>(base);
    if (size >= kMinCached) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_bytes_ + size <= limit_bytes_) {
        free_[size].push_back(base);
        cached_bytes_ += size;
        return;
      }
    }
    std::free(base);
  }

  void EmptyCache() const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& entry : free_) {
      for (void* base : entry.second) std::free(base);
    }
    free_.clear();
    cached_bytes_ = 0;
  }

  void SetLimit(size_t bytes) const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_bytes_ = bytes;
    }
    if (cached_bytes_ > bytes) EmptyCache();
  }

  CachingAllocatorStats Stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {cached_bytes_, limit_bytes_, hits_, misses_};
  }

 private:
  mutable std::mutex mutex_;
  mutable std::map<size_t, std::vector<void*>> free_;
  mutable size_t cached_bytes_ = 0;
  // A third of physical memory, at most 8 GiB (setAllocatorCacheLimit changes it).
  mutable size_t limit_bytes_ = std::min(size_t(8) << 30, size_t(sysconf(_SC_PHYS_PAGES)) * size_t(sysconf(_SC_PAGESIZE)) / 3);
  mutable uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace

void InstallCachingAllocator() {
  // Priority 1 beats libtorch's default CPU allocator (priority 0).
  c10::SetCPUAllocator(&CachingCPUAllocator::Instance(), 1);
}

void EmptyAllocatorCache() { CachingCPUAllocator::Instance().EmptyCache(); }

void SetAllocatorCacheLimit(size_t bytes) { CachingCPUAllocator::Instance().SetLimit(bytes); }

CachingAllocatorStats AllocatorStats() { return CachingCPUAllocator::Instance().Stats(); }

}  // namespace tttnn
