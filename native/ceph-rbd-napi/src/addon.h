// Per-addon state (one per Node environment / worker thread) and the
// argument checks shared by the ObjectWrap classes.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace rbdnapi {

// Held with Env::SetInstanceData; the constructors let workers create
// Cluster/IoCtx/Image objects when an open completes.
struct AddonData {
  Napi::FunctionReference clusterCtor;
  Napi::FunctionReference ioctxCtor;
  Napi::FunctionReference imageCtor;
};

inline AddonData* GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

// Backstop checks: lib/ validates every argument with a TypeError before the
// call reaches C++, so these fire only when the binding is used directly.
// On failure they throw a JS TypeError and return false.
bool ArgString(const Napi::CallbackInfo& info, size_t index, const char* name,
               std::string* out);
// A name that may be absent (undefined/null/"") -> empty string.
bool ArgOptionalString(const Napi::CallbackInfo& info, size_t index, const char* name,
                       std::string* out);
// A non-negative safe integer; when `optional`, undefined/null -> *present = false.
bool ArgUint64(const Napi::CallbackInfo& info, size_t index, const char* name, uint64_t* out,
               bool optional = false, bool* present = nullptr);

}  // namespace rbdnapi
