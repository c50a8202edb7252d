// bf16 autocast (autocast.cc) around the backward pass.
#pragma once

#include <ATen/Context.h>

#include <vector>

#include "torch_compat.h"

namespace tttnn {

// The device types autocast is switched for: the CPU, and CUDA where this
// libtorch has it (a CPU-only build never touches CUDA's autocast state).
inline std::vector<c10::DeviceType> AutocastDevices() {
  if (at::hasCUDA()) return {c10::DeviceType::CPU, c10::DeviceType::CUDA};
  return {c10::DeviceType::CPU};
}

// Autocast off for this scope. Backward passes run under it: autocast is
// meant for forward passes only (PyTorch's users call backward() outside
// `with torch.autocast`), and since ours stays on for a whole run, the
// matmuls of every backward pass would otherwise be cast to bf16 too — also
// those of layers that ran their forward in fp32 on purpose.
class AutocastSuspended {
 public:
  AutocastSuspended() : devices_(AutocastDevices()) {
    for (c10::DeviceType device : devices_) {
      was_enabled_.push_back(compat::AutocastEnabled(device));
      compat::SetAutocastEnabled(device, false);
    }
  }
  ~AutocastSuspended() {
    for (size_t k = 0; k < devices_.size(); k++) compat::SetAutocastEnabled(devices_[k], was_enabled_[k]);
  }
  AutocastSuspended(const AutocastSuspended&) = delete;
  AutocastSuspended& operator=(const AutocastSuspended&) = delete;

 private:
  std::vector<c10::DeviceType> devices_;
  std::vector<bool> was_enabled_;
};

}  // namespace tttnn
