// Fuzzes ParseVmcoreInfo on arbitrary text and every typed accessor on every
// key it finds, then checks a round trip: the entries written back out as
// "KEY=VALUE\n" lines must parse to exactly the same entries.
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "capture/vmcoreinfo.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// For a key "PREFIX(name)", the name; else "".
absl::string_view NameOf(absl::string_view key, absl::string_view prefix) {
  if (key.size() < prefix.size() + 2 || key.substr(0, prefix.size()) != prefix ||
      key[prefix.size()] != '(' || key.back() != ')') {
    return "";
  }
  return key.substr(prefix.size() + 1, key.size() - prefix.size() - 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<saveoops::VmcoreInfo> info = saveoops::ParseVmcoreInfo(text);
  if (!info.ok()) return 0;
  Check(!info->entries().empty());

  std::string rewritten;
  for (const auto& [key, value] : info->entries()) {
    Check(!key.empty());
    Check(key.find('=') == std::string::npos);
    Check(key.find('\n') == std::string::npos);
    Check(value.find('\n') == std::string::npos);
    Check(info->Get(key) == value);
    if (absl::string_view n = NameOf(key, "SYMBOL"); !n.empty()) {
      (void)info->Symbol(n);
    }
    if (absl::string_view n = NameOf(key, "SIZE"); !n.empty()) {
      (void)info->Size(n);
    }
    if (absl::string_view n = NameOf(key, "OFFSET"); !n.empty()) {
      (void)info->Offset(n);
    }
    if (absl::string_view n = NameOf(key, "LENGTH"); !n.empty()) {
      (void)info->Length(n);
    }
    if (absl::string_view n = NameOf(key, "NUMBER"); !n.empty()) {
      absl::StatusOr<int64_t> v = info->Number(n);
      // A decimal NUMBER prints back to exactly its text.
      if (v.ok() && value.substr(0, 2) != "0x" && value.substr(0, 2) != "0X" &&
          (value.size() < 2 || value[0] != '0') && value.substr(0, 2) != "-0") {
        Check(absl::StrCat(*v) == value);
      }
    }
    absl::StrAppend(&rewritten, key, "=", value, "\n");
  }
  (void)info->OsRelease();
  (void)info->PageSize();
  (void)info->KernelOffset();
  (void)info->CrashTime();

  absl::StatusOr<saveoops::VmcoreInfo> again = saveoops::ParseVmcoreInfo(rewritten);
  Check(again.ok());
  Check(again->entries() == info->entries());
  Check(again->malformed_lines() == 0);
  return 0;
}
