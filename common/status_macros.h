// RETURN_IF_ERROR and ASSIGN_OR_RETURN for both status kinds: absl::Status /
// absl::StatusOr<T> (host code) and common/status.h's Status / StatusOr<T>
// (what saveoops-capture links). Macros only: this header includes no absl.
//
//   RETURN_IF_ERROR(expr);          expr is a Status: returns it from the
//                                   enclosing function unless it is OK.
//   ASSIGN_OR_RETURN(lhs, expr);    expr is a StatusOr<T>: returns its status
//                                   unless it is OK, else moves its value
//                                   into lhs (a declaration or an lvalue).
//
// The enclosing function returns a Status or a StatusOr<U> of either kind the
// returned status converts to: common/status.h's converts to absl's, never
// the other way round. `lhs` may hold commas (std::array<uint8_t, 512> mbr);
// a comma at the top level of `expr` must be put in parentheses.
// ASSIGN_OR_RETURN declares a hidden variable: it is a statement of its own,
// not the body of an unbraced if or for.
//
// Example:
//   StatusOr<uint64_t> PrbPointer(const Vmcore& core) {
//     ASSIGN_OR_RETURN(VmcoreInfo info, ParseVmcoreInfo(*core.VmcoreInfo()));
//     ASSIGN_OR_RETURN(uint64_t prb, info.Symbol("prb"));
//     uint64_t pointer;
//     RETURN_IF_ERROR(core.ReadVirt(
//         prb, absl::MakeSpan(reinterpret_cast<uint8_t*>(&pointer), sizeof(pointer))));
//     return pointer;
//   }
#ifndef SAVEOOPS_COMMON_STATUS_MACROS_H_
#define SAVEOOPS_COMMON_STATUS_MACROS_H_

#include <utility>

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    auto&& saveoops_status_macros_status = (expr);     \
    if (!saveoops_status_macros_status.ok()) {         \
      return std::move(saveoops_status_macros_status); \
    }                                                  \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr) with up to two commas in lhs: the last argument
// is the expression, the ones before it are lhs.
#define ASSIGN_OR_RETURN(...)                                                             \
  SAVEOOPS_STATUS_MACROS_PICK(__VA_ARGS__, SAVEOOPS_STATUS_MACROS_AOR4,                   \
                              SAVEOOPS_STATUS_MACROS_AOR3, SAVEOOPS_STATUS_MACROS_AOR2, ) \
  (__VA_ARGS__)

// Implementation details.
#define SAVEOOPS_STATUS_MACROS_PICK(_1, _2, _3, _4, name, ...) name
#define SAVEOOPS_STATUS_MACROS_CONCAT_INNER(a, b) a##b
#define SAVEOOPS_STATUS_MACROS_CONCAT(a, b) SAVEOOPS_STATUS_MACROS_CONCAT_INNER(a, b)
#define SAVEOOPS_STATUS_MACROS_VAR SAVEOOPS_STATUS_MACROS_CONCAT(saveoops_status_or_, __LINE__)
#define SAVEOOPS_STATUS_MACROS_AOR2(lhs, expr) \
  SAVEOOPS_STATUS_MACROS_AOR(SAVEOOPS_STATUS_MACROS_VAR, expr, lhs)
#define SAVEOOPS_STATUS_MACROS_AOR3(lhs1, lhs2, expr) \
  SAVEOOPS_STATUS_MACROS_AOR(SAVEOOPS_STATUS_MACROS_VAR, expr, lhs1, lhs2)
#define SAVEOOPS_STATUS_MACROS_AOR4(lhs1, lhs2, lhs3, expr) \
  SAVEOOPS_STATUS_MACROS_AOR(SAVEOOPS_STATUS_MACROS_VAR, expr, lhs1, lhs2, lhs3)
#define SAVEOOPS_STATUS_MACROS_AOR(var, expr, ...) \
  auto var = (expr);                               \
  if (!var.ok()) return std::move(var).status();   \
  __VA_ARGS__ = *std::move(var)

#endif  // SAVEOOPS_COMMON_STATUS_MACROS_H_
