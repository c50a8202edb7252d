// The caching CPU allocator (see caching_allocator.cc for why it exists).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tttnn {

struct CachingAllocatorStats {
  size_t cached_bytes;
  size_t limit_bytes;
  uint64_t hits;
  uint64_t misses;
};

// Makes libtorch's CPU tensors allocate through the cache.
void InstallCachingAllocator();
// Returns every cached block to the system.
void EmptyAllocatorCache();
// Bounds the bytes kept in the cache (freed blocks beyond it go back).
void SetAllocatorCacheLimit(size_t bytes);
CachingAllocatorStats AllocatorStats();

}  // namespace tttnn
