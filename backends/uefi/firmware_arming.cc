#include "backends/uefi/firmware_arming.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "arming/sysinfo.h"
#include "common/bundle_format.h"
#include "host/runfiles.h"

namespace saveoops {
namespace {

absl::StatusOr<std::vector<uint8_t>> ReadWhole(const std::string& path, size_t limit) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    std::string msg = absl::StrFormat("cannot open %s: %s", path, strerror(e));
    return e == ENOENT ? absl::NotFoundError(msg) : absl::PermissionDeniedError(msg);
  }
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    // efivarfs returns a variable in one read; a loop covers ordinary files.
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string msg = absl::StrFormat("cannot read %s: %s", path, strerror(errno));
      close(fd);
      return absl::DataLossError(msg);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
    if (out.size() > limit) {
      close(fd);
      return absl::InvalidArgumentError(absl::StrFormat("%s is larger than %u bytes", path, limit));
    }
  }
  close(fd);
  return out;
}

std::string HexDigest(const uint8_t* d) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d), kSha256DigestSize));
}

}  // namespace

std::string FirmwareRecordFileName() {
  return absl::StrCat(kFirmwareRecordName, "-", kSaveoopsVendorGuidText);
}

absl::StatusOr<FirmwareRecord> ReadFirmwareRecord(const std::string& efivars_dir) {
  const std::string path = absl::StrCat(efivars_dir, "/", FirmwareRecordFileName());
  absl::StatusOr<std::vector<uint8_t>> bytes = ReadWhole(path, 4096);
  if (!bytes.ok()) {
    if (absl::IsNotFound(bytes.status())) {
      return absl::NotFoundError(absl::StrCat(
          "no firmware record ", path,
          ": this kernel was not started by saveoops.efi (or efivarfs is not mounted)"));
    }
    return bytes.status();
  }
  FirmwareRecord record;
  const FirmwareRecordError e = DecodeFirmwareRecordFile(bytes->data(), bytes->size(), &record);
  if (e != FirmwareRecordError::kOk) {
    return absl::InvalidArgumentError(
        absl::StrCat("firmware record ", path, ": ", FirmwareRecordErrorName(e)));
  }
  return record;
}

absl::Status CheckBundleAgainstRecord(absl::Span<const uint8_t> bundle_file,
                                      const FirmwareRecord& record) {
  if (record.verdict != static_cast<uint32_t>(FirmwareVerdict::kVerified)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "saveoops.efi did not verify a bundle this boot: ", FirmwareVerdictName(record.verdict)));
  }
  BundleView view;
  const BundleError e = ParseBundleHeader(bundle_file.data(), bundle_file.size(), &view);
  if (e != BundleError::kOk) {
    return absl::InvalidArgumentError(absl::StrCat("bundle: ", BundleErrorName(e)));
  }
  const uint8_t* digest = bundle_file.data() + view.header_size - kSha256DigestSize;
  const uint64_t recorded_size = record.bundle_size;  // packed field: copy
  if (bundle_file.size() != recorded_size ||
      memcmp(digest, record.bundle_digest, kSha256DigestSize) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the bundle differs from the one saveoops.efi verified: it has %u bytes and digest %s, "
        "the firmware record says %u bytes and digest %s",
        bundle_file.size(), HexDigest(digest), recorded_size, HexDigest(record.bundle_digest)));
  }
  return absl::OkStatus();
}

absl::StatusOr<ArmOutcome> ArmFromFirmwareStage(const FirmwareArmingOptions& options) {
  options.progress(absl::StrCat("reading the bundle ", options.bundle_path));
  absl::StatusOr<std::vector<uint8_t>> file = ReadWhole(options.bundle_path, size_t{1} << 31);
  if (!file.ok()) return file.status();
  // Verified again here: the firmware's verdict covers what it read from
  // the ESP; this covers the copy the kernel unpacked.
  absl::StatusOr<BundleContents> bundle = ParseBundle(*file);
  if (!bundle.ok()) {
    return absl::DataLossError(absl::StrCat(options.bundle_path, ": ", bundle.status().message()));
  }
  absl::StatusOr<FirmwareRecord> record = ReadFirmwareRecord(options.efivars_dir);
  if (!record.ok()) return record.status();
  if (absl::Status s = CheckBundleAgainstRecord(*file, *record); !s.ok()) return s;
  options.progress(absl::StrCat("bundle matches the firmware record (digest ",
                                HexDigest(record->bundle_digest), ")"));
  file->clear();
  file->shrink_to_fit();

  ArmRequest request;
  request.root = options.root;
  request.options = options.arm;
  request.dry_run = options.dry_run;
  request.say = options.progress;
  return ArmBundle(*bundle, request);
}

}  // namespace saveoops
