// errno -> JS error objects shaped for lib's RbdError: { message, code, errno, op, target }.
#pragma once

#include <napi.h>

#include <string>

namespace rbdnapi {

// "ENOENT" for 2, "EUNKNOWN" for values not in the table. `err` is positive.
const char* ErrnoName(int err);

// strerror text ("No such file or directory"), thread-safe.
std::string ErrnoText(int err);

// A rejected librbd/librados call: "<op> failed: <text> (<CODE>) [<target>]".
Napi::Error MakeRbdError(Napi::Env env, const std::string& op, int err,
                         const std::string& target);

// A refused call (closed handle, pending work): "<op> failed: <reason> (<CODE>)".
Napi::Error MakeStateError(Napi::Env env, const std::string& op, int err,
                           const std::string& reason);

// Synchronous argument errors (lib validates first; this is the backstop).
Napi::Value ThrowTypeError(Napi::Env env, const std::string& message);

}  // namespace rbdnapi
