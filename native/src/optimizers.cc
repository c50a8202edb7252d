// Optimizers: AdamW and SGD with the exact update rules of torch.optim
// (PyTorch 1.13, single-tensor path), and a state that JS can save, restore
// and reset. TTT-NN resets the optimizer between documents, so the state is
// explicit: per parameter a step count and named slot tensors, named as in
// torch's state_dict ("exp_avg", "exp_avg_sq", "momentum_buffer").
#include <c10/core/GradMode.h>

#include <cmath>
#include <map>

#include "tensor_registry.h"

namespace tttnn {

namespace {

struct ParamState {
  int64_t step = 0;
  std::map<std::string, at::Tensor> slots;
};

enum class Kind { kAdamW, kSGD };

double OptionOr(const Napi::Object& options, const char* key, double fallback) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(options.Env(), std::string("optimizer option ") + key + ": expected a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool BoolOptionOr(const Napi::Object& options, const char* key, bool fallback) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) throw Napi::TypeError::New(options.Env(), std::string("optimizer option ") + key + ": expected a boolean");
  return v.As<Napi::Boolean>().Value();
}

}  // namespace

class Optimizer : public Napi::ObjectWrap<Optimizer> {
 public:
  static Napi::Function DefineClass(Napi::Env env) {
    return ObjectWrap<Optimizer>::DefineClass(env, "Optimizer",
                                              {
                                                  InstanceMethod("step", &Optimizer::Step),
                                                  InstanceMethod("zeroGrad", &Optimizer::ZeroGrad),
                                                  InstanceMethod("getLr", &Optimizer::GetLr),
                                                  InstanceMethod("setLr", &Optimizer::SetLr),
                                                  InstanceMethod("getState", &Optimizer::GetState),
                                                  InstanceMethod("setState", &Optimizer::SetState),
                                                  InstanceMethod("resetState", &Optimizer::ResetState),
                                              });
  }

  // new Optimizer(kind: "adamw" | "sgd", params: tensor ids, options)
  explicit Optimizer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Optimizer>(info) {
    Guard(info, [&]() -> Napi::Value {
      std::string kind = ArgString(info, 0);
      if (kind == "adamw") {
        kind_ = Kind::kAdamW;
      } else if (kind == "sgd") {
        kind_ = Kind::kSGD;
      } else {
        throw std::invalid_argument("unknown optimizer '" + kind + "' (expected adamw or sgd)");
      }
      params_ = ArgTensorList(info, 1);
      for (size_t i = 0; i < params_.size(); i++) {
        if (!params_[i].is_floating_point()) {
          throw std::invalid_argument("optimizer parameter " + std::to_string(i) + " is not a floating point tensor");
        }
      }
      Napi::Object options = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
      bool adamw = kind_ == Kind::kAdamW;
      lr_ = OptionOr(options, "lr", adamw ? 1e-3 : -1);
      if (lr_ < 0) throw std::invalid_argument("optimizer option lr is required for sgd and must be >= 0");
      beta1_ = OptionOr(options, "beta1", 0.9);
      beta2_ = OptionOr(options, "beta2", 0.999);
      eps_ = OptionOr(options, "eps", 1e-8);
      weight_decay_ = OptionOr(options, "weightDecay", adamw ? 1e-2 : 0.0);
      momentum_ = OptionOr(options, "momentum", 0.0);
      dampening_ = OptionOr(options, "dampening", 0.0);
      nesterov_ = BoolOptionOr(options, "nesterov", false);
      if (beta1_ < 0 || beta1_ >= 1 || beta2_ < 0 || beta2_ >= 1) {
        throw std::invalid_argument("optimizer betas must be in [0, 1)");
      }
      if (eps_ < 0 || weight_decay_ < 0 || momentum_ < 0) {
        throw std::invalid_argument("optimizer eps, weightDecay and momentum must be >= 0");
      }
      if (nesterov_ && (momentum_ <= 0 || dampening_ != 0)) {
        throw std::invalid_argument("nesterov momentum requires a momentum and zero dampening");
      }
      state_.resize(params_.size());
      return info.Env().Undefined();
    });
  }

 private:
  Napi::Value Step(const Napi::CallbackInfo& info) {
    return Guard(info, [&]() -> Napi::Value {
      c10::AutoGradMode no_grad(false);
      for (size_t i = 0; i < params_.size(); i++) {
        at::Tensor& param = params_[i];
        const at::Tensor& grad = param.grad();
        if (!grad.defined()) continue;
        if (kind_ == Kind::kAdamW) {
          AdamWUpdate(param, grad, state_[i]);
        } else {
          SGDUpdate(param, grad, state_[i]);
        }
      }
      return info.Env().Undefined();
    });
  }

  // torch.optim.adamw._single_tensor_adamw
  void AdamWUpdate(at::Tensor& param, const at::Tensor& grad, ParamState& state) {
    if (state.step == 0) {
      state.slots["exp_avg"] = at::zeros_like(param, at::MemoryFormat::Preserve);
      state.slots["exp_avg_sq"] = at::zeros_like(param, at::MemoryFormat::Preserve);
    }
    at::Tensor& exp_avg = state.slots["exp_avg"];
    at::Tensor& exp_avg_sq = state.slots["exp_avg_sq"];
    state.step += 1;
    param.mul_(1 - lr_ * weight_decay_);
    exp_avg.mul_(beta1_).add_(grad, 1 - beta1_);
    exp_avg_sq.mul_(beta2_).addcmul_(grad, grad, 1 - beta2_);
    double bias_correction1 = 1 - std::pow(beta1_, double(state.step));
    double bias_correction2 = 1 - std::pow(beta2_, double(state.step));
    double step_size = lr_ / bias_correction1;
    at::Tensor denom = (exp_avg_sq.sqrt() / std::sqrt(bias_correction2)).add_(eps_);
    param.addcdiv_(exp_avg, denom, -step_size);
  }

  // torch.optim.sgd._single_tensor_sgd
  void SGDUpdate(at::Tensor& param, const at::Tensor& grad, ParamState& state) {
    at::Tensor d_p = grad;
    if (weight_decay_ != 0) d_p = d_p.add(param, weight_decay_);
    if (momentum_ != 0) {
      auto it = state.slots.find("momentum_buffer");
      if (it == state.slots.end()) {
        it = state.slots.emplace("momentum_buffer", d_p.clone().detach()).first;
      } else {
        it->second.mul_(momentum_).add_(d_p, 1 - dampening_);
      }
      d_p = nesterov_ ? d_p.add(it->second, momentum_) : it->second;
    }
    state.step += 1;
    param.add_(d_p, -lr_);
  }

  // zeroGrad(setToNone = true)
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info) {
    return Guard(info, [&]() -> Napi::Value {
      bool set_to_none = ArgBoolOr(info, 0, true);
      for (at::Tensor& p : params_) {
        at::Tensor& grad = p.mutable_grad();
        if (!grad.defined()) continue;
        if (set_to_none) {
          grad.reset();
        } else {
          grad = grad.detach();
          grad.zero_();
        }
      }
      return info.Env().Undefined();
    });
  }

  Napi::Value GetLr(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), lr_); }

  Napi::Value SetLr(const Napi::CallbackInfo& info) {
    return Guard(info, [&]() -> Napi::Value {
      double lr = ArgDouble(info, 0);
      if (!(lr >= 0)) throw std::invalid_argument("learning rate must be >= 0");
      lr_ = lr;
      return info.Env().Undefined();
    });
  }

  // getState() -> { steps: number[], slots: { name: (tensor id | null)[] } }
  // Slot tensors are copies: the caller owns (and disposes) them.
  Napi::Value GetState(const Napi::CallbackInfo& info) {
    return Guard(info, [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      Napi::Object out = Napi::Object::New(env);
      Napi::Array steps = Napi::Array::New(env, state_.size());
      Napi::Object slots = Napi::Object::New(env);
      for (const char* name : SlotNames()) {
        Napi::Array list = Napi::Array::New(env, state_.size());
        for (size_t i = 0; i < state_.size(); i++) {
          auto it = state_[i].slots.find(name);
          list.Set(uint32_t(i), it == state_[i].slots.end() ? env.Null() : WrapTensor(env, it->second.clone()));
        }
        slots.Set(name, list);
      }
      for (size_t i = 0; i < state_.size(); i++) steps.Set(uint32_t(i), Napi::Number::New(env, double(state_[i].step)));
      out.Set("steps", steps);
      out.Set("slots", slots);
      return out;
    });
  }

  // setState(state): the inverse of getState; copies the given tensors.
  Napi::Value SetState(const Napi::CallbackInfo& info) {
    return Guard(info, [&]() -> Napi::Value {
      if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "setState: expected a state object");
      Napi::Object state = info[0].As<Napi::Object>();
      Napi::Value steps_value = state.Get("steps");
      Napi::Value slots_value = state.Get("slots");
      if (!steps_value.IsArray() || !slots_value.IsObject()) {
        throw Napi::TypeError::New(info.Env(), "setState: expected { steps: number[], slots: {...} }");
      }
      Napi::Array steps = steps_value.As<Napi::Array>();
      if (steps.Length() != params_.size()) {
        throw std::invalid_argument("setState: state has " + std::to_string(steps.Length()) + " parameters, optimizer has " +
                                    std::to_string(params_.size()));
      }
      std::vector<ParamState> next(params_.size());
      for (size_t i = 0; i < params_.size(); i++) next[i].step = int64_t(steps.Get(uint32_t(i)).As<Napi::Number>().Int64Value());
      Napi::Object slots = slots_value.As<Napi::Object>();
      for (const char* name : SlotNames()) {
        Napi::Value list_value = slots.Get(name);
        if (!list_value.IsArray()) continue;
        Napi::Array list = list_value.As<Napi::Array>();
        for (size_t i = 0; i < params_.size() && i < list.Length(); i++) {
          Napi::Value v = list.Get(uint32_t(i));
          if (v.IsNull() || v.IsUndefined()) continue;
          std::string what = std::string("setState slot ") + name + "[" + std::to_string(i) + "]";
          const at::Tensor& t = TensorFromValue(v, what);
          if (t.sizes() != params_[i].sizes()) {
            throw std::invalid_argument(what + " has shape " + c10::str(t.sizes()) + ", parameter has " +
                                        c10::str(params_[i].sizes()));
          }
          next[i].slots[name] = t.detach().to(params_[i].options()).clone();
        }
      }
      state_ = std::move(next);
      return info.Env().Undefined();
    });
  }

  // resetState(): forget every moment and step count (a fresh optimizer).
  Napi::Value ResetState(const Napi::CallbackInfo& info) {
    state_.assign(params_.size(), ParamState());
    return info.Env().Undefined();
  }

  std::vector<const char*> SlotNames() const {
    if (kind_ == Kind::kAdamW) return {"exp_avg", "exp_avg_sq"};
    return {"momentum_buffer"};
  }

  Kind kind_ = Kind::kAdamW;
  std::vector<at::Tensor> params_;
  std::vector<ParamState> state_;
  double lr_ = 1e-3, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8, weight_decay_ = 0;
  double momentum_ = 0, dampening_ = 0;
  bool nesterov_ = false;
};

// clipGradNorm(params, maxNorm, normType = 2) -> the total norm before
// clipping, as a 0-dim tensor on the gradients' device
// (torch.nn.utils.clip_grad_norm_ of PyTorch 1.13): a caller that does not
// need the number (a TTT step) never waits for a device to hand it over.
static Napi::Value ClipGradNorm(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    c10::AutoGradMode no_grad(false);
    std::vector<at::Tensor> params = ArgTensorList(info, 0);
    double max_norm = ArgDouble(info, 1);
    double norm_type = ArgIsMissing(info, 2) ? 2.0 : ArgDouble(info, 2);
    std::vector<at::Tensor> grads;
    for (const at::Tensor& p : params) {
      if (p.grad().defined()) grads.push_back(p.grad());
    }
    if (grads.empty()) return WrapTensor(info.Env(), at::zeros({}, at::TensorOptions().dtype(at::kFloat)));
    at::Tensor total;
    if (std::isinf(norm_type)) {
      std::vector<at::Tensor> norms;
      for (const at::Tensor& g : grads) norms.push_back(g.detach().abs().max());
      total = norms.size() == 1 ? norms[0] : at::stack(norms).max();
    } else {
      std::vector<at::Tensor> norms;
      for (const at::Tensor& g : grads) norms.push_back(at::norm(g.detach(), norm_type));
      total = at::norm(at::stack(norms), norm_type);
    }
    at::Tensor clip_coef = at::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
    for (at::Tensor& g : grads) g.detach().mul_(clip_coef.to(g.device()));
    return WrapTensor(info.Env(), total);
  });
}

void RegisterOptimizers(Napi::Env env, Napi::Object exports) {
  exports.Set("Optimizer", Optimizer::DefineClass(env));
  exports.Set("clipGradNorm", Napi::Function::New(env, ClipGradNorm, "clipGradNorm"));
}

}  // namespace tttnn
