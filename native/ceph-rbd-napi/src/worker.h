// Base of every asynchronous librbd/librados call: one worker per call, run
// on the libuv thread pool, settling one Promise.
//
// The life of a call (the node-sqlite3 baton shape, with a Promise):
//   JS thread   constructor: inputs copied into std::string/vectors,
//               handle->pending++ (so close() refuses while we run)
//   pool thread Run(): librbd/librados calls on C data only, Fail() records
//               the first error
//   JS thread   OnOK(): pending--, Settle(), then reject with the recorded
//               error or resolve with Result()
#pragma once

#include <napi.h>
#include <rbd/librbd.h>

#include <memory>
#include <string>

#include "handle.h"

namespace rbdnapi {

class RbdWorker : public Napi::AsyncWorker {
 public:
  ~RbdWorker() override;

  // Queues the worker; returns the Promise it will settle.
  Napi::Value Start();

 protected:
  // `core` may be null (connect: no handle yet).
  RbdWorker(Napi::Env env, std::shared_ptr<Core> core, const char* resource);

  // Pool thread. Touch only members copied in by the constructor.
  virtual void Run() = 0;
  // JS thread, after a successful Run(). Default: undefined.
  virtual Napi::Value Result(Napi::Env env);
  // JS thread, before the promise settles, success or not (state changes).
  virtual void Settle(Napi::Env env, bool ok) {}

  // Records a failed call; true when rc < 0. The first failure is kept.
  bool Fail(const char* op, int rc, const std::string& target = "");
  bool failed() const { return err_ != 0; }

 private:
  void Execute() final;
  void OnOK() final;
  void ReleasePending();

  std::shared_ptr<Core> core_;
  Napi::Promise::Deferred deferred_;
  bool counted_ = false;
  std::string op_;
  int err_ = 0;
  std::string target_;
};

// An image opened for the span of one Run() and always closed again, so
// image-level calls made through an IoCtx leak no rbd_image_t.
class ScopedImage {
 public:
  ScopedImage() = default;
  ~ScopedImage() { Close(); }
  ScopedImage(const ScopedImage&) = delete;
  ScopedImage& operator=(const ScopedImage&) = delete;

  // rbd_open, or rbd_open_read_only when readOnly (no header watch, read caps
  // suffice). `snap` empty = image head. Returns the librbd rc.
  int Open(rados_ioctx_t io, const std::string& name, const std::string& snap, bool readOnly);
  // rbd_close; returns its rc (0 when nothing was open).
  int Close();
  rbd_image_t get() const { return image_; }
  const char* openOp() const { return openOp_; }

 private:
  rbd_image_t image_ = nullptr;
  const char* openOp_ = "rbd_open";
};

}  // namespace rbdnapi
