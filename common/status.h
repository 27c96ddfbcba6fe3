// Status and StatusOr<T> for the libraries the static capture program links
// (capture/vmcore, vmcoreinfo, printk, store/store): absl::Status's error
// codes and the part of its API Saveoops uses, without its payloads.
//
// Why not absl::Status there: every absl::Status destructor can free Cord
// payloads, and Cord brings absl's synchronization and time-zone code, and
// absl/status/status.h includes <iostream>, whose static initializer brings
// libstdc++'s locale machinery: together they tripled saveoops-capture
// (/init of the capture initramfs). This header includes no absl header
// that defines code. Host code keeps absl: Status and StatusOr<T> convert
// implicitly to absl::Status and absl::StatusOr<T>, and StatusCode
// compares with absl::StatusCode; those templates are only instantiated
// (and need absl/status/statusor.h) where host code uses them.
//
// Example:
//   StatusOr<uint64_t> ParseOffset(const std::string& text) {
//     if (text.empty()) return InvalidArgumentError("empty offset");
//     return uint64_t{42};
//   }
//   absl::StatusOr<uint64_t> host = ParseOffset("7");   // host code
//
// RETURN_IF_ERROR and ASSIGN_OR_RETURN, for these types and absl's, are in
// common/status_macros.h.
#ifndef SAVEOOPS_COMMON_STATUS_H_
#define SAVEOOPS_COMMON_STATUS_H_

#include <stdlib.h>

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/base/config.h"

namespace absl {
ABSL_NAMESPACE_BEGIN
enum class StatusCode : int;
class Status;
template <typename T>
class StatusOr;
ABSL_NAMESPACE_END
}  // namespace absl

namespace saveoops {

// absl::StatusCode's values (the canonical gRPC codes); only those below
// are made here.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 3,
  kNotFound = 5,
  kPermissionDenied = 7,
  kFailedPrecondition = 9,
  kOutOfRange = 11,
  kInternal = 13,
  kDataLoss = 15,
};

inline bool operator==(StatusCode a, absl::StatusCode b) {
  return static_cast<int>(a) == static_cast<int>(b);
}
inline bool operator==(absl::StatusCode a, StatusCode b) { return b == a; }
inline bool operator!=(StatusCode a, absl::StatusCode b) { return !(a == b); }
inline bool operator!=(absl::StatusCode a, StatusCode b) { return !(b == a); }

// An error code and message, or OK (the default).
class [[nodiscard]] Status {
 public:
  Status() = default;
  // An OK `code` drops the message, as absl::Status does.
  Status(StatusCode code, std::string message)
      : code_(code), message_(code == StatusCode::kOk ? std::string() : std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // As absl::Status, for host code. A template so that only code that
  // converts needs absl/status/status.h.
  template <typename S = absl::Status>
  S ToAbsl() const {
    return S(static_cast<decltype(std::declval<S&>().code())>(code_), message_);
  }
  template <typename S, typename = std::enable_if_t<std::is_same_v<S, absl::Status>>>
  operator S() const {
    return ToAbsl<S>();
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// absl's name of `code`, e.g. "NOT_FOUND".
inline const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case StatusCode::kInternal:
      return "INTERNAL";
    case StatusCode::kDataLoss:
      return "DATA_LOSS";
  }
  return "UNKNOWN";
}

// "NOT_FOUND: message" (as absl::Status prints), e.g. in test failures. A
// template so that no <ostream> is needed here.
template <typename OStream>
auto operator<<(OStream& os, const Status& status) -> decltype(os << "") {
  os << StatusCodeName(status.code());
  if (!status.ok()) os << ": " << status.message();
  return os;
}

inline Status OkStatus() { return Status(); }
inline Status DataLossError(std::string message) {
  return Status(StatusCode::kDataLoss, std::move(message));
}
inline Status FailedPreconditionError(std::string message) {
  return Status(StatusCode::kFailedPrecondition, std::move(message));
}
inline Status InternalError(std::string message) {
  return Status(StatusCode::kInternal, std::move(message));
}
inline Status InvalidArgumentError(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}
inline Status NotFoundError(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message));
}
inline Status OutOfRangeError(std::string message) {
  return Status(StatusCode::kOutOfRange, std::move(message));
}
inline Status PermissionDeniedError(std::string message) {
  return Status(StatusCode::kPermissionDenied, std::move(message));
}

// A T, or the error that prevented it. Built from an OK Status it holds an
// internal error instead (there is no value to hold), as absl::StatusOr.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) {
    if (status_.ok()) {
      status_ = InternalError("StatusOr made from an OK status without a value");
    }
  }
  StatusOr(const T& value) : value_(value) {}
  StatusOr(T&& value) : value_(std::move(value)) {}
  // From anything T converts from (a derived unique_ptr, a string literal).
  template <typename U, typename = std::enable_if_t<std::is_convertible_v<U&&, T> &&
                                                    !std::is_same_v<std::decay_t<U>, T> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, StatusOr>>>
  StatusOr(U&& value) : value_(T(std::forward<U>(value))) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // The value; must be ok() (aborts otherwise: there is no value to give).
  T& value() & { return Checked(), *value_; }
  const T& value() const& { return Checked(), *value_; }
  T&& value() && { return Checked(), std::move(*value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // To absl::StatusOr<T> (host code; see Status).
  template <typename S, typename = std::enable_if_t<std::is_same_v<S, absl::StatusOr<T>>>>
  operator S() const& {
    if (!ok()) return S(status_.template ToAbsl<AbslStatusOf<S>>());
    return S(*value_);
  }
  template <typename S, typename = std::enable_if_t<std::is_same_v<S, absl::StatusOr<T>>>>
  operator S() && {
    if (!ok()) return S(status_.template ToAbsl<AbslStatusOf<S>>());
    return S(std::move(*value_));
  }

 private:
  // absl::Status, named through S so that it is only looked at when a
  // conversion is instantiated.
  template <typename S>
  using AbslStatusOf = std::decay_t<decltype(std::declval<const S&>().status())>;

  void Checked() const {
    if (!value_.has_value()) abort();
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_STATUS_H_
