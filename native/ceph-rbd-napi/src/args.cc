#include <cmath>

#include "addon.h"
#include "errors.h"

namespace rbdnapi {

namespace {
constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1
}

bool ArgString(const Napi::CallbackInfo& info, size_t index, const char* name,
               std::string* out) {
  Napi::Env env = info.Env();
  if (!info[index].IsString()) {
    ThrowTypeError(env, std::string(name) + " must be a string");
    return false;
  }
  *out = info[index].As<Napi::String>().Utf8Value();
  if (out->empty() || out->find('\0') != std::string::npos) {
    ThrowTypeError(env, std::string(name) + " must be a non-empty string without NUL");
    return false;
  }
  return true;
}

bool ArgOptionalString(const Napi::CallbackInfo& info, size_t index, const char* name,
                       std::string* out) {
  out->clear();
  Napi::Value value = info[index];
  if (value.IsUndefined() || value.IsNull()) return true;
  if (value.IsString() && value.As<Napi::String>().Utf8Value().empty()) return true;
  return ArgString(info, index, name, out);
}

bool ArgUint64(const Napi::CallbackInfo& info, size_t index, const char* name, uint64_t* out,
               bool optional, bool* present) {
  Napi::Env env = info.Env();
  Napi::Value value = info[index];
  if (optional && (value.IsUndefined() || value.IsNull())) {
    if (present != nullptr) *present = false;
    return true;
  }
  if (!value.IsNumber()) {
    ThrowTypeError(env, std::string(name) + " must be a number");
    return false;
  }
  double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || number < 0 || number > kMaxSafeInteger ||
      std::floor(number) != number) {
    ThrowTypeError(env, std::string(name) + " must be a non-negative safe integer");
    return false;
  }
  *out = static_cast<uint64_t>(number);
  if (present != nullptr) *present = true;
  return true;
}

}  // namespace rbdnapi
