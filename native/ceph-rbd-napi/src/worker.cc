#include "worker.h"

#include <utility>

#include "errors.h"

namespace rbdnapi {

RbdWorker::RbdWorker(Napi::Env env, std::shared_ptr<Core> core, const char* resource)
    : Napi::AsyncWorker(env, resource),
      core_(std::move(core)),
      deferred_(Napi::Promise::Deferred::New(env)) {
  if (core_) {
    core_->pending++;
    counted_ = true;
  }
}

RbdWorker::~RbdWorker() {
  // Normally released in OnOK; this covers a worker that never ran.
  ReleasePending();
}

void RbdWorker::ReleasePending() {
  if (counted_) {
    counted_ = false;
    core_->pending--;
  }
}

Napi::Value RbdWorker::Start() {
  Napi::Promise promise = deferred_.Promise();
  Queue();
  return promise;
}

Napi::Value RbdWorker::Result(Napi::Env env) { return env.Undefined(); }

bool RbdWorker::Fail(const char* op, int rc, const std::string& target) {
  if (rc >= 0) return false;
  if (err_ == 0) {
    op_ = op;
    err_ = -rc;
    target_ = target;
  }
  return true;
}

void RbdWorker::Execute() { Run(); }

void RbdWorker::OnOK() {
  Napi::Env env = Env();
  // Before settling: code that awaits this promise may call close() at once.
  ReleasePending();
  Settle(env, err_ == 0);
  if (err_ != 0) {
    deferred_.Reject(MakeRbdError(env, op_, err_, target_).Value());
    return;
  }
  Napi::Value result = Result(env);
  if (env.IsExceptionPending()) {
    deferred_.Reject(env.GetAndClearPendingException().Value());
    return;
  }
  deferred_.Resolve(result);
}

int ScopedImage::Open(rados_ioctx_t io, const std::string& name, const std::string& snap,
                      bool readOnly) {
  Close();
  const char* snapName = snap.empty() ? nullptr : snap.c_str();
  openOp_ = readOnly ? "rbd_open_read_only" : "rbd_open";
  int rc = readOnly ? rbd_open_read_only(io, name.c_str(), &image_, snapName)
                    : rbd_open(io, name.c_str(), &image_, snapName);
  if (rc < 0) image_ = nullptr;
  return rc;
}

int ScopedImage::Close() {
  if (image_ == nullptr) return 0;
  int rc = rbd_close(image_);
  image_ = nullptr;
  return rc;
}

}  // namespace rbdnapi
