#include "errors.h"

#include <cerrno>
#include <cstring>

namespace rbdnapi {

namespace {

struct ErrnoEntry {
  int value;
  const char* name;
};

// Linux aliases (EWOULDBLOCK, ENOTSUP, EDEADLOCK) share a value with the
// first spelling listed; a table, unlike a switch, tolerates that.
#define RBDNAPI_ERRNO(e) {e, #e}
const ErrnoEntry kErrnoTable[] = {
    RBDNAPI_ERRNO(EPERM),        RBDNAPI_ERRNO(ENOENT),
    RBDNAPI_ERRNO(ESRCH),        RBDNAPI_ERRNO(EINTR),
    RBDNAPI_ERRNO(EIO),          RBDNAPI_ERRNO(ENXIO),
    RBDNAPI_ERRNO(E2BIG),        RBDNAPI_ERRNO(EBADF),
    RBDNAPI_ERRNO(EAGAIN),       RBDNAPI_ERRNO(ENOMEM),
    RBDNAPI_ERRNO(EACCES),       RBDNAPI_ERRNO(EFAULT),
    RBDNAPI_ERRNO(EBUSY),        RBDNAPI_ERRNO(EEXIST),
    RBDNAPI_ERRNO(EXDEV),        RBDNAPI_ERRNO(ENODEV),
    RBDNAPI_ERRNO(ENOTDIR),      RBDNAPI_ERRNO(EISDIR),
    RBDNAPI_ERRNO(EINVAL),       RBDNAPI_ERRNO(ENFILE),
    RBDNAPI_ERRNO(EMFILE),       RBDNAPI_ERRNO(EFBIG),
    RBDNAPI_ERRNO(ENOSPC),       RBDNAPI_ERRNO(EROFS),
    RBDNAPI_ERRNO(EMLINK),       RBDNAPI_ERRNO(EPIPE),
    RBDNAPI_ERRNO(EDOM),         RBDNAPI_ERRNO(ERANGE),
    RBDNAPI_ERRNO(EDEADLK),      RBDNAPI_ERRNO(ENAMETOOLONG),
    RBDNAPI_ERRNO(ENOLCK),       RBDNAPI_ERRNO(ENOSYS),
    RBDNAPI_ERRNO(ENOTEMPTY),    RBDNAPI_ERRNO(ELOOP),
    RBDNAPI_ERRNO(ENOMSG),       RBDNAPI_ERRNO(EIDRM),
    RBDNAPI_ERRNO(ENODATA),      RBDNAPI_ERRNO(ETIME),
    RBDNAPI_ERRNO(ENOLINK),      RBDNAPI_ERRNO(EPROTO),
    RBDNAPI_ERRNO(EBADMSG),      RBDNAPI_ERRNO(EOVERFLOW),
    RBDNAPI_ERRNO(EILSEQ),       RBDNAPI_ERRNO(EOPNOTSUPP),
    RBDNAPI_ERRNO(ENOTSUP),      RBDNAPI_ERRNO(EADDRINUSE),
    RBDNAPI_ERRNO(EADDRNOTAVAIL),RBDNAPI_ERRNO(ENETDOWN),
    RBDNAPI_ERRNO(ENETUNREACH),  RBDNAPI_ERRNO(ECONNABORTED),
    RBDNAPI_ERRNO(ECONNRESET),   RBDNAPI_ERRNO(ENOBUFS),
    RBDNAPI_ERRNO(ENOTCONN),     RBDNAPI_ERRNO(ESHUTDOWN),
    RBDNAPI_ERRNO(ETIMEDOUT),    RBDNAPI_ERRNO(ECONNREFUSED),
    RBDNAPI_ERRNO(EHOSTDOWN),    RBDNAPI_ERRNO(EHOSTUNREACH),
    RBDNAPI_ERRNO(EALREADY),     RBDNAPI_ERRNO(EINPROGRESS),
    RBDNAPI_ERRNO(ESTALE),       RBDNAPI_ERRNO(EDQUOT),
    RBDNAPI_ERRNO(ECANCELED),    RBDNAPI_ERRNO(EKEYEXPIRED),
    RBDNAPI_ERRNO(EKEYREJECTED), RBDNAPI_ERRNO(EREMOTEIO),
    RBDNAPI_ERRNO(ENOMEDIUM),    RBDNAPI_ERRNO(ENOKEY),
    RBDNAPI_ERRNO(ENOTRECOVERABLE),
};
#undef RBDNAPI_ERRNO

// glibc's strerror_r is the GNU variant (returns char*) under _GNU_SOURCE,
// which g++ defines; the XSI variant returns int. Accept either.
[[maybe_unused]] const char* StrerrorResult(int rc, const char* buf) {
  return rc == 0 ? buf : nullptr;
}
[[maybe_unused]] const char* StrerrorResult(const char* msg, const char*) {
  return msg;
}

Napi::Error MakeError(Napi::Env env, const std::string& message,
                      const std::string& op, int err,
                      const std::string& target) {
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object obj = error.Value();
  obj.Set("code", Napi::String::New(env, ErrnoName(err)));
  obj.Set("errno", Napi::Number::New(env, err));
  obj.Set("op", Napi::String::New(env, op));
  if (!target.empty()) obj.Set("target", Napi::String::New(env, target));
  return error;
}

}  // namespace

const char* ErrnoName(int err) {
  for (const ErrnoEntry& entry : kErrnoTable) {
    if (entry.value == err) return entry.name;
  }
  return "EUNKNOWN";
}

std::string ErrnoText(int err) {
  char buf[128] = {0};
  const char* text = StrerrorResult(strerror_r(err, buf, sizeof buf), buf);
  return text != nullptr ? std::string(text) : "Unknown error " + std::to_string(err);
}

Napi::Error MakeRbdError(Napi::Env env, const std::string& op, int err,
                         const std::string& target) {
  std::string message = op + " failed: " + ErrnoText(err) + " (" + ErrnoName(err) + ")";
  if (!target.empty()) message += " [" + target + "]";
  return MakeError(env, message, op, err, target);
}

Napi::Error MakeStateError(Napi::Env env, const std::string& op, int err,
                           const std::string& reason) {
  std::string message = op + " failed: " + reason + " (" + ErrnoName(err) + ")";
  return MakeError(env, message, op, err, "");
}

Napi::Value ThrowTypeError(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace rbdnapi
