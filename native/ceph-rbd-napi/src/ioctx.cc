#include "ioctx.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <utility>
#include <vector>

#include "addon.h"
#include "errors.h"
#include "image.h"
#include "worker.h"

namespace rbdnapi {

namespace {

// librbd list calls answer -ERANGE with the size they need; the list can
// grow between two calls, so retry a few times.
constexpr int kMaxListAttempts = 8;

// Base of the workers that act through one pool: copies the ioctx pointer
// and the pool name so Run() reads nothing shared.
class IoWorker : public RbdWorker {
 protected:
  IoWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, const char* resource)
      : RbdWorker(env, core, resource), io_(core->io), pool_(core->pool) {}

  std::string Spec(const std::string& image, const std::string& snap = "") const {
    return snap.empty() ? pool_ + "/" + image : pool_ + "/" + image + "@" + snap;
  }

  // Opens `image` (at `snap`) for this Run(); records a failure.
  bool Open(ScopedImage& image, const std::string& name, const std::string& snap,
            bool readOnly) {
    int rc = image.Open(io_, name, snap, readOnly);
    return !Fail(image.openOp(), rc, Spec(name, snap));
  }

  // Closes the image; a close error counts only if nothing failed before.
  void CloseImage(ScopedImage& image, const std::string& name) {
    Fail("rbd_close", image.Close(), Spec(name));
  }

  rados_ioctx_t io_;
  std::string pool_;
};

class ListImagesWorker final : public IoWorker {
 public:
  ListImagesWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core)
      : IoWorker(env, core, "ceph_rbd_napi:listImages") {}

 private:
  void Run() override {
    size_t max = 64;
    for (int attempt = 0; attempt < kMaxListAttempts; attempt++) {
      std::vector<rbd_image_spec_t> specs(max);
      int rc = rbd_list2(io_, specs.data(), &max);
      if (rc == -ERANGE) continue;
      if (Fail("rbd_list2", rc, pool_)) return;
      for (size_t i = 0; i < max; i++) names_.emplace_back(specs[i].name);
      rbd_image_spec_list_cleanup(specs.data(), max);
      return;
    }
    Fail("rbd_list2", -ERANGE, pool_);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Array array = Napi::Array::New(env, names_.size());
    for (size_t i = 0; i < names_.size(); i++) array.Set(i, names_[i]);
    return array;
  }

  std::vector<std::string> names_;
};

class CreateWorker final : public IoWorker {
 public:
  CreateWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name,
               uint64_t size, uint64_t features, bool hasOrder, uint64_t order)
      : IoWorker(env, core, "ceph_rbd_napi:create"),
        name_(std::move(name)), size_(size), features_(features), hasOrder_(hasOrder),
        order_(order) {}

 private:
  void Run() override {
    rbd_image_options_t opts;
    rbd_image_options_create(&opts);
    bool ok = !Fail("rbd_image_options_set_uint64",
                    rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES, features_),
                    "features");
    if (ok && hasOrder_) {
      ok = !Fail("rbd_image_options_set_uint64",
                 rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_ORDER, order_), "order");
    }
    if (ok) Fail("rbd_create4", rbd_create4(io_, name_.c_str(), size_, opts), Spec(name_));
    rbd_image_options_destroy(opts);
  }

  std::string name_;
  uint64_t size_, features_;
  bool hasOrder_;
  uint64_t order_;
};

class RemoveWorker final : public IoWorker {
 public:
  RemoveWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name)
      : IoWorker(env, core, "ceph_rbd_napi:remove"), name_(std::move(name)) {}

 private:
  void Run() override { Fail("rbd_remove", rbd_remove(io_, name_.c_str()), Spec(name_)); }
  std::string name_;
};

class RenameWorker final : public IoWorker {
 public:
  RenameWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string from,
               std::string to)
      : IoWorker(env, core, "ceph_rbd_napi:rename"), from_(std::move(from)), to_(std::move(to)) {}

 private:
  void Run() override {
    Fail("rbd_rename", rbd_rename(io_, from_.c_str(), to_.c_str()),
         Spec(from_) + " -> " + Spec(to_));
  }
  std::string from_, to_;
};

class StatWorker final : public IoWorker {
 public:
  StatWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name)
      : IoWorker(env, core, "ceph_rbd_napi:stat"), name_(std::move(name)) {}

 private:
  void Run() override {
    ScopedImage image;
    if (!Open(image, name_, "", true)) return;
    Fail("rbd_stat", rbd_stat(image.get(), &info_, sizeof info_), Spec(name_));
    CloseImage(image, name_);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("size", Napi::Number::New(env, static_cast<double>(info_.size)));
    out.Set("objectSize", Napi::Number::New(env, static_cast<double>(info_.obj_size)));
    out.Set("numObjects", Napi::Number::New(env, static_cast<double>(info_.num_objs)));
    out.Set("order", Napi::Number::New(env, info_.order));
    return out;
  }

  std::string name_;
  rbd_image_info_t info_{};
};

enum SnapKind { kSnapCreate, kSnapRemove, kSnapProtect, kSnapUnprotect };

class SnapWorker final : public IoWorker {
 public:
  SnapWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name,
             std::string snap, int kind)
      : IoWorker(env, core, "ceph_rbd_napi:snap"), name_(std::move(name)),
        snap_(std::move(snap)), kind_(kind) {}

 private:
  void Run() override {
    ScopedImage image;
    if (!Open(image, name_, "", false)) return;
    const char* snap = snap_.c_str();
    switch (kind_) {
      case kSnapCreate:
        Fail("rbd_snap_create", rbd_snap_create(image.get(), snap), Spec(name_, snap_));
        break;
      case kSnapRemove:
        Fail("rbd_snap_remove", rbd_snap_remove(image.get(), snap), Spec(name_, snap_));
        break;
      case kSnapProtect:
        Fail("rbd_snap_protect", rbd_snap_protect(image.get(), snap), Spec(name_, snap_));
        break;
      case kSnapUnprotect:
        Fail("rbd_snap_unprotect", rbd_snap_unprotect(image.get(), snap), Spec(name_, snap_));
        break;
    }
    CloseImage(image, name_);
  }

  std::string name_, snap_;
  int kind_;
};

class SnapIsProtectedWorker final : public IoWorker {
 public:
  SnapIsProtectedWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name,
                        std::string snap)
      : IoWorker(env, core, "ceph_rbd_napi:snapIsProtected"), name_(std::move(name)),
        snap_(std::move(snap)) {}

 private:
  void Run() override {
    ScopedImage image;
    if (!Open(image, name_, "", true)) return;
    Fail("rbd_snap_is_protected", rbd_snap_is_protected(image.get(), snap_.c_str(), &result_),
         Spec(name_, snap_));
    CloseImage(image, name_);
  }

  Napi::Value Result(Napi::Env env) override { return Napi::Boolean::New(env, result_ != 0); }

  std::string name_, snap_;
  int result_ = 0;
};

class SnapListWorker final : public IoWorker {
 public:
  SnapListWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name)
      : IoWorker(env, core, "ceph_rbd_napi:snapList"), name_(std::move(name)) {}

 private:
  struct Snap {
    uint64_t id, size;
    std::string name;
    rbd_snap_namespace_type_t ns;
  };

  static const char* NamespaceName(rbd_snap_namespace_type_t ns) {
    switch (ns) {
      case RBD_SNAP_NAMESPACE_TYPE_USER: return "user";
      case RBD_SNAP_NAMESPACE_TYPE_GROUP: return "group";
      case RBD_SNAP_NAMESPACE_TYPE_TRASH: return "trash";
      case RBD_SNAP_NAMESPACE_TYPE_MIRROR: return "mirror";
    }
    return "unknown";
  }

  void Run() override {
    ScopedImage image;
    if (!Open(image, name_, "", true)) return;
    int max = 16;
    for (int attempt = 0;; attempt++) {
      // rbd_snap_list writes a terminating empty entry: room for max + 1.
      std::vector<rbd_snap_info_t> infos(static_cast<size_t>(max) + 1);
      int rc = rbd_snap_list(image.get(), infos.data(), &max);
      if (rc == -ERANGE && attempt < kMaxListAttempts) continue;
      if (Fail("rbd_snap_list", rc, Spec(name_))) break;
      for (int i = 0; i < rc; i++) {
        snaps_.push_back({infos[i].id, infos[i].size, infos[i].name,
                          RBD_SNAP_NAMESPACE_TYPE_USER});
      }
      rbd_snap_list_end(infos.data());
      // rbd_snap_list also returns non-user snapshots, e.g. a snapshot
      // removed while clone-v2 children still use it (trash namespace,
      // named by a UUID). Say which is which.
      for (Snap& snap : snaps_) {
        if (Fail("rbd_snap_get_namespace_type",
                 rbd_snap_get_namespace_type(image.get(), snap.id, &snap.ns),
                 Spec(name_, snap.name))) {
          break;
        }
      }
      break;
    }
    CloseImage(image, name_);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Array array = Napi::Array::New(env, snaps_.size());
    for (size_t i = 0; i < snaps_.size(); i++) {
      Napi::Object snap = Napi::Object::New(env);
      snap.Set("id", Napi::Number::New(env, static_cast<double>(snaps_[i].id)));
      snap.Set("name", snaps_[i].name);
      snap.Set("size", Napi::Number::New(env, static_cast<double>(snaps_[i].size)));
      snap.Set("namespace", NamespaceName(snaps_[i].ns));
      array.Set(i, snap);
    }
    return array;
  }

  std::string name_;
  std::vector<Snap> snaps_;
};

class CloneWorker final : public IoWorker {
 public:
  CloneWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string parent,
              std::string snap, std::string child, uint64_t format, bool hasFeatures,
              uint64_t features)
      : IoWorker(env, core, "ceph_rbd_napi:clone"), parent_(std::move(parent)),
        snap_(std::move(snap)), child_(std::move(child)), format_(format),
        hasFeatures_(hasFeatures), features_(features) {}

 private:
  void Run() override {
    rbd_image_options_t opts;
    rbd_image_options_create(&opts);
    bool ok = !Fail("rbd_image_options_set_uint64",
                    rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_CLONE_FORMAT, format_),
                    "clone format");
    if (ok && hasFeatures_) {
      ok = !Fail("rbd_image_options_set_uint64",
                 rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES, features_),
                 "features");
    }
    if (ok) {
      // Parent and child in the same pool (the same ioctx).
      Fail("rbd_clone3",
           rbd_clone3(io_, parent_.c_str(), snap_.c_str(), io_, child_.c_str(), opts),
           Spec(parent_, snap_) + " -> " + Spec(child_));
    }
    rbd_image_options_destroy(opts);
  }

  std::string parent_, snap_, child_;
  uint64_t format_;
  bool hasFeatures_;
  uint64_t features_;
};

// Progress of a flatten, shared between the pool thread (librbd's callback
// stores the latest values) and the JS thread (delivers them). At most one
// delivery is queued at a time, so a large image does not flood the loop.
struct FlattenProgress {
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> total{0};
  std::atomic<bool> reported{false};  // librbd called back at least once
  std::atomic<bool> queued{false};
  // JS thread only:
  bool finished = false;
  uint64_t deliveredDone = UINT64_MAX;
  uint64_t deliveredTotal = UINT64_MAX;

  void Deliver(Napi::Env env, Napi::Function callback) {
    queued.store(false);
    if (finished) return;
    uint64_t d = done.load(), t = total.load();
    if (d == deliveredDone && t == deliveredTotal) return;
    deliveredDone = d;
    deliveredTotal = t;
    callback.Call({Napi::Number::New(env, static_cast<double>(d)),
                   Napi::Number::New(env, static_cast<double>(t))});
    // lib/ wraps the user's callback so it never throws; this is a backstop.
    if (env.IsExceptionPending()) env.GetAndClearPendingException();
  }
};

class FlattenWorker final : public IoWorker {
 public:
  FlattenWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name,
                Napi::Value onProgress)
      : IoWorker(env, core, "ceph_rbd_napi:flatten"), name_(std::move(name)),
        progress_(std::make_shared<FlattenProgress>()) {
    if (onProgress.IsFunction()) {
      callback_ = Napi::Persistent(onProgress.As<Napi::Function>());
      tsfn_ = Napi::ThreadSafeFunction::New(env, onProgress.As<Napi::Function>(),
                                            "ceph_rbd_napi:flattenProgress", 0, 1);
      hasTsfn_ = true;
    }
  }

  ~FlattenWorker() override { ReleaseTsfn(); }

 private:
  static int OnProgress(uint64_t done, uint64_t total, void* arg) {
    auto* self = static_cast<FlattenWorker*>(arg);
    std::shared_ptr<FlattenProgress> progress = self->progress_;
    progress->done.store(done);
    progress->total.store(total);
    progress->reported.store(true);
    if (!progress->queued.exchange(true)) {
      napi_status status = self->tsfn_.NonBlockingCall(
          [progress](Napi::Env env, Napi::Function callback) {
            progress->Deliver(env, callback);
          });
      if (status != napi_ok) progress->queued.store(false);
    }
    return 0;
  }

  void Run() override {
    ScopedImage image;
    if (!Open(image, name_, "", false)) return;
    int rc = hasTsfn_ ? rbd_flatten_with_progress(image.get(), &FlattenWorker::OnProgress, this)
                      : rbd_flatten(image.get());
    Fail(hasTsfn_ ? "rbd_flatten_with_progress" : "rbd_flatten", rc, Spec(name_));
    CloseImage(image, name_);
  }

  void Settle(Napi::Env env, bool ok) override {
    if (!hasTsfn_) return;
    // The final values, delivered before the promise settles; deliveries
    // still queued after this are dropped.
    if (ok && progress_->reported.load()) progress_->Deliver(env, callback_.Value());
    progress_->finished = true;
    ReleaseTsfn();
  }

  void ReleaseTsfn() {
    if (hasTsfn_) {
      hasTsfn_ = false;
      tsfn_.Release();
    }
  }

  std::string name_;
  std::shared_ptr<FlattenProgress> progress_;
  Napi::FunctionReference callback_;
  Napi::ThreadSafeFunction tsfn_;
  bool hasTsfn_ = false;
};

class ParentInfoWorker final : public IoWorker {
 public:
  ParentInfoWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name)
      : IoWorker(env, core, "ceph_rbd_napi:parentInfo"), name_(std::move(name)) {}

 private:
  void Run() override {
    ScopedImage image;
    if (!Open(image, name_, "", true)) return;
    rbd_linked_image_spec_t parent{};
    rbd_snap_spec_t snap{};
    int rc = rbd_get_parent(image.get(), &parent, &snap);
    if (rc == 0) {
      hasParent_ = true;
      pool_name_ = parent.pool_name != nullptr ? parent.pool_name : "";
      image_name_ = parent.image_name != nullptr ? parent.image_name : "";
      snap_name_ = snap.name != nullptr ? snap.name : "";
      rbd_linked_image_spec_cleanup(&parent);
      rbd_snap_spec_cleanup(&snap);
    } else if (rc != -ENOENT) {  // -ENOENT: no parent
      Fail("rbd_get_parent", rc, Spec(name_));
    }
    CloseImage(image, name_);
  }

  Napi::Value Result(Napi::Env env) override {
    if (!hasParent_) return env.Null();
    Napi::Object out = Napi::Object::New(env);
    out.Set("pool", pool_name_);
    out.Set("image", image_name_);
    out.Set("snapshot", snap_name_);
    return out;
  }

  std::string name_;
  bool hasParent_ = false;
  std::string pool_name_, image_name_, snap_name_;
};

class ChildrenWorker final : public IoWorker {
 public:
  ChildrenWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name,
                 std::string snap)
      : IoWorker(env, core, "ceph_rbd_napi:children"), name_(std::move(name)),
        snap_(std::move(snap)) {}

 private:
  struct Child {
    std::string pool, image;
    bool trash;
  };

  void Run() override {
    ScopedImage image;
    if (!Open(image, name_, snap_, true)) return;
    size_t max = 16;
    for (int attempt = 0;; attempt++) {
      std::vector<rbd_linked_image_spec_t> specs(max);
      int rc = rbd_list_children3(image.get(), specs.data(), &max);
      if (rc == -ERANGE && attempt < kMaxListAttempts) continue;
      if (Fail("rbd_list_children3", rc, Spec(name_, snap_))) break;
      for (size_t i = 0; i < max; i++) {
        children_.push_back({specs[i].pool_name != nullptr ? specs[i].pool_name : "",
                             specs[i].image_name != nullptr ? specs[i].image_name : "",
                             specs[i].trash});
      }
      rbd_linked_image_spec_list_cleanup(specs.data(), max);
      break;
    }
    CloseImage(image, name_);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Array array = Napi::Array::New(env, children_.size());
    for (size_t i = 0; i < children_.size(); i++) {
      Napi::Object child = Napi::Object::New(env);
      child.Set("pool", children_[i].pool);
      child.Set("image", children_[i].image);
      child.Set("trash", Napi::Boolean::New(env, children_[i].trash));
      array.Set(i, child);
    }
    return array;
  }

  std::string name_, snap_;
  std::vector<Child> children_;
};

// Image metadata (rbd_metadata_*): string keys and values kept in the image
// header. -ENOENT from these calls means the KEY is absent; an absent image
// fails earlier, in the open.
class MetadataGetWorker final : public IoWorker {
 public:
  MetadataGetWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name,
                    std::string key)
      : IoWorker(env, core, "ceph_rbd_napi:metadataGet"), name_(std::move(name)),
        key_(std::move(key)) {}

 private:
  void Run() override {
    ScopedImage image;
    if (!Open(image, name_, "", true)) return;
    size_t len = 256;
    for (int attempt = 0;; attempt++) {
      // rbd_metadata_get answers -ERANGE with the length it needs (value + NUL).
      std::vector<char> buffer(len);
      int rc = rbd_metadata_get(image.get(), key_.c_str(), buffer.data(), &len);
      if (rc == -ERANGE && attempt < kMaxListAttempts) continue;
      if (rc == -ENOENT) break;  // no such key: null
      if (Fail("rbd_metadata_get", rc, Spec(name_) + " key " + key_)) break;
      found_ = true;
      value_.assign(buffer.data());
      break;
    }
    CloseImage(image, name_);
  }

  Napi::Value Result(Napi::Env env) override {
    return found_ ? Napi::String::New(env, value_) : env.Null();
  }

  std::string name_, key_;
  bool found_ = false;
  std::string value_;
};

// Sets one or more keys with the image opened once (each open is a round trip
// to the OSDs and a watch); stops at the first key that fails.
class MetadataSetWorker final : public IoWorker {
 public:
  MetadataSetWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name,
                    std::vector<std::pair<std::string, std::string>> entries)
      : IoWorker(env, core, "ceph_rbd_napi:metadataSet"), name_(std::move(name)),
        entries_(std::move(entries)) {}

 private:
  void Run() override {
    ScopedImage image;
    if (!Open(image, name_, "", false)) return;
    for (const auto& [key, value] : entries_) {
      if (Fail("rbd_metadata_set", rbd_metadata_set(image.get(), key.c_str(), value.c_str()),
               Spec(name_) + " key " + key)) {
        break;
      }
    }
    CloseImage(image, name_);
  }

  std::string name_;
  std::vector<std::pair<std::string, std::string>> entries_;
};

class MetadataRemoveWorker final : public IoWorker {
 public:
  MetadataRemoveWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name,
                       std::string key)
      : IoWorker(env, core, "ceph_rbd_napi:metadataRemove"), name_(std::move(name)),
        key_(std::move(key)) {}

 private:
  void Run() override {
    ScopedImage image;
    if (!Open(image, name_, "", false)) return;
    int rc = rbd_metadata_remove(image.get(), key_.c_str());
    if (rc != -ENOENT) Fail("rbd_metadata_remove", rc, Spec(name_) + " key " + key_);
    CloseImage(image, name_);
  }

  std::string name_, key_;
};

class MetadataListWorker final : public IoWorker {
 public:
  MetadataListWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name)
      : IoWorker(env, core, "ceph_rbd_napi:metadataList"), name_(std::move(name)) {}

 private:
  // Keys per rbd_metadata_list call; the listing goes on after the last key
  // of a full page. (librbd/cls_rbd cap a page too, at 64 in some releases.)
  static constexpr uint64_t kPage = 64;

  void Run() override {
    ScopedImage image;
    if (!Open(image, name_, "", true)) return;
    size_t keysCap = 4096, valsCap = 4096;
    std::string start;
    bool done = false;
    while (!done && !failed()) {
      for (int attempt = 0;; attempt++) {
        // -ERANGE: one of the buffers is short; both lengths say what is needed.
        std::vector<char> keys(keysCap), vals(valsCap);
        size_t keysLen = keysCap, valsLen = valsCap;
        int rc = rbd_metadata_list(image.get(), start.c_str(), kPage, keys.data(), &keysLen,
                                   vals.data(), &valsLen);
        if (rc == -ERANGE && attempt < kMaxListAttempts) {
          keysCap = std::max(keysCap, keysLen);
          valsCap = std::max(valsCap, valsLen);
          continue;
        }
        if (Fail("rbd_metadata_list", rc, Spec(name_))) break;
        // keys and values: NUL-terminated strings one after the other.
        uint64_t count = 0;
        for (size_t k = 0, v = 0; k < keysLen && v < valsLen; count++) {
          std::string key(keys.data() + k), value(vals.data() + v);
          k += key.size() + 1;
          v += value.size() + 1;
          pairs_.emplace_back(key, value);
          start = key;
        }
        done = count == 0;  // an empty page: the end (a page may be shorter than asked)
        break;
      }
    }
    CloseImage(image, name_);
  }

  // [[key, value], ...]: lib/ builds the record (a plain object built here
  // would take a "__proto__" key as its prototype).
  Napi::Value Result(Napi::Env env) override {
    Napi::Array array = Napi::Array::New(env, pairs_.size());
    for (size_t i = 0; i < pairs_.size(); i++) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, pairs_[i].first);
      pair.Set(1u, pairs_[i].second);
      array.Set(i, pair);
    }
    return array;
  }

  std::string name_;
  std::vector<std::pair<std::string, std::string>> pairs_;
};

class OpenImageWorker final : public IoWorker {
 public:
  OpenImageWorker(Napi::Env env, const std::shared_ptr<IoCtxCore>& core, std::string name,
                  std::string snap, bool readOnly)
      : IoWorker(env, core, "ceph_rbd_napi:openImage"), core_(core), name_(std::move(name)),
        snap_(std::move(snap)), readOnly_(readOnly) {}

  ~OpenImageWorker() override {
    if (image_ != nullptr) rbd_close(image_);  // only if never handed over
  }

 private:
  void Run() override {
    const char* snap = snap_.empty() ? nullptr : snap_.c_str();
    int rc = readOnly_ ? rbd_open_read_only(io_, name_.c_str(), &image_, snap)
                       : rbd_open(io_, name_.c_str(), &image_, snap);
    if (rc < 0) image_ = nullptr;
    Fail(readOnly_ ? "rbd_open_read_only" : "rbd_open", rc, Spec(name_, snap_));
  }

  Napi::Value Result(Napi::Env env) override {
    auto core = std::make_shared<ImageCore>(core_, image_, name_, snap_);
    image_ = nullptr;
    return Image::NewInstance(env, std::move(core));
  }

  std::shared_ptr<IoCtxCore> core_;
  std::string name_, snap_;
  bool readOnly_;
  rbd_image_t image_ = nullptr;
};

class CloseIoCtxWorker final : public RbdWorker {
 public:
  CloseIoCtxWorker(Napi::Env env, std::shared_ptr<IoCtxCore> core)
      : RbdWorker(env, core, "ceph_rbd_napi:closeIoCtx"), core_(std::move(core)),
        io_(core_->io) {
    core_->state = HandleState::kClosing;
  }

 private:
  void Run() override { rados_ioctx_destroy(io_); }

  void Settle(Napi::Env, bool) override {
    core_->io = nullptr;
    core_->state = HandleState::kClosed;
    core_->DetachFromParent();
  }

  std::shared_ptr<IoCtxCore> core_;
  rados_ioctx_t io_;
};

}  // namespace

Napi::Function IoCtx::Define(Napi::Env env) {
  return DefineClass(
      env, "IoCtx",
      {InstanceAccessor<&IoCtx::Pool>("pool"),
       InstanceMethod<&IoCtx::ListImages>("listImages"),
       InstanceMethod<&IoCtx::Create>("create"),
       InstanceMethod<&IoCtx::Remove>("remove"),
       InstanceMethod<&IoCtx::Rename>("rename"),
       InstanceMethod<&IoCtx::Stat>("stat"),
       InstanceMethod<&IoCtx::SnapCreate>("snapCreate"),
       InstanceMethod<&IoCtx::SnapRemove>("snapRemove"),
       InstanceMethod<&IoCtx::SnapProtect>("snapProtect"),
       InstanceMethod<&IoCtx::SnapUnprotect>("snapUnprotect"),
       InstanceMethod<&IoCtx::SnapIsProtected>("snapIsProtected"),
       InstanceMethod<&IoCtx::SnapList>("snapList"),
       InstanceMethod<&IoCtx::Clone>("clone"),
       InstanceMethod<&IoCtx::Flatten>("flatten"),
       InstanceMethod<&IoCtx::ParentInfo>("parentInfo"),
       InstanceMethod<&IoCtx::Children>("children"),
       InstanceMethod<&IoCtx::MetadataGet>("metadataGet"),
       InstanceMethod<&IoCtx::MetadataSet>("metadataSet"),
       InstanceMethod<&IoCtx::MetadataRemove>("metadataRemove"),
       InstanceMethod<&IoCtx::MetadataList>("metadataList"),
       InstanceMethod<&IoCtx::OpenImage>("openImage"),
       InstanceMethod<&IoCtx::Close>("close")});
}

Napi::Object IoCtx::NewInstance(Napi::Env env, std::shared_ptr<IoCtxCore> core) {
  return GetAddonData(env)->ioctxCtor.New(
      {Napi::External<std::shared_ptr<IoCtxCore>>::New(env, &core)});
}

IoCtx::IoCtx(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IoCtx>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowTypeError(info.Env(), "IoCtx objects are created by Cluster.openPool()");
    return;
  }
  core_ = *info[0].As<Napi::External<std::shared_ptr<IoCtxCore>>>().Data();
}

Napi::Value IoCtx::Pool(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), core_->pool);
}

// Every method: argument backstop, then the open-handle check, then queue.
#define RBDNAPI_CHECK_OPEN(op)                                          \
  do {                                                                  \
    Napi::Value rejected_;                                              \
    if (!CheckOpen(env, *core_, op, &rejected_)) return rejected_;      \
  } while (0)

Napi::Value IoCtx::ListImages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RBDNAPI_CHECK_OPEN("listImages");
  return (new ListImagesWorker(env, core_))->Start();
}

Napi::Value IoCtx::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  uint64_t size = 0, features = RBD_FEATURES_DEFAULT, order = 0;
  bool hasOrder = false;
  if (!ArgString(info, 0, "image", &name) || !ArgUint64(info, 1, "sizeBytes", &size) ||
      !ArgUint64(info, 2, "features", &features, true) ||
      !ArgUint64(info, 3, "order", &order, true, &hasOrder)) {
    return env.Undefined();
  }
  RBDNAPI_CHECK_OPEN("create");
  return (new CreateWorker(env, core_, name, size, features, hasOrder, order))->Start();
}

Napi::Value IoCtx::Remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!ArgString(info, 0, "image", &name)) return env.Undefined();
  RBDNAPI_CHECK_OPEN("remove");
  return (new RemoveWorker(env, core_, name))->Start();
}

Napi::Value IoCtx::Rename(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string from, to;
  if (!ArgString(info, 0, "from", &from) || !ArgString(info, 1, "to", &to)) {
    return env.Undefined();
  }
  RBDNAPI_CHECK_OPEN("rename");
  return (new RenameWorker(env, core_, from, to))->Start();
}

Napi::Value IoCtx::Stat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!ArgString(info, 0, "image", &name)) return env.Undefined();
  RBDNAPI_CHECK_OPEN("stat");
  return (new StatWorker(env, core_, name))->Start();
}

Napi::Value IoCtx::SnapOp(const Napi::CallbackInfo& info, const char* op, int kind) {
  Napi::Env env = info.Env();
  std::string name, snap;
  if (!ArgString(info, 0, "image", &name) || !ArgString(info, 1, "snap", &snap)) {
    return env.Undefined();
  }
  RBDNAPI_CHECK_OPEN(op);
  return (new SnapWorker(env, core_, name, snap, kind))->Start();
}

Napi::Value IoCtx::SnapCreate(const Napi::CallbackInfo& info) {
  return SnapOp(info, "snapCreate", kSnapCreate);
}
Napi::Value IoCtx::SnapRemove(const Napi::CallbackInfo& info) {
  return SnapOp(info, "snapRemove", kSnapRemove);
}
Napi::Value IoCtx::SnapProtect(const Napi::CallbackInfo& info) {
  return SnapOp(info, "snapProtect", kSnapProtect);
}
Napi::Value IoCtx::SnapUnprotect(const Napi::CallbackInfo& info) {
  return SnapOp(info, "snapUnprotect", kSnapUnprotect);
}

Napi::Value IoCtx::SnapIsProtected(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name, snap;
  if (!ArgString(info, 0, "image", &name) || !ArgString(info, 1, "snap", &snap)) {
    return env.Undefined();
  }
  RBDNAPI_CHECK_OPEN("snapIsProtected");
  return (new SnapIsProtectedWorker(env, core_, name, snap))->Start();
}

Napi::Value IoCtx::SnapList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!ArgString(info, 0, "image", &name)) return env.Undefined();
  RBDNAPI_CHECK_OPEN("snapList");
  return (new SnapListWorker(env, core_, name))->Start();
}

Napi::Value IoCtx::Clone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string parent, snap, child;
  uint64_t format = 1, features = 0;
  bool hasFeatures = false;
  if (!ArgString(info, 0, "parent", &parent) || !ArgString(info, 1, "snap", &snap) ||
      !ArgString(info, 2, "child", &child) || !ArgUint64(info, 3, "format", &format, true) ||
      !ArgUint64(info, 4, "features", &features, true, &hasFeatures)) {
    return env.Undefined();
  }
  if (format != 1 && format != 2) return ThrowTypeError(env, "format must be 1 or 2");
  RBDNAPI_CHECK_OPEN("clone");
  return (new CloneWorker(env, core_, parent, snap, child, format, hasFeatures, features))
      ->Start();
}

Napi::Value IoCtx::Flatten(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!ArgString(info, 0, "image", &name)) return env.Undefined();
  if (!info[1].IsUndefined() && !info[1].IsNull() && !info[1].IsFunction()) {
    return ThrowTypeError(env, "onProgress must be a function");
  }
  RBDNAPI_CHECK_OPEN("flatten");
  return (new FlattenWorker(env, core_, name, info[1]))->Start();
}

Napi::Value IoCtx::ParentInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!ArgString(info, 0, "image", &name)) return env.Undefined();
  RBDNAPI_CHECK_OPEN("parentInfo");
  return (new ParentInfoWorker(env, core_, name))->Start();
}

Napi::Value IoCtx::Children(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name, snap;
  if (!ArgString(info, 0, "image", &name) || !ArgString(info, 1, "snap", &snap)) {
    return env.Undefined();
  }
  RBDNAPI_CHECK_OPEN("children");
  return (new ChildrenWorker(env, core_, name, snap))->Start();
}

Napi::Value IoCtx::MetadataGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name, key;
  if (!ArgString(info, 0, "image", &name) || !ArgString(info, 1, "key", &key)) {
    return env.Undefined();
  }
  RBDNAPI_CHECK_OPEN("metadataGet");
  return (new MetadataGetWorker(env, core_, name, key))->Start();
}

// metadataSet(image, keys[], values[]): the arrays pair up; the wrapper checks
// the strings, this checks them again as C strings.
Napi::Value IoCtx::MetadataSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!ArgString(info, 0, "image", &name)) return env.Undefined();
  if (!info[1].IsArray() || !info[2].IsArray()) {
    return ThrowTypeError(env, "keys and values must be arrays");
  }
  Napi::Array keys = info[1].As<Napi::Array>(), values = info[2].As<Napi::Array>();
  if (keys.Length() != values.Length()) return ThrowTypeError(env, "keys and values differ in length");
  std::vector<std::pair<std::string, std::string>> entries;
  for (uint32_t i = 0; i < keys.Length(); i++) {
    Napi::Value k = keys.Get(i), v = values.Get(i);
    if (!k.IsString() || !v.IsString()) return ThrowTypeError(env, "keys and values must be strings");
    std::string key = k.As<Napi::String>().Utf8Value(), value = v.As<Napi::String>().Utf8Value();
    // Keys must be non-empty; values may be empty. Both are C strings: no NUL.
    if (key.empty() || key.find('\0') != std::string::npos) {
      return ThrowTypeError(env, "key must be a non-empty string without NUL");
    }
    if (value.find('\0') != std::string::npos) {
      return ThrowTypeError(env, "value must be a string without NUL");
    }
    entries.emplace_back(std::move(key), std::move(value));
  }
  RBDNAPI_CHECK_OPEN("metadataSet");
  return (new MetadataSetWorker(env, core_, name, std::move(entries)))->Start();
}

Napi::Value IoCtx::MetadataRemove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name, key;
  if (!ArgString(info, 0, "image", &name) || !ArgString(info, 1, "key", &key)) {
    return env.Undefined();
  }
  RBDNAPI_CHECK_OPEN("metadataRemove");
  return (new MetadataRemoveWorker(env, core_, name, key))->Start();
}

Napi::Value IoCtx::MetadataList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!ArgString(info, 0, "image", &name)) return env.Undefined();
  RBDNAPI_CHECK_OPEN("metadataList");
  return (new MetadataListWorker(env, core_, name))->Start();
}

Napi::Value IoCtx::OpenImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name, snap;
  if (!ArgString(info, 0, "image", &name) || !ArgOptionalString(info, 2, "snapshot", &snap)) {
    return env.Undefined();
  }
  bool readOnly = info[1].ToBoolean().Value();
  RBDNAPI_CHECK_OPEN("openImage");
  return (new OpenImageWorker(env, core_, name, snap, readOnly))->Start();
}

Napi::Value IoCtx::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value rejected;
  if (!CheckClosable(env, *core_, &rejected)) return rejected;
  return (new CloseIoCtxWorker(env, core_))->Start();
}

#undef RBDNAPI_CHECK_OPEN

}  // namespace rbdnapi
