// bf16 autocast (autocast.cc) around the backward pass.
#pragma once

#include <ATen/autocast_mode.h>

namespace tttnn {

// Autocast off for this scope. Backward passes run under it: autocast is
// meant for forward passes only (PyTorch's users call backward() outside
// `with torch.autocast`), and since ours stays on for a whole run, the
// matmuls of every backward pass would otherwise be cast to bf16 too — also
// those of layers that ran their forward in fp32 on purpose.
class AutocastSuspended {
 public:
  AutocastSuspended() : was_enabled_(at::autocast::is_cpu_enabled()) { at::autocast::set_cpu_enabled(false); }
  ~AutocastSuspended() { at::autocast::set_cpu_enabled(was_enabled_); }
  AutocastSuspended(const AutocastSuspended&) = delete;
  AutocastSuspended& operator=(const AutocastSuspended&) = delete;

 private:
  bool was_enabled_;
};

}  // namespace tttnn
