#include "capture/vmcoreinfo.h"

#include <string.h>

#include <string_view>
#include <utility>

#include "common/format.h"
#include "common/status.h"
#include "common/status_macros.h"

namespace saveoops {
namespace {

int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

// Strict unsigned parse in `base` (10 or 16): at least one digit, nothing
// else (no sign, no spaces), no overflow. The kernel's printf output never
// has anything else, so anything else means the note is damaged.
std::optional<uint64_t> ParseUnsigned(absl::string_view s, int base) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    const int d = DigitValue(c);
    if (d >= base) return std::nullopt;
    if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / base) return std::nullopt;
    v = v * base + static_cast<uint64_t>(d);
  }
  return v;
}

bool HasHexPrefix(absl::string_view s) {
  return s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

Status BadValue(absl::string_view key, absl::string_view value, absl::string_view want) {
  return InvalidArgumentError(
      Concat("VMCOREINFO: ", key, "='", HexEscape(value.substr(0, 64)), "' is not ", want));
}

}  // namespace

StatusOr<absl::string_view> VmcoreInfo::Require(absl::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return NotFoundError(Concat("VMCOREINFO has no ", key));
  }
  return absl::string_view(it->second);
}

std::optional<std::string> VmcoreInfo::Get(absl::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

StatusOr<uint64_t> VmcoreInfo::Unsigned(absl::string_view key, int base) const {
  ASSIGN_OR_RETURN(const absl::string_view v, Require(key));
  absl::string_view digits = v;
  // "%lx" prints bare hex; accept a 0x prefix too, nothing else reads it
  // differently.
  if (base == 16 && HasHexPrefix(digits)) digits.remove_prefix(2);
  std::optional<uint64_t> n = ParseUnsigned(digits, base);
  if (!n) {
    return BadValue(key, v, base == 16 ? "a hexadecimal number" : "an unsigned decimal number");
  }
  return *n;
}

StatusOr<int64_t> VmcoreInfo::Signed(absl::string_view key) const {
  ASSIGN_OR_RETURN(const absl::string_view v, Require(key));
  if (HasHexPrefix(v)) {
    std::optional<uint64_t> n = ParseUnsigned(v.substr(2), 16);
    if (!n) return BadValue(key, v, "a hexadecimal number");
    return static_cast<int64_t>(*n);  // Two's complement, like "0x%llx".
  }
  const bool negative = !v.empty() && v[0] == '-';
  std::optional<uint64_t> n = ParseUnsigned(v.substr(negative ? 1 : 0), 10);
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (!n || *n > limit) return BadValue(key, v, "a signed 64-bit number");
  // Negate in unsigned arithmetic so that INT64_MIN does not overflow.
  return static_cast<int64_t>(negative ? 0 - *n : *n);
}

StatusOr<uint64_t> VmcoreInfo::Symbol(absl::string_view name) const {
  return Unsigned(Concat("SYMBOL(", name, ")"), 16);
}

StatusOr<uint64_t> VmcoreInfo::Size(absl::string_view name) const {
  return Unsigned(Concat("SIZE(", name, ")"), 10);
}

StatusOr<uint64_t> VmcoreInfo::Offset(absl::string_view name) const {
  return Unsigned(Concat("OFFSET(", name, ")"), 10);
}

StatusOr<uint64_t> VmcoreInfo::Length(absl::string_view name) const {
  return Unsigned(Concat("LENGTH(", name, ")"), 10);
}

StatusOr<int64_t> VmcoreInfo::Number(absl::string_view name) const {
  return Signed(Concat("NUMBER(", name, ")"));
}

std::string VmcoreInfo::OsRelease() const { return Get("OSRELEASE").value_or(""); }

StatusOr<uint64_t> VmcoreInfo::PageSize() const { return Unsigned("PAGESIZE", 10); }

StatusOr<uint64_t> VmcoreInfo::KernelOffset() const { return Unsigned("KERNELOFFSET", 16); }

StatusOr<int64_t> VmcoreInfo::CrashTime() const { return Signed("CRASHTIME"); }

StatusOr<VmcoreInfo> ParseVmcoreInfo(absl::string_view note) {
  std::string_view text(note.data(), note.size());
  text = text.substr(0, text.find('\0'));
  if (text.size() > VmcoreInfo::kMaxTextSize) {
    return InvalidArgumentError(
        Format("VMCOREINFO: text is %u bytes, more than the %u "
               "accepted (the kernel writes at most one page)",
               text.size(), VmcoreInfo::kMaxTextSize));
  }
  VmcoreInfo info;
  for (std::string_view line : Split(text, '\n')) {
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      ++info.malformed_lines_;
      continue;
    }
    // emplace keeps the first value of a repeated key.
    info.entries_.emplace(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  if (info.entries_.empty()) {
    return InvalidArgumentError("VMCOREINFO: no KEY=VALUE line in the note");
  }
  return info;
}

}  // namespace saveoops
