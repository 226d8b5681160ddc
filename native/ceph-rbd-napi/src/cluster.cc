#include "cluster.h"

#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "addon.h"
#include "errors.h"
#include "ioctx.h"
#include "worker.h"

namespace rbdnapi {

namespace {

// rados_create + conf + rados_connect; the connection is shut down again on
// the pool thread when any step fails.
class ConnectWorker final : public RbdWorker {
 public:
  ConnectWorker(Napi::Env env, std::string confFile, std::string clientId, std::string keyring,
                double timeoutSeconds)
      : RbdWorker(env, nullptr, "ceph_rbd_napi:connect"),
        confFile_(std::move(confFile)),
        clientId_(std::move(clientId)),
        keyring_(std::move(keyring)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", timeoutSeconds);
    timeout_ = buf;
  }

  ~ConnectWorker() override {
    if (rados_ != nullptr) rados_shutdown(rados_);  // only if never handed over
  }

 private:
  void Run() override {
    rados_t rados = nullptr;
    if (Fail("rados_create", rados_create(&rados, clientId_.c_str()), "client." + clientId_)) {
      return;
    }
    bool ok = !Fail("rados_conf_read_file", rados_conf_read_file(rados, confFile_.c_str()),
                    confFile_);
    if (ok && !keyring_.empty()) {
      ok = !Fail("rados_conf_set", rados_conf_set(rados, "keyring", keyring_.c_str()),
                 "keyring=" + keyring_);
    }
    // Without these librados waits forever on an unreachable or unhealthy
    // cluster (mon hunting, PGs not active).
    for (const char* option : {"client_mount_timeout", "rados_mon_op_timeout",
                               "rados_osd_op_timeout"}) {
      if (ok) {
        ok = !Fail("rados_conf_set", rados_conf_set(rados, option, timeout_.c_str()),
                   std::string(option) + "=" + timeout_);
      }
    }
    if (ok) ok = !Fail("rados_connect", rados_connect(rados), "client." + clientId_);
    if (ok) {
      rados_ = rados;
    } else {
      rados_shutdown(rados);
    }
  }

  Napi::Value Result(Napi::Env env) override {
    auto core = std::make_shared<ClusterCore>();
    core->rados = rados_;
    core->clientId = clientId_;
    rados_ = nullptr;  // owned by the core from here on
    return Cluster::NewInstance(env, std::move(core));
  }

  std::string confFile_, clientId_, keyring_, timeout_;
  rados_t rados_ = nullptr;
};

class OpenPoolWorker final : public RbdWorker {
 public:
  OpenPoolWorker(Napi::Env env, std::shared_ptr<ClusterCore> core, std::string pool)
      : RbdWorker(env, core, "ceph_rbd_napi:openPool"),
        core_(std::move(core)),
        rados_(core_->rados),
        pool_(std::move(pool)) {}

  ~OpenPoolWorker() override {
    if (io_ != nullptr) rados_ioctx_destroy(io_);
  }

 private:
  void Run() override {
    Fail("rados_ioctx_create", rados_ioctx_create(rados_, pool_.c_str(), &io_), pool_);
  }

  Napi::Value Result(Napi::Env env) override {
    auto io = std::make_shared<IoCtxCore>(core_, io_, pool_);
    io_ = nullptr;
    return IoCtx::NewInstance(env, std::move(io));
  }

  std::shared_ptr<ClusterCore> core_;
  rados_t rados_;
  std::string pool_;
  rados_ioctx_t io_ = nullptr;
};

class CloseClusterWorker final : public RbdWorker {
 public:
  CloseClusterWorker(Napi::Env env, std::shared_ptr<ClusterCore> core)
      : RbdWorker(env, core, "ceph_rbd_napi:closeCluster"), core_(std::move(core)),
        rados_(core_->rados) {
    core_->state = HandleState::kClosing;
  }

 private:
  void Run() override { rados_shutdown(rados_); }

  void Settle(Napi::Env, bool) override {
    core_->rados = nullptr;
    core_->state = HandleState::kClosed;
  }

  std::shared_ptr<ClusterCore> core_;
  rados_t rados_;
};

// rados_getaddrs: the addresses of this session, as the OSDs know it (what
// blocklist() of another session takes).
class AddressesWorker final : public RbdWorker {
 public:
  AddressesWorker(Napi::Env env, std::shared_ptr<ClusterCore> core)
      : RbdWorker(env, core, "ceph_rbd_napi:addresses"), core_(std::move(core)),
        rados_(core_->rados) {}

 private:
  void Run() override {
    char* addrs = nullptr;
    if (Fail("rados_getaddrs", rados_getaddrs(rados_, &addrs))) return;
    addrs_ = addrs == nullptr ? "" : addrs;
    // librados allocates the string with malloc (buffer_free would want a
    // librados buffer)
    free(addrs);
  }

  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, addrs_); }

  std::shared_ptr<ClusterCore> core_;
  rados_t rados_;
  std::string addrs_;
};

// rados_blocklist_add: fences another session (a process that died or lost its
// lease): the OSDs drop its watches and refuse its writes.
class BlocklistWorker final : public RbdWorker {
 public:
  BlocklistWorker(Napi::Env env, std::shared_ptr<ClusterCore> core, std::string address,
                  uint32_t expireSeconds)
      : RbdWorker(env, core, "ceph_rbd_napi:blocklist"), core_(std::move(core)),
        rados_(core_->rados), address_(std::move(address)), expire_(expireSeconds) {}

 private:
  void Run() override {
    Fail("rados_blocklist_add",
         rados_blocklist_add(rados_, const_cast<char*>(address_.c_str()), expire_), address_);
  }

  std::shared_ptr<ClusterCore> core_;
  rados_t rados_;
  std::string address_;
  uint32_t expire_;
};

}  // namespace

Napi::Function Cluster::Define(Napi::Env env) {
  return DefineClass(env, "Cluster",
                     {InstanceMethod<&Cluster::OpenPool>("openPool"),
                      InstanceMethod<&Cluster::Addresses>("addresses"),
                      InstanceMethod<&Cluster::Blocklist>("blocklist"),
                      InstanceMethod<&Cluster::Close>("close")});
}

Napi::Object Cluster::NewInstance(Napi::Env env, std::shared_ptr<ClusterCore> core) {
  return GetAddonData(env)->clusterCtor.New(
      {Napi::External<std::shared_ptr<ClusterCore>>::New(env, &core)});
}

Cluster::Cluster(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Cluster>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowTypeError(info.Env(), "Cluster objects are created by connect()");
    return;
  }
  core_ = *info[0].As<Napi::External<std::shared_ptr<ClusterCore>>>().Data();
}

Napi::Value Cluster::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string confFile, clientId, keyring;
  if (!ArgString(info, 0, "confFile", &confFile) ||
      !ArgString(info, 1, "clientId", &clientId) ||
      !ArgOptionalString(info, 2, "keyring", &keyring)) {
    return env.Undefined();
  }
  if (!info[3].IsNumber() || !(info[3].As<Napi::Number>().DoubleValue() > 0)) {
    return ThrowTypeError(env, "timeoutSeconds must be a positive number");
  }
  double timeout = info[3].As<Napi::Number>().DoubleValue();
  return (new ConnectWorker(env, confFile, clientId, keyring, timeout))->Start();
}

Napi::Value Cluster::OpenPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string pool;
  if (!ArgString(info, 0, "pool", &pool)) return env.Undefined();
  Napi::Value rejected;
  if (!CheckOpen(env, *core_, "openPool", &rejected)) return rejected;
  return (new OpenPoolWorker(env, core_, pool))->Start();
}

Napi::Value Cluster::Addresses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value rejected;
  if (!CheckOpen(env, *core_, "addresses", &rejected)) return rejected;
  return (new AddressesWorker(env, core_))->Start();
}

Napi::Value Cluster::Blocklist(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string address;
  uint64_t expire = 0;
  if (!ArgString(info, 0, "address", &address) || !ArgUint64(info, 1, "expireSeconds", &expire)) {
    return env.Undefined();
  }
  if (expire > UINT32_MAX) return ThrowTypeError(env, "expireSeconds must fit 32 bits");
  Napi::Value rejected;
  if (!CheckOpen(env, *core_, "blocklist", &rejected)) return rejected;
  return (new BlocklistWorker(env, core_, address, static_cast<uint32_t>(expire)))->Start();
}

Napi::Value Cluster::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value rejected;
  if (!CheckClosable(env, *core_, &rejected)) return rejected;
  return (new CloseClusterWorker(env, core_))->Start();
}

}  // namespace rbdnapi
