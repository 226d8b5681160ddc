// Native state behind each JS handle (Cluster, IoCtx, Image).
//
// A "core" owns one librados/librbd handle and is shared (std::shared_ptr)
// by its JS wrapper, by every worker in flight on it, and by its children's
// cores. So an Image's core keeps its IoCtx's core alive, which keeps the
// Cluster's core alive: whatever order the garbage collector or environment
// teardown finalises the JS objects in, rbd_close runs before
// rados_ioctx_destroy, which runs before rados_shutdown.
//
// The bookkeeping fields (state, pending, openChildren) are only touched on
// the JS thread: workers change them in their constructor and in OnOK.
#pragma once

#include <napi.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#include <memory>
#include <string>

namespace rbdnapi {

enum class HandleState { kOpen, kClosing, kClosed };

struct Core {
  explicit Core(const char* kind) : kind(kind) {}
  virtual ~Core() = default;
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Gives the child-count back to the parent, once (explicit close or
  // destruction, whichever comes first).
  virtual void DetachFromParent() {}
  // Description for error messages: "pool 'bmi'", "image 'bmi/golden'".
  virtual std::string Label() const = 0;

  const char* kind;  // "Cluster", "IoCtx", "Image"
  HandleState state = HandleState::kOpen;
  int pending = 0;       // workers queued or running on this handle
  int openChildren = 0;  // open IoCtx of a Cluster, open Image of an IoCtx
};

struct ClusterCore final : Core {
  ClusterCore() : Core("Cluster") {}
  ~ClusterCore() override;
  std::string Label() const override { return "client." + clientId; }

  rados_t rados = nullptr;
  std::string clientId;
};

struct IoCtxCore final : Core {
  IoCtxCore(std::shared_ptr<ClusterCore> cluster, rados_ioctx_t io, std::string pool);
  ~IoCtxCore() override;
  void DetachFromParent() override;
  std::string Label() const override { return "pool '" + pool + "'"; }
  // "bmi/golden" or "bmi/golden@base", for error messages.
  std::string Spec(const std::string& image, const std::string& snap = "") const;

  std::shared_ptr<ClusterCore> cluster;
  rados_ioctx_t io = nullptr;
  std::string pool;

 private:
  bool attached_ = true;
};

struct ImageCore final : Core {
  ImageCore(std::shared_ptr<IoCtxCore> ioctx, rbd_image_t image, std::string name,
            std::string snap);
  ~ImageCore() override;
  void DetachFromParent() override;
  std::string Label() const override { return "image '" + Spec() + "'"; }
  std::string Spec() const { return ioctx->Spec(name, snap); }

  std::shared_ptr<IoCtxCore> ioctx;
  rbd_image_t image = nullptr;
  std::string name;
  std::string snap;

 private:
  bool attached_ = true;
};

// A promise already rejected with `error`.
Napi::Value RejectedPromise(Napi::Env env, const Napi::Error& error);

// For an operation `op` on `core`: true when the handle is open; otherwise
// sets *rejected to a promise rejected with EBADF.
bool CheckOpen(Napi::Env env, const Core& core, const char* op, Napi::Value* rejected);

// For close(): true when nothing is pending and no child is open; otherwise a
// promise rejected with EBUSY (the handle stays open and usable), or EBADF
// when it is already closed or closing.
bool CheckClosable(Napi::Env env, const Core& core, Napi::Value* rejected);

}  // namespace rbdnapi
