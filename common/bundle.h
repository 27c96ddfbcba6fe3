// Host-side writer and reader of saveoops.bundle (format: bundle_format.h).
//
// `pack` builds a bundle with WriteBundleFile(); `saveoops arm` (kexec
// backend) reads it with ReadBundleFile(). Reading verifies the header digest
// and every part digest, so a BundleContents that came from ParseBundle() is
// exactly what the writer signed.
#ifndef SAVEOOPS_COMMON_BUNDLE_H_
#define SAVEOOPS_COMMON_BUNDLE_H_

#include <stdint.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/sha256.h"

namespace saveoops {

// The four parts of a bundle, as plain bytes.
struct BundleContents {
  std::vector<uint8_t> capture_kernel;     // bzImage; non-empty.
  std::vector<uint8_t> capture_initramfs;  // cpio archive; non-empty.
  std::string capture_cmdline;             // <= 4096 bytes, no NUL.
  std::vector<uint8_t> purgatory;          // purgatory blob; non-empty.
  // The kernel prepared for the purgatory (common/kernel_image.h); empty
  // when the bundle has none and loaders stage the bzImage.
  std::vector<uint8_t> capture_kernel_image;

  // Filled by ParseBundle(): the SHA-256 of each part (by kBundlePart*
  // type), already checked against the part's bytes, so loaders staging a
  // part unchanged need not hash megabytes again. Not part of the contents
  // (operator== ignores it); empty for contents built in memory.
  std::map<uint32_t, Sha256Digest> verified_sha256;

  friend bool operator==(const BundleContents& a, const BundleContents& b) {
    return a.capture_kernel == b.capture_kernel && a.capture_initramfs == b.capture_initramfs &&
           a.capture_cmdline == b.capture_cmdline && a.purgatory == b.purgatory &&
           a.capture_kernel_image == b.capture_kernel_image;
  }
  friend bool operator!=(const BundleContents& a, const BundleContents& b) { return !(a == b); }
};

// Lays out `contents` as a format-version-1 bundle: header with four parts in
// type order (kernel, initramfs, cmdline, purgatory; then the prepared
// kernel image if there is one), each part at the next
// 4096-aligned offset, zero padding, file_size = end of the last part.
// Fails (InvalidArgument, naming the part) if a part breaks the rules the
// reader enforces: empty kernel/initramfs/purgatory, command line longer than
// 4096 bytes or containing a NUL.
absl::StatusOr<std::vector<uint8_t>> SerializeBundle(const BundleContents& contents);

// Parses and fully verifies a bundle: every header check of
// ParseBundleHeader() and the SHA-256 of every part. Errors name the field or
// part and the values involved, e.g.
//   "bundle: part 'capture_initramfs' SHA-256 mismatch: header says 1a2b...,
//    data hashes to 9f8e..."
// Codes: DataLoss for digest mismatches and truncation, InvalidArgument for
// every other malformation.
absl::StatusOr<BundleContents> ParseBundle(absl::Span<const uint8_t> bytes);

// Serializes `contents` and writes it to `path` crash-safely: the bytes go to
// `path`.tmp, which is fsync'ed and renamed over `path`, and the directory is
// fsync'ed, so `path` holds either the old or the new bundle, never a mix.
// Errors name the file and the errno text.
absl::Status WriteBundleFile(const std::string& path, const BundleContents& contents);

// Reads `path` and ParseBundle()s it; errors are prefixed with the path.
absl::StatusOr<BundleContents> ReadBundleFile(const std::string& path);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_BUNDLE_H_
