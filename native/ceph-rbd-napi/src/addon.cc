// Module init: registers the three handle classes in per-addon state and
// exports connect() plus the RBD feature bits.
#include "addon.h"

#include <rbd/features.h>
#include <rbd/librbd.h>

#include "cluster.h"
#include "image.h"
#include "ioctx.h"

namespace rbdnapi {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);  // deleted by node-addon-api when the env goes away
  data->clusterCtor = Napi::Persistent(Cluster::Define(env));
  data->ioctxCtor = Napi::Persistent(IoCtx::Define(env));
  data->imageCtor = Napi::Persistent(Image::Define(env));

  exports.Set("connect", Napi::Function::New<Cluster::Connect>(env, "connect"));

  Napi::Object features = Napi::Object::New(env);
  features.Set("LAYERING", Napi::Number::New(env, RBD_FEATURE_LAYERING));
  features.Set("STRIPINGV2", Napi::Number::New(env, RBD_FEATURE_STRIPINGV2));
  features.Set("EXCLUSIVE_LOCK", Napi::Number::New(env, RBD_FEATURE_EXCLUSIVE_LOCK));
  features.Set("OBJECT_MAP", Napi::Number::New(env, RBD_FEATURE_OBJECT_MAP));
  features.Set("FAST_DIFF", Napi::Number::New(env, RBD_FEATURE_FAST_DIFF));
  features.Set("DEEP_FLATTEN", Napi::Number::New(env, RBD_FEATURE_DEEP_FLATTEN));
  features.Set("JOURNALING", Napi::Number::New(env, RBD_FEATURE_JOURNALING));
  features.Set("DEFAULT", Napi::Number::New(env, RBD_FEATURES_DEFAULT));
  exports.Set("features", features);

  int major = 0, minor = 0, extra = 0;
  rbd_version(&major, &minor, &extra);
  exports.Set("librbdVersion", Napi::String::New(env, std::to_string(major) + "." +
                                                          std::to_string(minor) + "." +
                                                          std::to_string(extra)));
  return exports;
}

}  // namespace rbdnapi

static Napi::Object InitCephRbdNapi(Napi::Env env, Napi::Object exports) {
  return rbdnapi::Init(env, exports);
}

NODE_API_MODULE(ceph_rbd_napi, InitCephRbdNapi)
