#include "tensor_handle.h"

#include <sstream>

namespace tttnn {

std::atomic<int64_t> TensorHandle::live_count{0};

static Napi::FunctionReference* g_constructor = nullptr;

Napi::Function TensorHandle::DefineClass(Napi::Env env) {
  Napi::Function ctor = ObjectWrap<TensorHandle>::DefineClass(
      env, "TensorHandle",
      {
          InstanceMethod("dispose", &TensorHandle::Dispose),
          InstanceMethod("isDisposed", &TensorHandle::IsDisposed),
          InstanceMethod("shape", &TensorHandle::Shape),
          InstanceMethod("dtype", &TensorHandle::DType),
          InstanceMethod("device", &TensorHandle::Device),
          InstanceMethod("numel", &TensorHandle::Numel),
          InstanceMethod("isContiguous", &TensorHandle::IsContiguous),
      });
  g_constructor = new Napi::FunctionReference(Napi::Persistent(ctor));
  return ctor;
}

TensorHandle::TensorHandle(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<TensorHandle>(info) {}

TensorHandle::~TensorHandle() { Release(); }

void TensorHandle::Release() {
  if (owns_) {
    tensor_.reset();
    owns_ = false;
    live_count--;
  }
}

Napi::Value TensorHandle::Wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  Napi::Object object = g_constructor->New({});
  TensorHandle* handle = ObjectWrap<TensorHandle>::Unwrap(object);
  handle->tensor_ = std::move(tensor);
  handle->owns_ = true;
  live_count++;
  return object;
}

bool TensorHandle::IsHandle(const Napi::Value& value) {
  return value.IsObject() &&
         value.As<Napi::Object>().InstanceOf(g_constructor->Value());
}

TensorHandle* TensorHandle::FromValue(const Napi::Value& value, const char* what) {
  if (!IsHandle(value)) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected a tensor handle");
  }
  return ObjectWrap<TensorHandle>::Unwrap(value.As<Napi::Object>());
}

const at::Tensor& TensorHandle::tensor(Napi::Env env) const {
  if (!owns_) {
    throw Napi::Error::New(env,
                           "tensor was disposed: it was freed by dispose() or when its scope "
                           "ended; keep() it or return it from the scope to use it later");
  }
  return tensor_;
}

Napi::Value TensorHandle::Dispose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value TensorHandle::IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !owns_);
}

Napi::Value TensorHandle::Shape(const Napi::CallbackInfo& info) {
  const at::Tensor& t = tensor(info.Env());
  Napi::Array out = Napi::Array::New(info.Env(), t.dim());
  for (int64_t d = 0; d < t.dim(); d++) out.Set(uint32_t(d), Napi::Number::New(info.Env(), double(t.size(d))));
  return out;
}

Napi::Value TensorHandle::DType(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DTypeName(tensor(info.Env()).scalar_type()));
}

Napi::Value TensorHandle::Device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), tensor(info.Env()).device().str());
}

Napi::Value TensorHandle::Numel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(tensor(info.Env()).numel()));
}

Napi::Value TensorHandle::IsContiguous(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tensor(info.Env()).is_contiguous());
}

// ---- argument helpers ------------------------------------------------------

static std::string ArgName(size_t i) { return "argument " + std::to_string(i); }

const at::Tensor& ArgTensor(const Napi::CallbackInfo& info, size_t i) {
  return TensorHandle::FromValue(info[i], ArgName(i).c_str())->tensor(info.Env());
}

bool ArgIsMissing(const Napi::CallbackInfo& info, size_t i) {
  return i >= info.Length() || info[i].IsUndefined() || info[i].IsNull();
}

at::Tensor ArgOptTensor(const Napi::CallbackInfo& info, size_t i) {
  if (ArgIsMissing(info, i)) return at::Tensor();
  return ArgTensor(info, i);
}

std::vector<at::Tensor> ArgTensorList(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw Napi::TypeError::New(info.Env(), ArgName(i) + ": expected an array of tensors");
  Napi::Array array = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(array.Length());
  for (uint32_t k = 0; k < array.Length(); k++) {
    std::string what = ArgName(i) + "[" + std::to_string(k) + "]";
    out.push_back(TensorHandle::FromValue(array.Get(k), what.c_str())->tensor(info.Env()));
  }
  return out;
}

bool ArgIsNumber(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() && info[i].IsNumber(); }

double ArgDouble(const Napi::CallbackInfo& info, size_t i) {
  if (!ArgIsNumber(info, i)) throw Napi::TypeError::New(info.Env(), ArgName(i) + ": expected a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i) {
  double value = ArgDouble(info, i);
  if (value != double(int64_t(value))) {
    throw Napi::TypeError::New(info.Env(), ArgName(i) + ": expected an integer");
  }
  return int64_t(value);
}

int64_t ArgIntOr(const Napi::CallbackInfo& info, size_t i, int64_t fallback) {
  return ArgIsMissing(info, i) ? fallback : ArgInt(info, i);
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), ArgName(i) + ": expected a boolean");
  }
  return info[i].As<Napi::Boolean>().Value();
}

bool ArgBoolOr(const Napi::CallbackInfo& info, size_t i, bool fallback) {
  return ArgIsMissing(info, i) ? fallback : ArgBool(info, i);
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsString()) {
    throw Napi::TypeError::New(info.Env(), ArgName(i) + ": expected a string");
  }
  return info[i].As<Napi::String>().Utf8Value();
}

std::vector<int64_t> ArgIntList(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) {
    throw Napi::TypeError::New(info.Env(), ArgName(i) + ": expected an array of integers");
  }
  Napi::Array array = info[i].As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t k = 0; k < array.Length(); k++) {
    Napi::Value v = array.Get(k);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.5;
    if (d != double(int64_t(d))) {
      throw Napi::TypeError::New(info.Env(), ArgName(i) + "[" + std::to_string(k) + "]: expected an integer");
    }
    out[k] = int64_t(d);
  }
  return out;
}

at::ScalarType ParseDType(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "float64") return at::kDouble;
  if (name == "float16") return at::kHalf;
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "int64") return at::kLong;
  if (name == "int32") return at::kInt;
  if (name == "bool") return at::kBool;
  throw std::invalid_argument("unknown dtype '" + name +
                              "' (expected float32, float64, float16, bfloat16, int64, int32 or bool)");
}

std::string DTypeName(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kBool: return "bool";
    default: return std::string("unsupported:") + c10::toString(type);
  }
}

at::TensorOptions ArgOptions(const Napi::CallbackInfo& info, size_t dtype_index) {
  at::TensorOptions options;
  if (!ArgIsMissing(info, dtype_index)) options = options.dtype(ParseDType(ArgString(info, dtype_index)));
  if (!ArgIsMissing(info, dtype_index + 1)) options = options.device(at::Device(ArgString(info, dtype_index + 1)));
  return options;
}

Napi::Array WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  Napi::Array out = Napi::Array::New(env, tensors.size());
  for (size_t k = 0; k < tensors.size(); k++) out.Set(uint32_t(k), TensorHandle::Wrap(env, tensors[k]));
  return out;
}

}  // namespace tttnn
