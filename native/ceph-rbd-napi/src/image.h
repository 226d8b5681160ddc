// Image: an open rbd_image_t for reads and writes (tests, golden-image
// tools). Opened with IoCtx.openImage(); keeps its IoCtx from closing.
#pragma once

#include <napi.h>

#include <memory>

#include "handle.h"

namespace rbdnapi {

class Image : public Napi::ObjectWrap<Image> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ImageCore> core);

  explicit Image(const Napi::CallbackInfo& info);

 private:
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<ImageCore> core_;
};

}  // namespace rbdnapi
