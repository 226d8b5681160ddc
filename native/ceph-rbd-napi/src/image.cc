#include "image.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "addon.h"
#include "errors.h"
#include "worker.h"

namespace rbdnapi {

namespace {

// malloc'd bytes: with -fno-exceptions a failed std::vector allocation
// would abort the process; this reports ENOMEM instead.
class HeapBuffer {
 public:
  HeapBuffer() = default;
  ~HeapBuffer() { std::free(data_); }
  HeapBuffer(const HeapBuffer&) = delete;
  HeapBuffer& operator=(const HeapBuffer&) = delete;

  bool Allocate(size_t size) {
    std::free(data_);
    data_ = static_cast<char*>(std::malloc(size > 0 ? size : 1));
    size_ = data_ != nullptr ? size : 0;
    return data_ != nullptr;
  }
  char* data() const { return data_; }
  size_t size() const { return size_; }
  void Shrink(size_t size) { size_ = size < size_ ? size : size_; }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
};

class ImageWorker : public RbdWorker {
 protected:
  ImageWorker(Napi::Env env, const std::shared_ptr<ImageCore>& core, const char* resource)
      : RbdWorker(env, core, resource), image_(core->image), spec_(core->Spec()) {}

  rbd_image_t image_;
  std::string spec_;
};

class SizeWorker final : public ImageWorker {
 public:
  SizeWorker(Napi::Env env, const std::shared_ptr<ImageCore>& core)
      : ImageWorker(env, core, "ceph_rbd_napi:size") {}

 private:
  void Run() override { Fail("rbd_get_size", rbd_get_size(image_, &size_), spec_); }
  Napi::Value Result(Napi::Env env) override {
    return Napi::Number::New(env, static_cast<double>(size_));
  }
  uint64_t size_ = 0;
};

class ReadWorker final : public ImageWorker {
 public:
  ReadWorker(Napi::Env env, const std::shared_ptr<ImageCore>& core, uint64_t offset,
             size_t length)
      : ImageWorker(env, core, "ceph_rbd_napi:read"), offset_(offset), length_(length) {}

 private:
  void Run() override {
    if (!buffer_.Allocate(length_)) {
      Fail("malloc", -ENOMEM, spec_);
      return;
    }
    ssize_t n = rbd_read(image_, offset_, length_, buffer_.data());
    if (!Fail("rbd_read", static_cast<int>(n < 0 ? n : 0), spec_)) {
      buffer_.Shrink(static_cast<size_t>(n));  // short at the end of the image
    }
  }
  Napi::Value Result(Napi::Env env) override {
    return Napi::Buffer<char>::Copy(env, buffer_.data(), buffer_.size());
  }
  uint64_t offset_;
  size_t length_;
  HeapBuffer buffer_;
};

class WriteWorker final : public ImageWorker {
 public:
  WriteWorker(Napi::Env env, const std::shared_ptr<ImageCore>& core, uint64_t offset,
              const char* data, size_t length)
      : ImageWorker(env, core, "ceph_rbd_napi:write"), offset_(offset) {
    // Copied here, on the JS thread: the caller may reuse its Buffer at once.
    if (data_.Allocate(length)) {
      std::memcpy(data_.data(), data, length);
    } else {
      Fail("malloc", -ENOMEM, spec_);
    }
  }

 private:
  void Run() override {
    if (failed()) return;
    ssize_t n = rbd_write(image_, offset_, data_.size(), data_.data());
    if (!Fail("rbd_write", static_cast<int>(n < 0 ? n : 0), spec_)) written_ = n;
  }
  Napi::Value Result(Napi::Env env) override {
    return Napi::Number::New(env, static_cast<double>(written_));
  }
  uint64_t offset_;
  HeapBuffer data_;
  ssize_t written_ = 0;
};

class FlushWorker final : public ImageWorker {
 public:
  FlushWorker(Napi::Env env, const std::shared_ptr<ImageCore>& core)
      : ImageWorker(env, core, "ceph_rbd_napi:flush") {}

 private:
  void Run() override { Fail("rbd_flush", rbd_flush(image_), spec_); }
};

class CloseImageWorker final : public ImageWorker {
 public:
  CloseImageWorker(Napi::Env env, std::shared_ptr<ImageCore> core)
      : ImageWorker(env, core, "ceph_rbd_napi:closeImage"), core_(std::move(core)) {
    core_->state = HandleState::kClosing;
  }

 private:
  void Run() override { Fail("rbd_close", rbd_close(image_), spec_); }

  // librbd frees the image even when rbd_close reports an error, so the
  // handle is closed either way.
  void Settle(Napi::Env, bool) override {
    core_->image = nullptr;
    core_->state = HandleState::kClosed;
    core_->DetachFromParent();
  }

  std::shared_ptr<ImageCore> core_;
};

}  // namespace

Napi::Function Image::Define(Napi::Env env) {
  return DefineClass(env, "Image",
                     {InstanceAccessor<&Image::Name>("name"),
                      InstanceMethod<&Image::Size>("size"),
                      InstanceMethod<&Image::Read>("read"),
                      InstanceMethod<&Image::Write>("write"),
                      InstanceMethod<&Image::Flush>("flush"),
                      InstanceMethod<&Image::Close>("close")});
}

Napi::Object Image::NewInstance(Napi::Env env, std::shared_ptr<ImageCore> core) {
  return GetAddonData(env)->imageCtor.New(
      {Napi::External<std::shared_ptr<ImageCore>>::New(env, &core)});
}

Image::Image(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Image>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowTypeError(info.Env(), "Image objects are created by IoCtx.openImage()");
    return;
  }
  core_ = *info[0].As<Napi::External<std::shared_ptr<ImageCore>>>().Data();
}

Napi::Value Image::Name(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), core_->name);
}

#define RBDNAPI_CHECK_OPEN(op)                                          \
  do {                                                                  \
    Napi::Value rejected_;                                              \
    if (!CheckOpen(env, *core_, op, &rejected_)) return rejected_;      \
  } while (0)

Napi::Value Image::Size(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RBDNAPI_CHECK_OPEN("size");
  return (new SizeWorker(env, core_))->Start();
}

Napi::Value Image::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t offset = 0, length = 0;
  if (!ArgUint64(info, 0, "offset", &offset) || !ArgUint64(info, 1, "length", &length)) {
    return env.Undefined();
  }
  if (length > 0x7fffffffULL) return ThrowTypeError(env, "length must be below 2 GiB");
  RBDNAPI_CHECK_OPEN("read");
  return (new ReadWorker(env, core_, offset, static_cast<size_t>(length)))->Start();
}

Napi::Value Image::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t offset = 0;
  if (!ArgUint64(info, 0, "offset", &offset)) return env.Undefined();
  if (!info[1].IsBuffer()) return ThrowTypeError(env, "data must be a Buffer");
  Napi::Buffer<char> data = info[1].As<Napi::Buffer<char>>();
  if (data.Length() > 0x7fffffffULL) return ThrowTypeError(env, "data must be below 2 GiB");
  RBDNAPI_CHECK_OPEN("write");
  return (new WriteWorker(env, core_, offset, data.Data(), data.Length()))->Start();
}

Napi::Value Image::Flush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RBDNAPI_CHECK_OPEN("flush");
  return (new FlushWorker(env, core_))->Start();
}

Napi::Value Image::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value rejected;
  if (!CheckClosable(env, *core_, &rejected)) return rejected;
  return (new CloseImageWorker(env, core_))->Start();
}

#undef RBDNAPI_CHECK_OPEN

}  // namespace rbdnapi
