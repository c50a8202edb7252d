#include "tensor_registry.h"

#include <unordered_map>

namespace tttnn {

namespace {

// All N-API calls run on the JS thread, so the registry needs no lock.
std::unordered_map<int64_t, at::Tensor> g_tensors;
int64_t g_next_id = 1;  // 0 is never an id; ids stay below 2^53 (exact in JS)
HostReadCounts g_host_reads = {0, 0};

std::string ArgName(size_t i) { return "argument " + std::to_string(i); }

const char* kDisposedMessage =
    "tensor was disposed: it was freed by dispose() or when its scope ended; keep() it or return it from "
    "the scope to use it later";

}  // namespace

Napi::Value WrapTensor(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  int64_t id = g_next_id++;
  g_tensors.emplace(id, std::move(tensor));
  return Napi::Number::New(env, double(id));
}

Napi::Array WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  Napi::Array out = Napi::Array::New(env, tensors.size());
  for (size_t k = 0; k < tensors.size(); k++) out.Set(uint32_t(k), WrapTensor(env, tensors[k]));
  return out;
}

const at::Tensor& TensorFromValue(const Napi::Value& value, const std::string& what) {
  if (!value.IsNumber()) throw Napi::TypeError::New(value.Env(), what + ": expected a tensor id");
  auto it = g_tensors.find(int64_t(value.As<Napi::Number>().DoubleValue()));
  if (it == g_tensors.end()) throw Napi::Error::New(value.Env(), kDisposedMessage);
  return it->second;
}

size_t LiveTensorCount() { return g_tensors.size(); }

void CountHostRead(const at::Tensor& source) {
  g_host_reads.reads++;
  if (!source.device().is_cpu()) g_host_reads.from_device++;
}

HostReadCounts HostReads() { return g_host_reads; }

void RegisterTensorRegistry(Napi::Env env, Napi::Object exports) {
  auto def = [&](const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
    exports.Set(name, Napi::Function::New(env, fn, name));
  };
  // dispose(id): frees the tensor (its storage once no view shares it). Idempotent.
  def("dispose", [](const Napi::CallbackInfo& info) -> Napi::Value {
    if (info[0].IsNumber()) g_tensors.erase(int64_t(info[0].As<Napi::Number>().DoubleValue()));
    return info.Env().Undefined();
  });
  def("isDisposed", [](const Napi::CallbackInfo& info) -> Napi::Value {
    bool live = info[0].IsNumber() && g_tensors.count(int64_t(info[0].As<Napi::Number>().DoubleValue())) > 0;
    return Napi::Boolean::New(info.Env(), !live);
  });
  def("shape", [](const Napi::CallbackInfo& info) -> Napi::Value {
    const at::Tensor& t = ArgTensor(info, 0);
    Napi::Array out = Napi::Array::New(info.Env(), t.dim());
    for (int64_t d = 0; d < t.dim(); d++) out.Set(uint32_t(d), Napi::Number::New(info.Env(), double(t.size(d))));
    return out;
  });
  def("dtype", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::String::New(info.Env(), DTypeName(ArgTensor(info, 0).scalar_type()));
  });
  def("device", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::String::New(info.Env(), ArgTensor(info, 0).device().str());
  });
  def("numel", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Number::New(info.Env(), double(ArgTensor(info, 0).numel()));
  });
  // hostReads() -> { reads, fromDevice } since load (CountHostRead).
  def("hostReads", [](const Napi::CallbackInfo& info) -> Napi::Value {
    HostReadCounts counts = HostReads();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("reads", double(counts.reads));
    out.Set("fromDevice", double(counts.from_device));
    return out;
  });
  def("isContiguous", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Boolean::New(info.Env(), ArgTensor(info, 0).is_contiguous());
  });
}

// ---- argument helpers ------------------------------------------------------

const at::Tensor& ArgTensor(const Napi::CallbackInfo& info, size_t i) { return TensorFromValue(info[i], ArgName(i)); }

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
    out.push_back(TensorFromValue(array.Get(k), ArgName(i) + "[" + std::to_string(k) + "]"));
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

}  // namespace tttnn
