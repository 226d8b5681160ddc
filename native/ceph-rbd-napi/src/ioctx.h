// IoCtx: an open pool (rados_ioctx_t). Image-level calls made here
// (snapshots, flatten, parentInfo, children, stat, metadata) open the image
// inside the worker, act, and close it again.
#pragma once

#include <napi.h>

#include <memory>

#include "handle.h"

namespace rbdnapi {

class IoCtx : public Napi::ObjectWrap<IoCtx> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<IoCtxCore> core);

  explicit IoCtx(const Napi::CallbackInfo& info);

 private:
  Napi::Value Pool(const Napi::CallbackInfo& info);
  Napi::Value ListImages(const Napi::CallbackInfo& info);
  Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Remove(const Napi::CallbackInfo& info);
  Napi::Value Rename(const Napi::CallbackInfo& info);
  Napi::Value Stat(const Napi::CallbackInfo& info);
  Napi::Value SnapCreate(const Napi::CallbackInfo& info);
  Napi::Value SnapRemove(const Napi::CallbackInfo& info);
  Napi::Value SnapProtect(const Napi::CallbackInfo& info);
  Napi::Value SnapUnprotect(const Napi::CallbackInfo& info);
  Napi::Value SnapIsProtected(const Napi::CallbackInfo& info);
  Napi::Value SnapList(const Napi::CallbackInfo& info);
  Napi::Value Clone(const Napi::CallbackInfo& info);
  Napi::Value Flatten(const Napi::CallbackInfo& info);
  Napi::Value ParentInfo(const Napi::CallbackInfo& info);
  Napi::Value Children(const Napi::CallbackInfo& info);
  Napi::Value MetadataGet(const Napi::CallbackInfo& info);
  Napi::Value MetadataSet(const Napi::CallbackInfo& info);
  Napi::Value MetadataRemove(const Napi::CallbackInfo& info);
  Napi::Value MetadataList(const Napi::CallbackInfo& info);
  Napi::Value OpenImage(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  // Shared by the snapshot calls that take (image, snap) and return nothing.
  Napi::Value SnapOp(const Napi::CallbackInfo& info, const char* op, int kind);

  std::shared_ptr<IoCtxCore> core_;
};

}  // namespace rbdnapi
