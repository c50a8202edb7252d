// An op-level profiler for benchmarks: while on, every ATen op (forward and
// backward, through libtorch's RecordFunction hooks) adds its wall time to a
// table by name, as self time (its own, without the ops it called) and total
// time. It answers "where does a training step go besides GEMMs?".
//
//   profilerStart(); ...work...; profilerStop() -> [{name, calls, selfUs, totalUs}]
#include <ATen/record_function.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "tensor_registry.h"

namespace tttnn {

namespace {

using Clock = std::chrono::steady_clock;

struct OpTotals {
  uint64_t calls = 0;
  double self_us = 0;
  double total_us = 0;
};

std::mutex table_mutex;
std::map<std::string, OpTotals> table;
at::CallbackHandle handle = at::INVALID_CALLBACK_HANDLE;

// One open op on this thread: when it started, and its children's time so far.
struct Frame : at::ObserverContext {
  Clock::time_point start = Clock::now();
  double children_us = 0;
  Frame* parent = nullptr;
};
thread_local Frame* open_frame = nullptr;

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction&) {
  auto frame = std::make_unique<Frame>();
  frame->parent = open_frame;
  open_frame = frame.get();
  return frame;
}

void OnEnd(const at::RecordFunction& fn, at::ObserverContext* context) {
  auto* frame = static_cast<Frame*>(context);
  double total = std::chrono::duration<double, std::micro>(Clock::now() - frame->start).count();
  open_frame = frame->parent;
  if (frame->parent != nullptr) frame->parent->children_us += total;
  std::lock_guard<std::mutex> lock(table_mutex);
  OpTotals& row = table[fn.name()];
  row.calls++;
  row.self_us += total - frame->children_us;
  row.total_us += total;
}

Napi::Value ProfilerStart(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (handle != at::INVALID_CALLBACK_HANDLE) throw std::runtime_error("profilerStart: the profiler is already on");
    {
      std::lock_guard<std::mutex> lock(table_mutex);
      table.clear();
    }
    handle = at::addGlobalCallback(at::RecordFunctionCallback(OnStart, OnEnd).needsInputs(false));
    return info.Env().Undefined();
  });
}

Napi::Value ProfilerStop(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (handle == at::INVALID_CALLBACK_HANDLE) throw std::runtime_error("profilerStop: the profiler is not on");
    at::removeCallback(handle);
    handle = at::INVALID_CALLBACK_HANDLE;
    std::lock_guard<std::mutex> lock(table_mutex);
    Napi::Array rows = Napi::Array::New(info.Env(), table.size());
    uint32_t i = 0;
    for (const auto& [name, totals] : table) {
      Napi::Object row = Napi::Object::New(info.Env());
      row.Set("name", name);
      row.Set("calls", double(totals.calls));
      row.Set("selfUs", totals.self_us);
      row.Set("totalUs", totals.total_us);
      rows.Set(i++, row);
    }
    table.clear();
    return rows;
  });
}

}  // namespace

void RegisterOpProfiler(Napi::Env env, Napi::Object exports) {
  exports.Set("profilerStart", Napi::Function::New(env, ProfilerStart, "profilerStart"));
  exports.Set("profilerStop", Napi::Function::New(env, ProfilerStop, "profilerStop"));
}

}  // namespace tttnn
