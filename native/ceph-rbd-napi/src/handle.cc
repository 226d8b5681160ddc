#include "handle.h"

#include <cerrno>
#include <utility>

#include "errors.h"

namespace rbdnapi {

ClusterCore::~ClusterCore() {
  if (rados != nullptr) rados_shutdown(rados);
}

IoCtxCore::IoCtxCore(std::shared_ptr<ClusterCore> cluster, rados_ioctx_t io, std::string pool)
    : Core("IoCtx"), cluster(std::move(cluster)), io(io), pool(std::move(pool)) {
  this->cluster->openChildren++;
}

IoCtxCore::~IoCtxCore() {
  if (io != nullptr) rados_ioctx_destroy(io);
  DetachFromParent();
}

void IoCtxCore::DetachFromParent() {
  if (attached_) {
    attached_ = false;
    cluster->openChildren--;
  }
}

std::string IoCtxCore::Spec(const std::string& image, const std::string& snap) const {
  std::string spec = pool + "/" + image;
  if (!snap.empty()) spec += "@" + snap;
  return spec;
}

ImageCore::ImageCore(std::shared_ptr<IoCtxCore> ioctx, rbd_image_t image, std::string name,
                     std::string snap)
    : Core("Image"), ioctx(std::move(ioctx)), image(image), name(std::move(name)),
      snap(std::move(snap)) {
  this->ioctx->openChildren++;
}

ImageCore::~ImageCore() {
  if (image != nullptr) rbd_close(image);
  DetachFromParent();
}

void ImageCore::DetachFromParent() {
  if (attached_) {
    attached_ = false;
    ioctx->openChildren--;
  }
}

Napi::Value RejectedPromise(Napi::Env env, const Napi::Error& error) {
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(error.Value());
  return deferred.Promise();
}

bool CheckOpen(Napi::Env env, const Core& core, const char* op, Napi::Value* rejected) {
  if (core.state == HandleState::kOpen) return true;
  *rejected = RejectedPromise(
      env, MakeStateError(env, op, EBADF,
                          std::string(core.kind) + " (" + core.Label() + ") is " +
                              (core.state == HandleState::kClosing ? "closing" : "closed")));
  return false;
}

bool CheckClosable(Napi::Env env, const Core& core, Napi::Value* rejected) {
  if (!CheckOpen(env, core, "close", rejected)) return false;
  std::string reason;
  if (core.pending > 0) {
    reason = std::to_string(core.pending) + " operation(s) still pending on " + core.kind +
             " (" + core.Label() + ")";
  } else if (core.openChildren > 0) {
    reason = std::string(core.kind) + " (" + core.Label() + ") still has " +
             std::to_string(core.openChildren) + " open " +
             (std::string(core.kind) == "Cluster" ? "IoCtx" : "Image") + " handle(s)";
  } else {
    return true;
  }
  *rejected = RejectedPromise(env, MakeStateError(env, "close", EBUSY, reason));
  return false;
}

}  // namespace rbdnapi
