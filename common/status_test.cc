#include "common/status.h"

#include <memory>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

StatusOr<int> Half(int n) {
  if (n % 2 != 0) return InvalidArgumentError("odd");
  return n / 2;
}

TEST(StatusTest, CodesAndMessages) {
  EXPECT_TRUE(OkStatus().ok());
  EXPECT_TRUE(Status().ok());
  const Status s = NotFoundError("no store");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no store");
  EXPECT_EQ(Status(StatusCode::kOk, "dropped").message(), "");
  EXPECT_EQ(DataLossError("").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(FailedPreconditionError("").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(InternalError("").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(OutOfRangeError("").code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(PermissionDeniedError("").code(), absl::StatusCode::kPermissionDenied);
}

TEST(StatusTest, ConvertsToAbslStatus) {
  const absl::Status a = DataLossError("torn");
  EXPECT_EQ(a, absl::DataLossError("torn"));
  const absl::Status ok = OkStatus();
  EXPECT_TRUE(ok.ok());
  std::ostringstream os;
  os << DataLossError("torn");
  EXPECT_EQ(os.str(), "DATA_LOSS: torn");
}

TEST(StatusOrTest, ValueOrError) {
  StatusOr<int> two = Half(4);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, 2);
  EXPECT_EQ(two.value(), 2);
  StatusOr<int> odd = Half(3);
  EXPECT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().message(), "odd");
  // An OK status is no value.
  StatusOr<int> none(OkStatus());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInternal);
}

TEST(StatusOrTest, MoveOnlyAndConvertingValues) {
  struct Base {
    virtual ~Base() = default;
  };
  struct Derived : Base {};
  StatusOr<std::unique_ptr<Base>> p = std::make_unique<Derived>();
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p->get(), nullptr);
  std::unique_ptr<Base> taken = *std::move(p);
  EXPECT_NE(taken, nullptr);
  StatusOr<std::string> s = "literal";
  EXPECT_EQ(*s, "literal");
}

TEST(StatusOrTest, ConvertsToAbslStatusOr) {
  absl::StatusOr<int> a = Half(8);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 4);
  absl::StatusOr<int> b = Half(1);
  EXPECT_EQ(b.status(), absl::InvalidArgumentError("odd"));
  absl::StatusOr<std::unique_ptr<int>> m = StatusOr<std::unique_ptr<int>>(std::make_unique<int>(5));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(**m, 5);
}

}  // namespace
}  // namespace saveoops
