#include "backends/uefi/firmware_arming.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "backends/uefi/firmware_record.h"
#include "common/bundle.h"
#include "common/bundle_format.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::vector<uint8_t> SmallBundle(uint8_t fill) {
  BundleContents c;
  c.capture_kernel.assign(5000, fill);
  c.capture_initramfs.assign(3000, 0x22);
  c.capture_cmdline = "nokaslr";
  c.purgatory.assign(100, 0x33);
  return *SerializeBundle(c);
}

const uint8_t* HeaderDigest(const std::vector<uint8_t>& bundle) {
  BundleView view;
  EXPECT_EQ(ParseBundleHeader(bundle.data(), bundle.size(), &view), BundleError::kOk);
  return bundle.data() + view.header_size - kSha256DigestSize;
}

FirmwareRecord VerifiedRecordFor(const std::vector<uint8_t>& bundle) {
  FirmwareRecord r;
  MakeFirmwareRecord(FirmwareVerdict::kVerified, 0, bundle.size(), HeaderDigest(bundle), &r);
  return r;
}

TEST(FirmwareRecordTest, EncodesAndDecodesTheEfivarfsFile) {
  FirmwareRecord r;
  uint8_t digest[32];
  for (int i = 0; i < 32; ++i) digest[i] = static_cast<uint8_t>(i);
  MakeFirmwareRecord(FirmwareVerdict::kVerified, 0, 12345, digest, &r);
  std::vector<uint8_t> file = {0x06, 0, 0, 0};  // BOOTSERVICE | RUNTIME
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&r);
  file.insert(file.end(), p, p + sizeof(r));
  FirmwareRecord back;
  ASSERT_EQ(DecodeFirmwareRecordFile(file.data(), file.size(), &back), FirmwareRecordError::kOk);
  const uint64_t size = back.bundle_size;  // packed field: copy for gtest
  EXPECT_EQ(size, 12345u);
  EXPECT_EQ(back.bundle_digest[31], 31);
  EXPECT_EQ(memcmp(back.magic, "SVOOPSFW", 8), 0);

  auto decode = [&](std::vector<uint8_t> f) {
    FirmwareRecord out;
    return DecodeFirmwareRecordFile(f.data(), f.size(), &out);
  };
  std::vector<uint8_t> nv = file;
  nv[0] = 0x07;  // NON_VOLATILE too: not the variable saveoops.efi writes
  EXPECT_EQ(decode(nv), FirmwareRecordError::kWrongAttributes);
  EXPECT_EQ(decode(std::vector<uint8_t>(file.begin(), file.end() - 1)),
            FirmwareRecordError::kWrongSize);
  std::vector<uint8_t> bad = file;
  bad[4] ^= 1;
  EXPECT_EQ(decode(bad), FirmwareRecordError::kBadMagic);
  bad = file;
  bad[4 + 8] = 2;
  EXPECT_EQ(decode(bad), FirmwareRecordError::kUnsupportedVersion);
  bad = file;
  bad[4 + 12] = 99;
  EXPECT_EQ(decode(bad), FirmwareRecordError::kUnknownVerdict);
  bad = file;
  bad[4 + 20] = 1;
  EXPECT_EQ(decode(bad), FirmwareRecordError::kNonZeroReserved);
}

TEST(FirmwareRecordTest, UnverifiedRecordsCarryNoDigest) {
  FirmwareRecord r;
  uint8_t digest[32];
  memset(digest, 0xab, sizeof(digest));
  MakeFirmwareRecord(FirmwareVerdict::kBundleCorrupt, 22, 99, nullptr, &r);
  for (uint8_t b : r.bundle_digest) EXPECT_EQ(b, 0);
  const uint32_t detail = r.detail;
  EXPECT_EQ(detail, 22u);
  EXPECT_STREQ(FirmwareVerdictName(r.verdict), "bundle corrupt");
}

TEST(FirmwareArmingTest, AcceptsOnlyTheBundleTheFirmwareVerified) {
  const std::vector<uint8_t> bundle = SmallBundle(0x11);
  EXPECT_TRUE(CheckBundleAgainstRecord(bundle, VerifiedRecordFor(bundle)).ok());

  // Another valid bundle (different capture kernel): refused, both digests named.
  const std::vector<uint8_t> other = SmallBundle(0x44);
  const absl::Status s = CheckBundleAgainstRecord(other, VerifiedRecordFor(bundle));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("differs from the one saveoops.efi verified"), std::string::npos) << s;

  // The firmware found the bundle corrupt: never arm.
  FirmwareRecord corrupt;
  MakeFirmwareRecord(FirmwareVerdict::kBundleCorrupt, 0, bundle.size(), nullptr, &corrupt);
  const absl::Status c = CheckBundleAgainstRecord(bundle, corrupt);
  EXPECT_EQ(c.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(c.message().find("bundle corrupt"), std::string::npos) << c;

  // Same digest, different size (bytes appended): refused.
  std::vector<uint8_t> longer = bundle;
  FirmwareRecord r = VerifiedRecordFor(bundle);
  r.bundle_size = bundle.size() + 4096;
  EXPECT_FALSE(CheckBundleAgainstRecord(bundle, r).ok());
}

class EfivarsDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[256];
    snprintf(tmpl, sizeof(tmpl), "%s/efivars.XXXXXX",
             getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp");
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void Write(const std::vector<uint8_t>& bytes) {
    std::ofstream out(dir_ + "/" + FirmwareRecordFileName(), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  std::string dir_;
};

TEST_F(EfivarsDir, ReadsTheRecordFromEfivarfs) {
  EXPECT_EQ(FirmwareRecordFileName(), "SaveoopsBundle-c6066b3f-623d-4766-8ce3-1cc050533eb3");
  absl::StatusOr<FirmwareRecord> missing = ReadFirmwareRecord(dir_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("not started by saveoops.efi"), std::string::npos);

  const std::vector<uint8_t> bundle = SmallBundle(0x11);
  const FirmwareRecord r = VerifiedRecordFor(bundle);
  std::vector<uint8_t> file = {0x06, 0, 0, 0};
  file.insert(file.end(), reinterpret_cast<const uint8_t*>(&r),
              reinterpret_cast<const uint8_t*>(&r) + sizeof(r));
  Write(file);
  absl::StatusOr<FirmwareRecord> read = ReadFirmwareRecord(dir_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(CheckBundleAgainstRecord(bundle, *read).ok());

  file[0] = 0x07;
  Write(file);
  absl::StatusOr<FirmwareRecord> nv = ReadFirmwareRecord(dir_);
  EXPECT_EQ(nv.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(nv.status().message().find("attributes"), std::string::npos) << nv.status();
}

TEST_F(EfivarsDir, ArmingRefusesBeforeTouchingTheKernel) {
  // A corrupted bundle copy is refused by the bundle reader itself, before
  // any /proc or /sys access (the fake root does not even exist).
  std::vector<uint8_t> bundle = SmallBundle(0x11);
  bundle[bundle.size() - 50] ^= 1;  // inside the purgatory part
  const std::string path = dir_ + "/saveoops.bundle";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bundle.data()), bundle.size());
  FirmwareArmingOptions options;
  options.bundle_path = path;
  options.efivars_dir = dir_;
  options.root = dir_ + "/no-such-root";
  options.dry_run = true;
  absl::StatusOr<ArmOutcome> r = ArmFromFirmwareStage(options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("purgatory"), std::string::npos) << r.status();

  // An intact bundle without a firmware record: refused (NotFound).
  bundle[bundle.size() - 50] ^= 1;
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bundle.data()), bundle.size());
  r = ArmFromFirmwareStage(options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
}

}  // namespace
}  // namespace saveoops
