// Every difference between the libtorch versions tttnn builds against, in one
// place: Debian's libtorch 1.13 (the default) and PyTorch 2.x wheels (tested
// with 2.13 CPU and 2.14.1 CUDA; see README "Building against PyTorch 2.x").
// The rest of native/ calls only what this header defines, so a new libtorch
// release that renames something is fixed here.
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/Allocator.h>
#include <torch/version.h>

#include <cstddef>

#define TTTNN_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// ---- the CPU allocator interface ------------------------------------------
// libtorch 2.3 made Allocator::allocate non-const and added the pure virtual
// copy_data (used by Allocator::clone); before, allocate was const and there
// was no copy_data. A custom allocator spells its allocate
// `c10::DataPtr allocate(size_t n) TTTNN_ALLOCATE_CONST override` and puts
// TTTNN_ALLOCATOR_COPY_DATA among its members.
#if TTTNN_TORCH_AT_LEAST(2, 3)
#define TTTNN_ALLOCATE_CONST
#define TTTNN_ALLOCATOR_COPY_DATA                                                  \
  void copy_data(void* dest, const void* src, std::size_t count) const override { \
    default_copy_data(dest, src, count);                                           \
  }
#else
#define TTTNN_ALLOCATE_CONST const
#define TTTNN_ALLOCATOR_COPY_DATA
#endif

namespace tttnn::compat {

// ---- autocast entry points ------------------------------------------------
// libtorch 2.4 replaced the per-device functions (set_cpu_enabled,
// set_autocast_cpu_dtype; set_enabled and set_autocast_gpu_dtype for CUDA)
// with ones taking the device type; the old ones are deprecated there.
inline bool AutocastEnabled(c10::DeviceType device) {
#if TTTNN_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

inline void SetAutocastEnabled(c10::DeviceType device, bool enabled) {
#if TTTNN_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, enabled);
#else
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

inline at::ScalarType AutocastDtype(c10::DeviceType device) {
#if TTTNN_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                         : at::autocast::get_autocast_cpu_dtype();
#endif
}

inline void SetAutocastDtype(c10::DeviceType device, at::ScalarType dtype) {
#if TTTNN_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace tttnn::compat
