// Cluster: one librados connection (rados_t). Created by connect(); opens
// IoCtx handles; close() refuses (EBUSY) while work is pending or an IoCtx
// is still open.
#pragma once

#include <napi.h>

#include <memory>

#include "handle.h"

namespace rbdnapi {

class Cluster : public Napi::ObjectWrap<Cluster> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Called by a worker on the JS thread once rados_connect succeeded.
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ClusterCore> core);
  // binding.connect(confFile, clientId, keyring | undefined, timeoutSeconds)
  static Napi::Value Connect(const Napi::CallbackInfo& info);

  explicit Cluster(const Napi::CallbackInfo& info);

 private:
  Napi::Value OpenPool(const Napi::CallbackInfo& info);
  // addresses(): this session's addresses (rados_getaddrs)
  Napi::Value Addresses(const Napi::CallbackInfo& info);
  // blocklist(address, expireSeconds): fence another session (0: Ceph's default expiry)
  Napi::Value Blocklist(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<ClusterCore> core_;
};

}  // namespace rbdnapi
