// libFuzzer target for the saveoops.bundle readers (common/bundle_format.h,
// common/bundle.h).
//
// Random bytes almost never carry the magic, a consistent header_size and
// file_size, or a valid SHA-256, and those checks would hide every deeper
// check from the fuzzer. So each input is parsed three times:
//   1. as given (covers the early rejections);
//   2. with magic, format_version, header_size and file_size made
//      consistent and the header digest recomputed (covers the part table
//      checks);
//   3. as 2, but with every in-range part digest recomputed first (reaches
//      successful parses once inputs exceed a page; run with -max_len=65536).
// Whenever a parse succeeds, the contents are re-serialized, re-parsed and
// must come back identical. Finally the input is cut into four parts and
// written with SerializeBundle(), which must succeed exactly when the parts
// follow the rules and then read back identical (writer -> reader at any
// input size).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/bundle.h"
#include "common/bundle_format.h"
#include "common/sha256.h"
#include "fuzz/allocation_meter.h"

namespace saveoops {
namespace {

// Makes the fields that guard the header digest consistent: magic, version,
// header_size for the claimed part_count (taken mod 17), file_size = size.
// Returns false if the input is too short to hold such a header.
bool RepairFixedHeader(std::vector<uint8_t>& bytes, uint32_t* header_size) {
  if (bytes.size() < sizeof(BundleFixedHeader)) return false;
  BundleFixedHeader fixed;
  memcpy(&fixed, bytes.data(), sizeof(fixed));
  memcpy(fixed.magic, kBundleMagic, sizeof(fixed.magic));
  fixed.format_version = kBundleFormatVersion;
  fixed.part_count %= kBundleMaxParts + 1;
  if (fixed.part_count == 0) return false;
  fixed.header_size = BundleHeaderSize(fixed.part_count);
  fixed.file_size = bytes.size();
  if (bytes.size() < fixed.header_size) return false;
  memcpy(bytes.data(), &fixed, sizeof(fixed));
  *header_size = fixed.header_size;
  return true;
}

void ResignHeader(std::vector<uint8_t>& bytes, uint32_t header_size) {
  const size_t digest_offset = header_size - kSha256DigestSize;
  const Sha256Digest digest = Sha256Hash(bytes.data(), digest_offset, Sha256Engine::kPortable);
  memcpy(bytes.data() + digest_offset, digest.bytes, kSha256DigestSize);
}

void ResignParts(std::vector<uint8_t>& bytes, uint32_t header_size) {
  const uint32_t part_count = (header_size - BundleHeaderSize(0)) / sizeof(BundlePartEntry);
  for (uint32_t i = 0; i < part_count; ++i) {
    const size_t at = sizeof(BundleFixedHeader) + i * sizeof(BundlePartEntry);
    BundlePartEntry entry;
    memcpy(&entry, bytes.data() + at, sizeof(entry));
    if (entry.size > bytes.size() || entry.offset > bytes.size() - entry.size) {
      continue;
    }
    const Sha256Digest digest =
        Sha256Hash(bytes.data() + entry.offset, entry.size, Sha256Engine::kPortable);
    memcpy(entry.sha256, digest.bytes, kSha256DigestSize);
    memcpy(bytes.data() + at, &entry, sizeof(entry));
  }
}

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

// Parses `bytes` with both readers; on success round-trips the contents.
void ParseAndRoundTrip(const std::vector<uint8_t>& bytes) {
  BundleView view;
  const BundleError header_error = ParseBundleHeader(bytes.data(), bytes.size(), &view);
  Check(BundleErrorName(header_error) != nullptr);
  if (header_error == BundleError::kOk) {
    Check(view.part_count >= 4 && view.part_count <= kBundleMaxParts);
    for (uint32_t i = 0; i < view.part_count; ++i) {
      Check(view.parts[i].data >= bytes.data());
      Check(view.parts[i].offset + view.parts[i].size <= bytes.size());
      VerifyBundlePart(view, static_cast<int>(i));
    }
  }

  // The parts are copied out of the input, never sized by a claimed length.
  AllocationMeter meter;
  absl::StatusOr<BundleContents> parsed = ParseBundle(bytes);
  CheckAllocatedAtMost(meter, 2 * uint64_t{bytes.size()} + kFixedAllocationSlack);
  // The host reader accepts exactly what the freestanding header check
  // accepts and every part digest verifies.
  if (header_error != BundleError::kOk) Check(!parsed.ok());
  if (!parsed.ok()) return;

  absl::StatusOr<std::vector<uint8_t>> reserialized = SerializeBundle(*parsed);
  Check(reserialized.ok());
  absl::StatusOr<BundleContents> reparsed = ParseBundle(*reserialized);
  Check(reparsed.ok());
  Check(*reparsed == *parsed);
}

// Cuts `bytes` into four parts at points chosen by its first bytes, writes
// them as a bundle and reads it back.
void WriteAndReadBack(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < 3) return;
  const size_t rest = bytes.size() - 3;
  size_t cut1 = bytes[0] * rest / 255;
  size_t cut2 = cut1 + bytes[1] * (rest - cut1) / 255;
  size_t cut3 = cut2 + bytes[2] * (rest - cut2) / 255;
  const uint8_t* base = bytes.data() + 3;
  BundleContents contents;
  contents.capture_kernel.assign(base, base + cut1);
  contents.capture_cmdline.assign(base + cut1, base + cut2);
  contents.capture_initramfs.assign(base + cut2, base + cut3);
  contents.purgatory.assign(base + cut3, base + rest);

  const bool valid = !contents.capture_kernel.empty() && !contents.capture_initramfs.empty() &&
                     !contents.purgatory.empty() &&
                     contents.capture_cmdline.size() <= kBundleMaxCmdlineSize &&
                     contents.capture_cmdline.find('\0') == std::string::npos;
  absl::StatusOr<std::vector<uint8_t>> written = SerializeBundle(contents);
  Check(written.ok() == valid);
  if (!written.ok()) return;
  absl::StatusOr<BundleContents> read = ParseBundle(*written);
  Check(read.ok());
  Check(*read == contents);
}

}  // namespace
}  // namespace saveoops

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  saveoops::ParseAndRoundTrip(bytes);
  saveoops::WriteAndReadBack(bytes);

  uint32_t header_size = 0;
  if (!saveoops::RepairFixedHeader(bytes, &header_size)) return 0;
  saveoops::ResignHeader(bytes, header_size);
  saveoops::ParseAndRoundTrip(bytes);

  saveoops::ResignParts(bytes, header_size);
  saveoops::ResignHeader(bytes, header_size);
  saveoops::ParseAndRoundTrip(bytes);
  return 0;
}
