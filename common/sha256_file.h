// Host-only SHA-256 helpers built on BoringSSL.
//
// Host tools (pack, the saveoops CLI) hash files that may be hundreds of MiB;
// DESIGN.md has them use BoringSSL for that, while freestanding code uses
// common/sha256.h. Both produce the same Sha256Digest type, and the tests
// cross-check them.
#ifndef SAVEOOPS_COMMON_SHA256_FILE_H_
#define SAVEOOPS_COMMON_SHA256_FILE_H_

#include <stdint.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/sha256.h"

namespace saveoops {

// Hashes the file at `path`, reading it in 1 MiB chunks so memory use does
// not grow with the file. Fails with a status naming the path, the failing
// step (open/read) and the errno text, e.g.
//   "sha256: cannot open '/boot/nope': No such file or directory".
absl::StatusOr<Sha256Digest> Sha256OfFile(const std::string& path);

// SHA-256 of `data` computed by BoringSSL.
Sha256Digest Sha256BoringSsl(absl::Span<const uint8_t> data);

// The digest as 64 lowercase hex digits (same text as Sha256ToHex()).
std::string Sha256Hex(const Sha256Digest& digest);

}  // namespace saveoops

#endif  // SAVEOOPS_COMMON_SHA256_FILE_H_
