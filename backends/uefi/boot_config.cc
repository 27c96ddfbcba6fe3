#include "backends/uefi/boot_config.h"

#include "common/cmdline_view.h"

namespace saveoops {
namespace {

enum Key : int {
  kKernel,
  kInitrd,
  kCmdline,
  kBundle,
  kArm,
  kArmSha256,
  kEfivarfs,
  kEfivarfsSha256,
  kKeyCount
};

constexpr const char* kKeyNames[kKeyCount] = {
    "kernel", "initrd", "cmdline", "bundle", "arm", "arm_sha256", "efivarfs", "efivarfs_sha256"};

bool Equals(const uint8_t* a, size_t n, const char* b) {
  size_t i = 0;
  for (; i < n; ++i) {
    if (b[i] == '\0' || static_cast<char>(a[i]) != b[i]) return false;
  }
  return b[i] == '\0';
}

int HexValue(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSpace(uint8_t c) { return c == ' ' || c == '\t'; }

BootConfigError ParseDigest(const uint8_t* v, size_t n, Sha256Digest* out) {
  if (n != 2 * kSha256DigestSize) return BootConfigError::kBadDigest;
  for (size_t i = 0; i < kSha256DigestSize; ++i) {
    const int hi = HexValue(v[2 * i]), lo = HexValue(v[2 * i + 1]);
    if (hi < 0 || lo < 0) return BootConfigError::kBadDigest;
    out->bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return BootConfigError::kOk;
}

// Characters FAT long names may not hold (Microsoft FAT specification,
// "Long File Name" section), besides control characters.
bool ForbiddenInPath(uint8_t c) {
  switch (c) {
    case '"':
    case '*':
    case ':':
    case '<':
    case '>':
    case '?':
    case '|':
      return true;
    default:
      return false;
  }
}

BootConfigError CopyPath(const uint8_t* v, size_t n, char* out) {
  if (n == 0 || (v[0] != '\\' && v[0] != '/')) return BootConfigError::kBadPath;
  if (n > kBootConfigMaxPath) return BootConfigError::kValueTooLong;
  for (size_t i = 0; i < n; ++i) {
    uint8_t c = v[i];
    if (c < 0x20 || c > 0x7e || ForbiddenInPath(c)) return BootConfigError::kBadPath;
    if (c == '/') c = '\\';
    // An empty path component ("\\" or a trailing separator) names no file.
    if (c == '\\' && (i + 1 == n || v[i + 1] == '\\' || v[i + 1] == '/')) {
      return BootConfigError::kBadPath;
    }
    out[i] = static_cast<char>(c);
  }
  out[n] = '\0';
  return BootConfigError::kOk;
}

// True if the command line sets rdinit= as a parameter of its own, the way
// the kernel's parser would see it (common/cmdline_view.h).
bool HasRdinit(const uint8_t* v, size_t n) {
  CmdlineSpan value;
  return FindCmdlineValue(reinterpret_cast<const char*>(v), n, "rdinit", &value);
}

}  // namespace

BootConfigError ParseBootConfig(const uint8_t* data, size_t size, BootConfig* out, int* error_line,
                                const char** error_key) {
  *error_line = 0;
  *error_key = "";
  if (size > kBootConfigMaxSize) return BootConfigError::kTooLarge;
  bool seen[kKeyCount] = {};
  out->kernel[0] = out->initrd[0] = out->bundle[0] = out->arm[0] = out->efivarfs[0] = '\0';
  out->cmdline[0] = '\0';
  for (uint8_t& b : out->arm_sha256.bytes) b = 0;
  for (uint8_t& b : out->efivarfs_sha256.bytes) b = 0;

  size_t pos = 0;
  int line = 0;
  while (pos < size) {
    ++line;
    *error_line = line;
    *error_key = "";
    size_t end = pos;
    while (end < size && data[end] != '\n') ++end;
    const size_t next = end < size ? end + 1 : end;
    if (end > pos && data[end - 1] == '\r') --end;
    const uint8_t* s = data + pos;
    size_t n = end - pos;
    pos = next;
    for (size_t i = 0; i < n; ++i) {
      if ((s[i] < 0x20 || s[i] > 0x7e) && s[i] != '\t') return BootConfigError::kNotText;
    }
    size_t lead = 0;
    while (lead < n && IsSpace(s[lead])) ++lead;
    if (lead == n || s[lead] == '#') continue;
    size_t eq = lead;
    while (eq < n && s[eq] != '=') ++eq;
    if (eq == n) return BootConfigError::kMissingEquals;
    size_t key_end = eq;
    while (key_end > lead && IsSpace(s[key_end - 1])) --key_end;
    int key = -1;
    for (int k = 0; k < kKeyCount; ++k) {
      if (Equals(s + lead, key_end - lead, kKeyNames[k])) key = k;
    }
    if (key < 0) return BootConfigError::kUnknownKey;
    *error_key = kKeyNames[key];
    if (seen[key]) return BootConfigError::kDuplicateKey;
    seen[key] = true;
    // The value runs to the end of the line; trailing blanks are dropped so
    // an editor's stray space does not become part of a file name.
    const uint8_t* v = s + eq + 1;
    size_t vn = n - eq - 1;
    while (vn > 0 && IsSpace(v[vn - 1])) --vn;
    while (vn > 0 && IsSpace(v[0])) {
      ++v;
      --vn;
    }
    BootConfigError e = BootConfigError::kOk;
    switch (key) {
      case kKernel:
        e = CopyPath(v, vn, out->kernel);
        break;
      case kInitrd:
        e = CopyPath(v, vn, out->initrd);
        break;
      case kBundle:
        e = CopyPath(v, vn, out->bundle);
        break;
      case kArm:
        e = CopyPath(v, vn, out->arm);
        break;
      case kEfivarfs:
        e = CopyPath(v, vn, out->efivarfs);
        break;
      case kEfivarfsSha256:
        e = ParseDigest(v, vn, &out->efivarfs_sha256);
        break;
      case kCmdline:
        if (vn > kBootConfigMaxCmdline) return BootConfigError::kValueTooLong;
        if (HasRdinit(v, vn)) return BootConfigError::kRdinitInCmdline;
        for (size_t i = 0; i < vn; ++i)
          out->cmdline[i] = static_cast<char>(v[i] == '\t' ? ' ' : v[i]);
        out->cmdline[vn] = '\0';
        break;
      case kArmSha256:
        e = ParseDigest(v, vn, &out->arm_sha256);
        break;
    }
    if (e != BootConfigError::kOk) return e;
  }
  *error_line = 0;
  *error_key = "";
  static constexpr int kRequired[] = {kKernel, kBundle, kArm, kArmSha256};
  for (int k : kRequired) {
    if (!seen[k]) {
      *error_key = kKeyNames[k];
      return BootConfigError::kMissingKey;
    }
  }
  // The module and its digest come as a pair.
  if (seen[kEfivarfs] != seen[kEfivarfsSha256]) {
    *error_key = kKeyNames[seen[kEfivarfs] ? kEfivarfsSha256 : kEfivarfs];
    return BootConfigError::kMissingKey;
  }
  return BootConfigError::kOk;
}

const char* BootConfigErrorName(BootConfigError error) {
  switch (error) {
    case BootConfigError::kOk:
      return "ok";
    case BootConfigError::kTooLarge:
      return "file larger than 16 KiB";
    case BootConfigError::kNotText:
      return "not printable ASCII text";
    case BootConfigError::kMissingEquals:
      return "line is not key=value";
    case BootConfigError::kUnknownKey:
      return "unknown key";
    case BootConfigError::kDuplicateKey:
      return "key given twice";
    case BootConfigError::kBadPath:
      return "not an absolute ESP path of FAT-legal characters";
    case BootConfigError::kValueTooLong:
      return "value too long";
    case BootConfigError::kBadDigest:
      return "not 64 hex digits";
    case BootConfigError::kRdinitInCmdline:
      return "cmdline sets rdinit=, which saveoops.efi owns";
    case BootConfigError::kMissingKey:
      return "required key missing";
  }
  return "unknown error";
}

}  // namespace saveoops
