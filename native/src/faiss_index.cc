// FAISS indexes for JS: created by factory string or read from FAISS's own
// file format, referred to by integer ids (like tensors, so nothing depends
// on the garbage collector), trained, filled, searched off the JS thread,
// and written back. One small interface over every index FAISS builds.
#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IVFlib.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <napi.h>

#include <cxxabi.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <vector>

namespace tttnn {

namespace {

// Indexes are shared with in-flight searches (which hold a reference), so
// freeing one while it is searched is safe.
std::unordered_map<int64_t, std::shared_ptr<faiss::Index>> g_indexes;
int64_t g_next_index = 1;

std::shared_ptr<faiss::Index> GetIndex(const Napi::Value& value) {
  if (!value.IsNumber()) throw Napi::TypeError::New(value.Env(), "expected an index id");
  auto it = g_indexes.find(int64_t(value.As<Napi::Number>().DoubleValue()));
  if (it == g_indexes.end()) throw Napi::Error::New(value.Env(), "index was freed");
  return it->second;
}

Napi::Value Register(Napi::Env env, faiss::Index* index) {
  int64_t id = g_next_index++;
  g_indexes.emplace(id, std::shared_ptr<faiss::Index>(index));
  return Napi::Number::New(env, double(id));
}

// FAISS messages start "Error in <function> at <file>:<line>: "; keep what follows.
std::string FaissMessage(const faiss::FaissException& e) {
  std::string message = e.msg;
  size_t at = message.find(" at ");
  size_t colon = at == std::string::npos ? std::string::npos : message.find(": ", at);
  return "FAISS: " + (colon == std::string::npos ? message : message.substr(colon + 2));
}

template <typename Body>
Napi::Value Guarded(const Napi::CallbackInfo& info, Body body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const faiss::FaissException& e) {
    throw Napi::Error::New(info.Env(), FaissMessage(e));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

// A Float32Array of n x d floats; returns n.
int64_t Vectors(const Napi::Value& value, int64_t d, const float** data) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(value.Env(), "expected a Float32Array of vectors");
  }
  Napi::Float32Array array = value.As<Napi::Float32Array>();
  if (array.ElementLength() % size_t(d) != 0) {
    throw Napi::RangeError::New(value.Env(), "vector data of " + std::to_string(array.ElementLength()) +
                                                 " floats is not a multiple of the dimension " + std::to_string(d));
  }
  *data = array.Data();
  return int64_t(array.ElementLength() / size_t(d));
}

faiss::MetricType ParseMetric(const std::string& name) {
  if (name == "l2") return faiss::METRIC_L2;
  if (name == "ip") return faiss::METRIC_INNER_PRODUCT;
  throw std::invalid_argument("unknown metric '" + name + "' (expected l2 or ip)");
}

// Searches run on the libuv thread pool; results come back as typed arrays.
class SearchWorker : public Napi::AsyncWorker {
 public:
  SearchWorker(Napi::Env env, std::shared_ptr<faiss::Index> index, std::vector<float> queries, int64_t n, int64_t k,
               bool reconstruct)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        index_(std::move(index)),
        queries_(std::move(queries)),
        n_(n),
        k_(k),
        reconstruct_(reconstruct) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      distances_.resize(size_t(n_ * k_));
      labels_.resize(size_t(n_ * k_));
      if (reconstruct_) {
        vectors_.resize(size_t(n_ * k_ * index_->d));
        index_->search_and_reconstruct(n_, queries_.data(), k_, distances_.data(), labels_.data(), vectors_.data());
      } else {
        index_->search(n_, queries_.data(), k_, distances_.data(), labels_.data());
      }
    } catch (const faiss::FaissException& e) {
      SetError(FaissMessage(e));
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object out = Napi::Object::New(env);
    Napi::Float32Array distances = Napi::Float32Array::New(env, distances_.size());
    std::memcpy(distances.Data(), distances_.data(), distances_.size() * sizeof(float));
    Napi::BigInt64Array labels = Napi::BigInt64Array::New(env, labels_.size());
    std::memcpy(labels.Data(), labels_.data(), labels_.size() * sizeof(int64_t));
    out.Set("distances", distances);
    out.Set("ids", labels);
    if (reconstruct_) {
      Napi::Float32Array vectors = Napi::Float32Array::New(env, vectors_.size());
      std::memcpy(vectors.Data(), vectors_.data(), vectors_.size() * sizeof(float));
      out.Set("vectors", vectors);
    }
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<faiss::Index> index_;
  std::vector<float> queries_;
  int64_t n_, k_;
  bool reconstruct_;
  std::vector<float> distances_;
  std::vector<faiss::Index::idx_t> labels_;
  std::vector<float> vectors_;
};

// indexFactory(d, description, metric = "l2") -> id
Napi::Value IndexFactory(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    int d = info[0].As<Napi::Number>().Int32Value();
    if (d < 1) throw std::invalid_argument("dimension must be positive");
    std::string description = info[1].As<Napi::String>().Utf8Value();
    faiss::MetricType metric = info.Length() > 2 && info[2].IsString() ? ParseMetric(info[2].As<Napi::String>().Utf8Value()) : faiss::METRIC_L2;
    return Register(info.Env(), faiss::index_factory(d, description.c_str(), metric));
  });
}

// indexRead(path, mmap = false) -> id. With mmap, IVF inverted lists stay on disk.
Napi::Value IndexRead(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    std::string path = info[0].As<Napi::String>().Utf8Value();
    bool mmap = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    faiss::Index* index = nullptr;
    if (mmap) {
      try {
        index = faiss::read_index(path.c_str(), faiss::IO_FLAG_MMAP);
      } catch (const faiss::FaissException&) {
        index = nullptr;  // this index type cannot be mapped: read it into memory
      }
    }
    if (index == nullptr) index = faiss::read_index(path.c_str(), faiss::IO_FLAG_READ_ONLY);
    return Register(info.Env(), index);
  });
}

Napi::Value IndexWrite(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    auto index = GetIndex(info[0]);
    faiss::write_index(index.get(), info[1].As<Napi::String>().Utf8Value().c_str());
    return info.Env().Undefined();
  });
}

Napi::Value IndexInfo(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    auto index = GetIndex(info[0]);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("d", double(index->d));
    out.Set("ntotal", double(index->ntotal));
    out.Set("isTrained", index->is_trained);
    out.Set("metric", index->metric_type == faiss::METRIC_L2 ? "l2" : index->metric_type == faiss::METRIC_INNER_PRODUCT ? "ip" : "other");
    // The C++ class name without its namespace: "IndexFlatL2", "IndexIVFPQ", ...
    int status = 0;
    char* demangled = abi::__cxa_demangle(typeid(*index).name(), nullptr, nullptr, &status);
    std::string type = status == 0 && demangled != nullptr ? demangled : typeid(*index).name();
    std::free(demangled);
    out.Set("type", type.rfind("::") == std::string::npos ? type : type.substr(type.rfind("::") + 2));
    // The search parameters in use (what `index info` and `index recall` report): an IVF's
    // lists and nprobe, an HNSW's efSearch, found through pre-transforms (PCA, OPQ).
    if (const faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(index.get())) {
      out.Set("nlist", double(ivf->nlist));
      out.Set("nprobe", double(ivf->nprobe));
    }
    const faiss::Index* inner = index.get();
    while (auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(inner)) inner = pre->index;
    if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(inner)) out.Set("efSearch", double(hnsw->hnsw.efSearch));
    return out;
  });
}

Napi::Value IndexTrain(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    auto index = GetIndex(info[0]);
    const float* data;
    int64_t n = Vectors(info[1], index->d, &data);
    index->train(n, data);
    return info.Env().Undefined();
  });
}

Napi::Value IndexAdd(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    auto index = GetIndex(info[0]);
    const float* data;
    int64_t n = Vectors(info[1], index->d, &data);
    if (!index->is_trained) throw std::runtime_error("the index must be trained before vectors are added");
    index->add(n, data);
    return info.Env().Undefined();
  });
}

// indexSearch(id, queries, k, reconstruct = false) -> Promise<{distances, ids, vectors?}>
Napi::Value IndexSearch(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    auto index = GetIndex(info[0]);
    const float* data;
    int64_t n = Vectors(info[1], index->d, &data);
    int64_t k = info[2].As<Napi::Number>().Int64Value();
    if (k < 1) throw std::invalid_argument("k must be at least 1");
    bool reconstruct = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
    std::vector<float> queries(data, data + n * index->d);  // copied: the JS array may change meanwhile
    auto* worker = new SearchWorker(info.Env(), index, std::move(queries), n, k, reconstruct);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

// indexReconstructN(id, start, n) -> Float32Array [n x d]
Napi::Value IndexReconstructN(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    auto index = GetIndex(info[0]);
    int64_t start = info[1].As<Napi::Number>().Int64Value();
    int64_t n = info[2].As<Napi::Number>().Int64Value();
    if (start < 0 || n < 0 || start + n > index->ntotal) {
      throw std::out_of_range("reconstruct range [" + std::to_string(start) + ", " + std::to_string(start + n) +
                              ") outside the index's " + std::to_string(index->ntotal) + " vectors");
    }
    Napi::Float32Array out = Napi::Float32Array::New(info.Env(), size_t(n * index->d));
    if (n > 0) index->reconstruct_n(start, n, out.Data());
    return out;
  });
}

// indexSetParameter(id, name, value): nprobe, efSearch, ... (faiss::ParameterSpace).
Napi::Value IndexSetParameter(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    auto index = GetIndex(info[0]);
    faiss::ParameterSpace().set_index_parameter(index.get(), info[1].As<Napi::String>().Utf8Value(),
                                                info[2].As<Napi::Number>().DoubleValue());
    return info.Env().Undefined();
  });
}

Napi::Value IndexFree(const Napi::CallbackInfo& info) {
  if (info[0].IsNumber()) g_indexes.erase(int64_t(info[0].As<Napi::Number>().DoubleValue()));
  return info.Env().Undefined();
}

}  // namespace

void RegisterFaiss(Napi::Env env, Napi::Object exports) {
  exports.Set("indexFactory", Napi::Function::New(env, IndexFactory, "indexFactory"));
  exports.Set("indexRead", Napi::Function::New(env, IndexRead, "indexRead"));
  exports.Set("indexWrite", Napi::Function::New(env, IndexWrite, "indexWrite"));
  exports.Set("indexInfo", Napi::Function::New(env, IndexInfo, "indexInfo"));
  exports.Set("indexTrain", Napi::Function::New(env, IndexTrain, "indexTrain"));
  exports.Set("indexAdd", Napi::Function::New(env, IndexAdd, "indexAdd"));
  exports.Set("indexSearch", Napi::Function::New(env, IndexSearch, "indexSearch"));
  exports.Set("indexReconstructN", Napi::Function::New(env, IndexReconstructN, "indexReconstructN"));
  exports.Set("indexSetParameter", Napi::Function::New(env, IndexSetParameter, "indexSetParameter"));
  exports.Set("indexFree", Napi::Function::New(env, IndexFree, "indexFree"));
}

}  // namespace tttnn
