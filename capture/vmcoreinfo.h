// Parsing the VMCOREINFO note: the dead kernel's description of itself.
//
// The kernel writes VMCOREINFO as text, one "KEY=VALUE\n" line per fact
// (kernel/crash_core.c crash_save_vmcoreinfo_init(), the VMCOREINFO_* macros
// of include/linux/crash_core.h, plus arch_crash_save_vmcoreinfo() and
// log_buf_vmcoreinfo_setup() in kernel/printk/printk.c). The key says how the
// value is printed, and so how to read it back:
//
//   OSRELEASE=6.1.0-18-amd64          VMCOREINFO_OSRELEASE, "%s"
//   PAGESIZE=4096                     VMCOREINFO_PAGESIZE, "%ld"
//   SYMBOL(prb)=ffffffff8f2a1b40      VMCOREINFO_SYMBOL, "%lx" (hex, no 0x)
//   SIZE(printk_info)=88              VMCOREINFO_SIZE/STRUCT_SIZE, "%lu"
//   OFFSET(prb_desc.state_var)=0      VMCOREINFO_OFFSET, "%lu"
//   LENGTH(printk_info_device)=48     VMCOREINFO_LENGTH, "%lu"
//   NUMBER(phys_base)=-1862270976     VMCOREINFO_NUMBER, "%ld" (signed!);
//                                     some arch code prints "0x%llx" instead
//   KERNELOFFSET=e000000              x86 arch_crash_save_vmcoreinfo, "%lx"
//   CRASHTIME=1700000000              crash_save_vmcoreinfo, "%lld"
//
// ParseVmcoreInfo() only splits the text into keys and values; the typed
// accessors convert a value when asked, so one odd line never hides the rest
// of the note, and each error names the key it is about.
//
// Example:
//   ASSIGN_OR_RETURN(VmcoreInfo info, ParseVmcoreInfo(*core.VmcoreInfo()));
//   ASSIGN_OR_RETURN(uint64_t prb, info.Symbol("prb"));
//   ASSIGN_OR_RETURN(uint64_t off, info.Offset("prb_desc.state_var"));
#ifndef SAVEOOPS_CAPTURE_VMCOREINFO_H_
#define SAVEOOPS_CAPTURE_VMCOREINFO_H_

#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace saveoops {

// The parsed note: an immutable key -> value table.
class VmcoreInfo {
 public:
  // Largest text ParseVmcoreInfo() accepts. The kernel's buffer is one page
  // (VMCOREINFO_BYTES, include/linux/crash_core.h); allow plenty more.
  static constexpr size_t kMaxTextSize = 1 << 20;

  // SYMBOL(name): the symbol's address, hex. `name` as in the note, e.g.
  // "prb" or "init_top_pgt".
  StatusOr<uint64_t> Symbol(absl::string_view name) const;

  // SIZE(name): a type's size in bytes, decimal.
  StatusOr<uint64_t> Size(absl::string_view name) const;

  // OFFSET(name): a field's offset in bytes, decimal; `name` is
  // "struct.field", e.g. "prb_desc.state_var".
  StatusOr<uint64_t> Offset(absl::string_view name) const;

  // LENGTH(name): an array length, decimal.
  StatusOr<uint64_t> Length(absl::string_view name) const;

  // NUMBER(name): a constant. Signed because the kernel prints it with
  // "%ld" (NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE) is negative); a "0x" prefix
  // (arch code that prints "0x%llx") is read as hex, two's complement.
  StatusOr<int64_t> Number(absl::string_view name) const;

  // OSRELEASE, the dead kernel's `uname -r`; "" if absent.
  std::string OsRelease() const;

  // PAGESIZE, decimal.
  StatusOr<uint64_t> PageSize() const;

  // KERNELOFFSET: the KASLR displacement of the kernel image, hex.
  StatusOr<uint64_t> KernelOffset() const;

  // CRASHTIME: seconds since the epoch when the kernel crashed, decimal.
  // Only present in a note saved by a crash (crash_save_vmcoreinfo()).
  StatusOr<int64_t> CrashTime() const;

  // The raw value of `key` (the full key, e.g. "SYMBOL(prb)"), or nullopt.
  std::optional<std::string> Get(absl::string_view key) const;

  // Every key and its raw value.
  const std::map<std::string, std::string, std::less<>>& entries() const { return entries_; }

  // Lines that were not KEY=VALUE (no '=' or an empty key); they are
  // skipped, not fatal.
  size_t malformed_lines() const { return malformed_lines_; }

 private:
  friend StatusOr<VmcoreInfo> ParseVmcoreInfo(absl::string_view text);

  // Looks up `key` and reports its absence as NotFound, naming the key.
  StatusOr<absl::string_view> Require(absl::string_view key) const;
  // The value of `key` as an unsigned number in `base` (10 or 16).
  StatusOr<uint64_t> Unsigned(absl::string_view key, int base) const;
  // The value of `key` as "%ld" (optionally negative) or "0x%llx".
  StatusOr<int64_t> Signed(absl::string_view key) const;

  std::map<std::string, std::string, std::less<>> entries_;
  size_t malformed_lines_ = 0;
};

// Splits VMCOREINFO text into its entries. The text may end in NULs (the
// note is padded); it stops at the first NUL. Fails if the text is larger
// than kMaxTextSize or holds no KEY=VALUE line at all. When a key repeats,
// the first value wins (as in makedumpfile, which reads the first match).
StatusOr<VmcoreInfo> ParseVmcoreInfo(absl::string_view text);

}  // namespace saveoops

#endif  // SAVEOOPS_CAPTURE_VMCOREINFO_H_
