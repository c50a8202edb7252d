// TensorHandle: the JS object that owns one at::Tensor, plus the argument
// helpers every binding file uses to read N-API arguments.
//
// Why handles are disposed explicitly: a JS wrapper is a few bytes to V8's
// garbage collector while the tensor behind it can be gigabytes, so V8 has no
// reason to collect it soon. The TypeScript engine frees every intermediate
// tensor deterministically (scopes / dispose) and the GC finalizer is only the
// last safety net.
#pragma once

#include <napi.h>

#include <ATen/ATen.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace tttnn {

class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // Wraps a tensor in a new JS handle. An undefined tensor becomes `null`.
  static Napi::Value Wrap(Napi::Env env, at::Tensor tensor);
  static bool IsHandle(const Napi::Value& value);
  static TensorHandle* FromValue(const Napi::Value& value, const char* what);

  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;

  // The tensor; throws a JS Error if the handle was disposed.
  const at::Tensor& tensor(Napi::Env env) const;
  void Release();

  // Number of handles that still own a tensor (used by leak tests).
  static std::atomic<int64_t> live_count;

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value DType(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Numel(const Napi::CallbackInfo& info);
  Napi::Value IsContiguous(const Napi::CallbackInfo& info);

  at::Tensor tensor_;
  bool owns_ = false;
};

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
at::TensorOptions ArgOptions(const Napi::CallbackInfo& info, size_t dtype_index);

Napi::Array WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors);

}  // namespace tttnn
