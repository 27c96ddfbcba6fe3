#include "arming/sysinfo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <stddef.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "capture/vmcore.h"
#include "common/bootproto.h"

namespace saveoops {
namespace {

// The payload that marks NoCrashReservationError (absl::Status::SetPayload
// wants a type URL; nothing resolves it).
constexpr char kNoCrashReservationPayload[] = "type.saveoops/arming.NoCrashReservation";

std::string Join(const std::string& root, const std::string& path) {
  if (root.empty() || root == "/") return path;
  return absl::StrCat(absl::StripSuffix(root, "/"), path);
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrFormat("cannot open %s: %s", path, strerror(errno)));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      const int err = errno;
      close(fd);
      return absl::InternalError(absl::StrFormat("cannot read %s: %s", path, strerror(err)));
    }
    if (n == 0) break;
    out.append(buf, n);
    if (out.size() > (16u << 20)) {
      close(fd);
      return absl::InvalidArgumentError(absl::StrFormat("%s is larger than 16 MiB", path));
    }
  }
  close(fd);
  return out;
}

absl::StatusOr<uint64_t> ParseHex(absl::string_view text, const std::string& what) {
  text = absl::StripAsciiWhitespace(text);
  absl::ConsumePrefix(&text, "0x");
  uint64_t v = 0;
  if (text.empty() || !absl::SimpleHexAtoi(text, &v)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: '%s' is not a hexadecimal address", what, text));
  }
  return v;
}

// Possible CPUs' crash notes: /sys/devices/system/cpu/cpuN/crash_notes holds
// the physical address of that CPU's note_buf_t (kernel/crash_core.c), and
// crash_notes_size its size.
absl::StatusOr<std::vector<PhysRange>> ReadCrashNotes(const std::string& root) {
  const std::string dir = Join(root, "/sys/devices/system/cpu");
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return absl::NotFoundError(absl::StrFormat("cannot list %s: %s", dir, strerror(errno)));
  }
  std::vector<int> cpus;
  while (dirent* e = readdir(d)) {
    int n = 0;
    absl::string_view name = e->d_name;
    if (absl::ConsumePrefix(&name, "cpu") && absl::SimpleAtoi(name, &n) && n >= 0) {
      cpus.push_back(n);
    }
  }
  closedir(d);
  std::sort(cpus.begin(), cpus.end());
  std::vector<PhysRange> notes;
  for (int cpu : cpus) {
    const std::string base = absl::StrFormat("%s/cpu%d/crash_notes", dir, cpu);
    absl::StatusOr<std::string> addr = ReadSmallFile(base);
    if (!addr.ok()) continue;  // offline/absent CPUs have none
    absl::StatusOr<uint64_t> paddr = ParseHex(*addr, base);
    if (!paddr.ok()) return paddr.status();
    uint64_t size = 0;
    absl::StatusOr<std::string> size_text = ReadSmallFile(base + "_size");
    if (!size_text.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*size_text), &size) ||
        size == 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s_size is missing or not a positive number", base));
    }
    notes.push_back({*paddr, size});
  }
  if (notes.empty()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("no CPU under %s has crash_notes: the kernel lacks CONFIG_CRASH_DUMP/KEXEC "
                        "support, or /sys is not mounted",
                        dir));
  }
  return notes;
}

// Fields of /proc/kcore (fs/proc/kcore.c): RAM segments have
// p_vaddr = PAGE_OFFSET + p_paddr, the kernel text segment has the kernel's
// virtual base. Reading it needs CAP_SYS_RAWIO and no lockdown.
void ReadKcore(const std::string& root, CrashSystemInfo* info) {
  const std::string path = Join(root, "/proc/kcore");
  absl::StatusOr<std::unique_ptr<FileByteSource>> src = FileByteSource::Open(path);
  if (!src.ok()) {
    info->notes.push_back(absl::StrCat("cannot read ", path, " (", src.status().message(),
                                       "): assuming PAGE_OFFSET ", absl::Hex(kDefaultPageOffset)));
    return;
  }
  absl::StatusOr<Vmcore> core = Vmcore::Open(src->get());
  if (!core.ok()) {
    info->notes.push_back(absl::StrCat(path, " unreadable: ", core.status().message()));
    return;
  }
  for (const VmcoreSegment& s : core->segments()) {
    if (s.paddr == UINT64_MAX || s.vaddr < 0xff00000000000000ull) continue;
    if (s.vaddr >= kStartKernelMap) {
      // The kernel text segment: covers _text.
      if (info->kernel_image.start >= s.paddr && info->kernel_image.start < s.paddr + s.memsz) {
        info->kernel_image_vaddr = s.vaddr + (info->kernel_image.start - s.paddr);
      }
      continue;
    }
    if (!info->page_offset_from_kcore && s.vaddr > s.paddr) {
      info->page_offset = s.vaddr - s.paddr;
      info->page_offset_from_kcore = true;
    }
  }
  if (!info->page_offset_from_kcore) {
    info->notes.push_back(
        absl::StrCat(path, " has no RAM segment with a physical address: assuming PAGE_OFFSET ",
                     absl::Hex(kDefaultPageOffset)));
  }
}

uint64_t ReadAcpiRsdp(const std::string& root, CrashSystemInfo* info) {
  // boot_params.acpi_rsdp_addr (zero-page.rst), as the first kernel was
  // given it; the sysfs file is the zero page as the kernel kept it.
  constexpr size_t kRsdpAt = offsetof(BootParams, acpi_rsdp_addr);
  constexpr size_t kRsdpSize = sizeof(BootParams::acpi_rsdp_addr);
  absl::StatusOr<std::string> bp = ReadSmallFile(Join(root, "/sys/kernel/boot_params/data"));
  if (bp.ok() && bp->size() >= kRsdpAt + kRsdpSize) {
    uint64_t v = 0;
    static_assert(sizeof(v) == kRsdpSize, "acpi_rsdp_addr is a u64");
    memcpy(&v, bp->data() + kRsdpAt, sizeof(v));
    if (v != 0) return v;
  }
  // On EFI systems the RSDP comes from the system table (drivers/firmware/efi).
  absl::StatusOr<std::string> systab = ReadSmallFile(Join(root, "/sys/firmware/efi/systab"));
  if (systab.ok()) {
    uint64_t acpi1 = 0;
    for (absl::string_view line : absl::StrSplit(*systab, '\n')) {
      if (absl::ConsumePrefix(&line, "ACPI20=")) {
        if (auto v = ParseHex(line, "systab ACPI20"); v.ok()) return *v;
      } else if (absl::ConsumePrefix(&line, "ACPI=")) {
        if (auto v = ParseHex(line, "systab ACPI"); v.ok()) acpi1 = *v;
      }
    }
    if (acpi1 != 0) return acpi1;
  }
  info->notes.push_back("ACPI RSDP unknown: the capture kernel will scan the BIOS areas");
  return 0;
}

}  // namespace

absl::Status NoCrashReservationError(absl::string_view message) {
  absl::Status status = absl::NotFoundError(message);
  status.SetPayload(kNoCrashReservationPayload, absl::Cord());
  return status;
}

bool IsNoCrashReservation(const absl::Status& status) {
  return absl::IsNotFound(status) && status.GetPayload(kNoCrashReservationPayload).has_value();
}

absl::StatusOr<PhysRange> ParseAddressSizeLine(const std::string& text, const std::string& what) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(text), ' ', absl::SkipEmpty());
  if (parts.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected '<hex address> <hex size>', got '%s'", what,
                        absl::StripAsciiWhitespace(text)));
  }
  absl::StatusOr<uint64_t> addr = ParseHex(parts[0], what);
  if (!addr.ok()) return addr.status();
  absl::StatusOr<uint64_t> size = ParseHex(parts[1], what);
  if (!size.ok()) return size.status();
  if (*addr == 0 || *size == 0) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: address or size is zero", what));
  }
  return PhysRange{*addr, *size};
}

absl::StatusOr<CrashSystemInfo> ReadCrashSystemInfo(const std::string& root) {
  CrashSystemInfo info;
  const std::string iomem_path = Join(root, "/proc/iomem");
  absl::StatusOr<std::string> iomem = ReadSmallFile(iomem_path);
  if (!iomem.ok()) return iomem.status();
  absl::StatusOr<MemoryMap> map = ParseProcIomem(*iomem);
  if (!map.ok()) {
    return absl::Status(map.status().code(),
                        absl::StrCat(iomem_path, ": ", map.status().message()));
  }
  info.iomem = *std::move(map);
  absl::StatusOr<Range> res = info.iomem.CrashReservation();
  if (!res.ok()) {
    // Its only error: no "Crash kernel" range, i.e. no crashkernel= at boot.
    return absl::IsNotFound(res.status()) ? NoCrashReservationError(res.status().message())
                                          : res.status();
  }
  info.crash_reservation = *res;

  absl::StatusOr<std::vector<PhysRange>> notes = ReadCrashNotes(root);
  if (!notes.ok()) return notes.status();
  info.cpu_crash_notes = *std::move(notes);

  const std::string vmcoreinfo_path = Join(root, "/sys/kernel/vmcoreinfo");
  absl::StatusOr<std::string> vmcoreinfo = ReadSmallFile(vmcoreinfo_path);
  if (!vmcoreinfo.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(vmcoreinfo.status().message(),
                                                      ": the kernel does not export VMCOREINFO "
                                                      "(needs CONFIG_CRASH_CORE)"));
  }
  absl::StatusOr<PhysRange> note = ParseAddressSizeLine(*vmcoreinfo, vmcoreinfo_path);
  if (!note.ok()) return note.status();
  info.vmcoreinfo_note = *note;

  // The kernel image, from "Kernel code" to the end of "Kernel bss".
  uint64_t image_start = UINT64_MAX, image_end = 0;
  for (MemoryType t : {MemoryType::kKernelCode, MemoryType::kKernelData, MemoryType::kKernelBss}) {
    for (const Range& r : info.iomem.RangesOf(t)) {
      image_start = std::min(image_start, r.start);
      image_end = std::max(image_end, r.end());
    }
  }
  if (image_start == UINT64_MAX) {
    return absl::FailedPreconditionError(absl::StrCat(iomem_path, " has no 'Kernel code' range"));
  }
  info.kernel_image = {image_start, image_end - image_start};
  ReadKcore(root, &info);
  info.acpi_rsdp = ReadAcpiRsdp(root, &info);

  absl::StatusOr<std::string> release = ReadSmallFile(Join(root, "/proc/sys/kernel/osrelease"));
  if (release.ok()) {
    info.kernel_release = std::string(absl::StripAsciiWhitespace(*release));
  } else {
    utsname u;
    if (uname(&u) == 0) info.kernel_release = u.release;
  }
  return info;
}

}  // namespace saveoops
