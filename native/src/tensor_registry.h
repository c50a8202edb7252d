// The tensor registry: JS refers to tensors by integer id, the registry owns
// the at::Tensor behind each id. Plus the argument helpers every binding file
// uses to read N-API arguments.
//
// Why ids and not wrapped JS objects: a wrapped object's native part is freed
// by a GC finalizer that Node runs later from the event loop, so a long
// synchronous loop (a training run, one document's evaluation) accumulates
// them without bound. Ids are plain numbers: the TypeScript engine frees each
// one deterministically (scopes / dispose) and the GC has nothing to do.
// Ids are never reused, so a stale id is reported as disposed, never
// silently aliased to a newer tensor.
#pragma once

#include <napi.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tttnn {

// Stores `tensor` and returns its id as a JS number (null for an undefined tensor).
Napi::Value WrapTensor(Napi::Env env, at::Tensor tensor);
Napi::Array WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors);
// The tensor behind a JS value holding an id; `what` names it in errors.
const at::Tensor& TensorFromValue(const Napi::Value& value, const std::string& what);
size_t LiveTensorCount();

// Every read of tensor data into JS (item, toBuffer, a total norm) and every
// copy of a tensor to the CPU goes through here: `reads` counts them all,
// `from_device` those whose source is not on the CPU (a device-to-host copy,
// which also waits for the device). Tests assert a training step's counts.
void CountHostRead(const at::Tensor& source);
struct HostReadCounts {
  uint64_t reads;
  uint64_t from_device;
};
HostReadCounts HostReads();

// Registers dispose, isDisposed, shape, dtype, device, numel, isContiguous.
void RegisterTensorRegistry(Napi::Env env, Napi::Object exports);

// Runs `body`, turning C++ and libtorch exceptions into JS exceptions that
// carry torch's message (without the C++ backtrace) so the process survives.
template <typename Body>
Napi::Value Guard(const Napi::CallbackInfo& info, Body body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

// ---- argument helpers (index i of the call) ------------------------------
const at::Tensor& ArgTensor(const Napi::CallbackInfo& info, size_t i);
// Undefined tensor when the argument is null/undefined.
at::Tensor ArgOptTensor(const Napi::CallbackInfo& info, size_t i);
std::vector<at::Tensor> ArgTensorList(const Napi::CallbackInfo& info, size_t i);
double ArgDouble(const Napi::CallbackInfo& info, size_t i);
int64_t ArgInt(const Napi::CallbackInfo& info, size_t i);
int64_t ArgIntOr(const Napi::CallbackInfo& info, size_t i, int64_t fallback);
bool ArgBool(const Napi::CallbackInfo& info, size_t i);
bool ArgBoolOr(const Napi::CallbackInfo& info, size_t i, bool fallback);
std::string ArgString(const Napi::CallbackInfo& info, size_t i);
std::vector<int64_t> ArgIntList(const Napi::CallbackInfo& info, size_t i);
bool ArgIsNumber(const Napi::CallbackInfo& info, size_t i);
bool ArgIsMissing(const Napi::CallbackInfo& info, size_t i);

// dtype names shared with TypeScript: float32 float64 float16 bfloat16 int64
// int32 bool.
at::ScalarType ParseDType(const std::string& name);
std::string DTypeName(at::ScalarType type);
// dtype name at `dtype_index`, device name at `dtype_index + 1` (both optional).
at::TensorOptions ArgOptions(const Napi::CallbackInfo& info, size_t dtype_index);

}  // namespace tttnn
