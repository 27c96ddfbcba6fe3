#include "common/status_macros.h"

#include <array>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/status.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

// Each helper returns `fail` as an error, or a value.
Status Check(bool fail) { return fail ? InvalidArgumentError("bad check") : OkStatus(); }
StatusOr<int> Number(bool fail) {
  if (fail) return NotFoundError("no number");
  return 7;
}
StatusOr<std::unique_ptr<int>> Owned(bool fail) {
  if (fail) return DataLossError("no pointer");
  return std::make_unique<int>(9);
}
absl::Status AbslCheck(bool fail) {
  return fail ? absl::InvalidArgumentError("bad absl check") : absl::OkStatus();
}
absl::StatusOr<int> AbslNumber(bool fail) {
  if (fail) return absl::NotFoundError("no absl number");
  return 8;
}
StatusOr<std::array<int, 2>> Pair(bool fail) {
  if (fail) return OutOfRangeError("no pair");
  return std::array<int, 2>{1, 2};
}

// common/status.h's kinds in a function returning them.
Status SaveoopsStatus(bool fail_check, bool fail_number, int* out) {
  RETURN_IF_ERROR(Check(fail_check));
  ASSIGN_OR_RETURN(int n, Number(fail_number));
  *out = n;
  return OkStatus();
}

StatusOr<int> SaveoopsStatusOr(bool fail_check, bool fail_number, bool fail_owned) {
  RETURN_IF_ERROR(Check(fail_check));
  int n = 0;
  ASSIGN_OR_RETURN(n, Number(fail_number));                     // into an existing lvalue
  ASSIGN_OR_RETURN(std::unique_ptr<int> p, Owned(fail_owned));  // move-only
  return n + *p;
}

// absl's kinds, and common/status.h's converted to absl's.
absl::Status AbslStatus(bool fail_absl, bool fail_ours, int* out) {
  RETURN_IF_ERROR(AbslCheck(fail_absl));
  RETURN_IF_ERROR(Check(fail_ours));
  ASSIGN_OR_RETURN(int a, AbslNumber(fail_absl));
  ASSIGN_OR_RETURN(int b, Number(fail_ours));
  *out = a + b;
  return absl::OkStatus();
}

absl::StatusOr<int> AbslStatusOr(bool fail_absl, bool fail_ours) {
  RETURN_IF_ERROR(AbslCheck(fail_absl));
  RETURN_IF_ERROR(Check(fail_ours));
  ASSIGN_OR_RETURN(int a, AbslNumber(fail_absl));
  ASSIGN_OR_RETURN(std::unique_ptr<int> p, Owned(fail_ours));
  return a + *p;
}

// A declaration with a comma in it.
StatusOr<int> Commas(bool fail) {
  ASSIGN_OR_RETURN(std::array<int, 2> pair, Pair(fail));
  return pair[0] + pair[1];
}

TEST(StatusMacrosTest, SaveoopsStatusPassesErrorsThrough) {
  int out = 0;
  EXPECT_TRUE(SaveoopsStatus(false, false, &out).ok());
  EXPECT_EQ(out, 7);
  Status s = SaveoopsStatus(true, false, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad check");
  s = SaveoopsStatus(false, true, &out);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no number");
}

TEST(StatusMacrosTest, SaveoopsStatusOrPassesErrorsThrough) {
  StatusOr<int> v = SaveoopsStatusOr(false, false, false);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 16);
  EXPECT_EQ(SaveoopsStatusOr(true, false, false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SaveoopsStatusOr(false, true, false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(SaveoopsStatusOr(false, false, true).status().message(), "no pointer");
}

TEST(StatusMacrosTest, AbslStatusTakesBothKinds) {
  int out = 0;
  EXPECT_TRUE(AbslStatus(false, false, &out).ok());
  EXPECT_EQ(out, 15);
  absl::Status s = AbslStatus(true, false, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad absl check");
  s = AbslStatus(false, true, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad check");
}

TEST(StatusMacrosTest, AbslStatusOrTakesBothKinds) {
  absl::StatusOr<int> v = AbslStatusOr(false, false);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 17);
  EXPECT_EQ(AbslStatusOr(true, false).status().message(), "bad absl check");
  EXPECT_EQ(AbslStatusOr(false, true).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AbslStatusOr(false, true).status().message(), "bad check");
}

TEST(StatusMacrosTest, DeclarationMayHoldCommas) {
  StatusOr<int> v = Commas(false);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 3);
  EXPECT_EQ(Commas(true).status().code(), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace saveoops
