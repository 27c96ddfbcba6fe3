#include "common/memmap.h"

#include <string.h>

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace saveoops {
namespace {

// Quotes (a prefix of) an outside line for an error message, escaping bytes
// that would garble a terminal.
std::string Quote(std::string_view text) {
  constexpr size_t kMaxQuoted = 120;
  const std::string_view prefix = text.substr(0, kMaxQuoted);
  std::string quoted = absl::CHexEscape(absl::string_view(prefix.data(), prefix.size()));
  if (text.size() > kMaxQuoted) quoted += "...";
  return absl::StrCat("'", quoted, "'");
}

// The fields of a (packed) e820 entry as ordinary, aligned values, so they
// can be passed by reference (StrFormat) without binding to a packed field.
struct E820Values {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
};
E820Values Unpack(const BootE820Entry& entry) {
  return E820Values{entry.addr, entry.size, entry.type};
}

// The kernel's name for an e820 type (arch/x86/kernel/e820.c,
// e820_type_to_string()), or nullopt if this library does not know it.
struct E820Kind {
  MemoryType type;
  const char* name;
};
std::optional<E820Kind> KindOfE820Type(uint32_t e820_type) {
  // E820_TYPE_SOFT_RESERVED, arch/x86/include/asm/e820/types.h.
  constexpr uint32_t kE820SoftReserved = 0xefffffff;
  switch (e820_type) {
    case kE820Ram:
      return E820Kind{MemoryType::kRam, "System RAM"};
    case kE820Reserved:
      return E820Kind{MemoryType::kReserved, "Reserved"};
    case kE820Acpi:
      return E820Kind{MemoryType::kAcpi, "ACPI Tables"};
    case kE820Nvs:
      return E820Kind{MemoryType::kNvs, "ACPI Non-volatile Storage"};
    case kE820Unusable:
      return E820Kind{MemoryType::kUnusable, "Unusable memory"};
    case kE820Pmem:
      return E820Kind{MemoryType::kPersistent, "Persistent Memory"};
    case kE820Pram:
      return E820Kind{MemoryType::kPersistent, "Persistent Memory (legacy)"};
    case kE820SoftReserved:
      return E820Kind{MemoryType::kReserved, "Soft Reserved"};
    default:
      return std::nullopt;
  }
}

// The memory type a /proc/iomem resource name stands for, or nullopt for a
// resource that is not memory (a device, a bus window, a ROM).
std::optional<MemoryType> TypeOfIomemName(std::string_view name) {
  static constexpr struct {
    const char* name;
    MemoryType type;
  } kNames[] = {
      {"System RAM", MemoryType::kRam},
      {"Reserved", MemoryType::kReserved},
      {"Soft Reserved", MemoryType::kReserved},
      {"ACPI Tables", MemoryType::kAcpi},
      {"ACPI Non-volatile Storage", MemoryType::kNvs},
      {"Unusable memory", MemoryType::kUnusable},
      {"Persistent Memory", MemoryType::kPersistent},
      {"Persistent Memory (legacy)", MemoryType::kPersistent},
      {"Crash kernel", MemoryType::kCrashKernel},
      {"Kernel code", MemoryType::kKernelCode},
      {"Kernel rodata", MemoryType::kKernelData},
      {"Kernel data", MemoryType::kKernelData},
      {"Kernel bss", MemoryType::kKernelBss},
  };
  for (const auto& entry : kNames) {
    if (name == entry.name) return entry.type;
  }
  return std::nullopt;
}

// Parses 1 to 16 hex digits (either case). `what` names the field for the
// error message.
absl::StatusOr<uint64_t> ParseHex(std::string_view digits, const char* what) {
  if (digits.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " address is empty"));
  }
  if (digits.size() > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " address ", Quote(digits), " has more than 16 hex digits"));
  }
  uint64_t value = 0;
  for (char c : digits) {
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " address ", Quote(digits), " is not hexadecimal"));
    }
    value = (value << 4) | digit;
  }
  return value;
}

// One parsed /proc/iomem line, before its name is interpreted.
struct IomemLine {
  size_t depth = 0;
  uint64_t first = 0;  // Inclusive, as /proc/iomem prints it.
  uint64_t last = 0;   // Inclusive.
  std::string_view name;
};

// Parses "<2*depth spaces>START-END : NAME". `line` is not blank.
absl::StatusOr<IomemLine> ParseIomemLine(std::string_view line) {
  IomemLine parsed;
  size_t spaces = 0;
  while (spaces < line.size() && line[spaces] == ' ') ++spaces;
  // kernel/resource.c r_show() indents each nesting level by two spaces.
  if (spaces % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("indentation of %d spaces is not a multiple of 2", spaces));
  }
  parsed.depth = spaces / 2;
  std::string_view rest = line.substr(spaces);
  const size_t dash = rest.find('-');
  if (dash == std::string_view::npos) {
    return absl::InvalidArgumentError("no '-' between start and end address");
  }
  std::string_view after_dash = rest.substr(dash + 1);
  const size_t separator = after_dash.find(" : ");
  if (separator == std::string_view::npos) {
    return absl::InvalidArgumentError("no ' : ' between the range and name");
  }
  absl::StatusOr<uint64_t> first = ParseHex(rest.substr(0, dash), "start");
  if (!first.ok()) return first.status();
  absl::StatusOr<uint64_t> last = ParseHex(after_dash.substr(0, separator), "end");
  if (!last.ok()) return last.status();
  if (*last < *first) {
    return absl::InvalidArgumentError(
        absl::StrFormat("end 0x%x is below start 0x%x", *last, *first));
  }
  if (*last == UINT64_MAX) {
    return absl::InvalidArgumentError(
        "end 0xffffffffffffffff: a range must end below 2^64 - 1 (see Range)");
  }
  parsed.first = *first;
  parsed.last = *last;
  parsed.name = after_dash.substr(separator + 3);
  return parsed;
}

const char* EfiTypeName(uint32_t type) {
  static constexpr const char* kNames[] = {
      "EfiReservedMemoryType",
      "EfiLoaderCode",
      "EfiLoaderData",
      "EfiBootServicesCode",
      "EfiBootServicesData",
      "EfiRuntimeServicesCode",
      "EfiRuntimeServicesData",
      "EfiConventionalMemory",
      "EfiUnusableMemory",
      "EfiACPIReclaimMemory",
      "EfiACPIMemoryNVS",
      "EfiMemoryMappedIO",
      "EfiMemoryMappedIOPortSpace",
      "EfiPalCode",
      "EfiPersistentMemory",
      "EfiUnacceptedMemoryType",
  };
  if (type < sizeof(kNames) / sizeof(kNames[0])) return kNames[type];
  return nullptr;
}

// The memory type Linux's EFI stub gives an EFI descriptor
// (drivers/firmware/efi/libstub/x86-stub.c, setup_e820()).
MemoryType TypeOfEfiDescriptor(uint32_t type, uint64_t attribute) {
  switch (type) {
    case kEfiLoaderCode:
    case kEfiLoaderData:
    case kEfiBootServicesCode:
    case kEfiBootServicesData:
    case kEfiConventionalMemory:
      // The stub turns EFI_MEMORY_SP memory into E820_TYPE_SOFT_RESERVED.
      return (attribute & kEfiMemorySp) ? MemoryType::kReserved : MemoryType::kRam;
    case kEfiAcpiReclaimMemory:
      return MemoryType::kAcpi;
    case kEfiAcpiMemoryNvs:
      return MemoryType::kNvs;
    case kEfiUnusableMemory:
      return MemoryType::kUnusable;
    case kEfiPersistentMemory:
      return MemoryType::kPersistent;
    default:
      // Reserved, runtime services, MMIO, PAL code, unaccepted memory (not
      // RAM until accepted, and we pass no unaccepted-memory table), and
      // OEM/OS types: never RAM.
      return MemoryType::kReserved;
  }
}

}  // namespace

std::optional<Range> Range::Intersect(const Range& other) const {
  if (!Overlaps(other)) return std::nullopt;
  return FromStartEnd(std::max(start, other.start), std::min(end(), other.end()));
}

std::vector<Range> Range::Minus(const Range& other) const {
  if (!Overlaps(other)) {
    if (empty()) return {};
    return {*this};
  }
  std::vector<Range> pieces;
  if (other.start > start) pieces.push_back(FromStartEnd(start, other.start));
  if (other.end() < end()) pieces.push_back(FromStartEnd(other.end(), end()));
  return pieces;
}

std::string Range::ToString() const { return absl::StrFormat("[0x%x, 0x%x)", start, end()); }

std::vector<Range> Subtract(absl::Span<const Range> ranges, const Range& hole) {
  std::vector<Range> result;
  for (const Range& range : ranges) {
    for (const Range& piece : range.Minus(hole)) result.push_back(piece);
  }
  return result;
}

std::vector<Range> Coalesce(std::vector<Range> ranges) {
  ranges.erase(
      std::remove_if(ranges.begin(), ranges.end(), [](const Range& r) { return r.empty(); }),
      ranges.end());
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.start < b.start || (a.start == b.start && a.size > b.size);
  });
  std::vector<Range> merged;
  for (const Range& range : ranges) {
    if (!merged.empty() && range.start <= merged.back().end()) {
      if (range.end() > merged.back().end()) {
        merged.back() = Range::FromStartEnd(merged.back().start, range.end());
      }
      continue;
    }
    merged.push_back(range);
  }
  return merged;
}

const char* MemoryTypeName(MemoryType type) {
  switch (type) {
    case MemoryType::kRam:
      return "System RAM";
    case MemoryType::kReserved:
      return "Reserved";
    case MemoryType::kAcpi:
      return "ACPI Tables";
    case MemoryType::kNvs:
      return "ACPI Non-volatile Storage";
    case MemoryType::kUnusable:
      return "Unusable memory";
    case MemoryType::kPersistent:
      return "Persistent Memory";
    case MemoryType::kCrashKernel:
      return "Crash kernel";
    case MemoryType::kKernelCode:
      return "Kernel code";
    case MemoryType::kKernelData:
      return "Kernel data";
    case MemoryType::kKernelBss:
      return "Kernel bss";
    case MemoryType::kOther:
      return "Other";
  }
  return "Other";
}

uint32_t ToE820Type(MemoryType type) {
  switch (type) {
    case MemoryType::kRam:
    case MemoryType::kCrashKernel:
    case MemoryType::kKernelCode:
    case MemoryType::kKernelData:
    case MemoryType::kKernelBss:
      return kE820Ram;
    case MemoryType::kAcpi:
      return kE820Acpi;
    case MemoryType::kNvs:
      return kE820Nvs;
    case MemoryType::kUnusable:
      return kE820Unusable;
    case MemoryType::kPersistent:
      return kE820Pmem;
    case MemoryType::kReserved:
    case MemoryType::kOther:
      return kE820Reserved;
  }
  return kE820Reserved;
}

void MemoryMap::Add(MemoryRegion region) {
  if (region.range.empty()) return;
  if (!Range::Valid(region.range.start, region.range.size)) return;
  // Sorted by start, enclosing (larger) regions first.
  const auto comes_before = [](const MemoryRegion& a, const MemoryRegion& b) {
    return a.range.start < b.range.start ||
           (a.range.start == b.range.start && a.range.size > b.range.size);
  };
  auto pos = std::upper_bound(regions_.begin(), regions_.end(), region, comes_before);
  regions_.insert(pos, std::move(region));
}

void MemoryMap::Add(Range range, MemoryType type, std::string name) {
  if (name.empty()) name = MemoryTypeName(type);
  Add(MemoryRegion{range, type, std::move(name)});
}

std::vector<Range> MemoryMap::RangesOf(MemoryType type) const {
  std::vector<Range> ranges;
  for (const MemoryRegion& region : regions_) {
    if (region.type == type) ranges.push_back(region.range);
  }
  return Coalesce(std::move(ranges));
}

std::vector<Range> MemoryMap::CrashReservations() const {
  return RangesOf(MemoryType::kCrashKernel);
}

absl::StatusOr<Range> MemoryMap::CrashReservation() const {
  std::vector<Range> reservations = CrashReservations();
  if (reservations.empty()) {
    return absl::NotFoundError(
        "no 'Crash kernel' range in the memory map: boot with crashkernel=... "
        "(e.g. crashkernel=256M) to reserve memory for the capture kernel");
  }
  return reservations.back();
}

std::vector<BootE820Entry> MemoryMap::ToE820() const {
  // Sweep over region boundaries; between two boundaries the covering region
  // with the largest e820 type decides, like e820__update_table().
  struct Event {
    uint64_t position;
    bool opens;
    uint32_t type;
  };
  std::vector<Event> events;
  events.reserve(regions_.size() * 2);
  for (const MemoryRegion& region : regions_) {
    const uint32_t type = ToE820Type(region.type);
    events.push_back({region.range.start, true, type});
    events.push_back({region.range.end(), false, type});
  }
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.position < b.position; });
  std::vector<BootE820Entry> table;
  std::map<uint32_t, size_t> active;  // e820 type -> regions covering.
  for (size_t i = 0; i < events.size();) {
    const uint64_t position = events[i].position;
    for (; i < events.size() && events[i].position == position; ++i) {
      if (events[i].opens) {
        ++active[events[i].type];
      } else if (--active[events[i].type] == 0) {
        active.erase(events[i].type);
      }
    }
    if (active.empty() || i == events.size()) continue;
    const uint64_t next = events[i].position;
    const uint32_t type = active.rbegin()->first;
    if (!table.empty() && table.back().type == type &&
        table.back().addr + table.back().size == position) {
      table.back().size += next - position;
    } else {
      BootE820Entry entry;
      entry.addr = position;
      entry.size = next - position;
      entry.type = type;
      table.push_back(entry);
    }
  }
  return table;
}

std::string MemoryMap::ToString() const {
  std::string text;
  for (const MemoryRegion& region : regions_) {
    absl::StrAppend(&text, region.range.ToString(), " ", region.name, "\n");
  }
  return text;
}

absl::Status ValidateE820Table(absl::Span<const BootE820Entry> entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const E820Values entry = Unpack(entries[i]);
    if (entry.size == 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("e820 entry %d at 0x%x is empty", i, entry.addr));
    }
    if (!Range::Valid(entry.addr, entry.size)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "e820 entry %d: addr 0x%x + size 0x%x passes 2^64 - 1", i, entry.addr, entry.size));
    }
    if (i == 0) continue;
    const E820Values prev = Unpack(entries[i - 1]);
    const uint64_t prev_end = prev.addr + prev.size;
    if (entry.addr < prev.addr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("e820 entry %d at 0x%x is below entry %d at 0x%x: not sorted", i,
                          entry.addr, i - 1, prev.addr));
    }
    if (entry.addr < prev_end) {
      return absl::InvalidArgumentError(
          absl::StrFormat("e820 entry %d at 0x%x overlaps entry %d, which ends at 0x%x", i,
                          entry.addr, i - 1, prev_end));
    }
    if (entry.addr == prev_end && entry.type == prev.type) {
      return absl::InvalidArgumentError(
          absl::StrFormat("e820 entries %d and %d touch at 0x%x with the same type %d: not "
                          "merged",
                          i - 1, i, entry.addr, entry.type));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<MemoryMap> ParseProcIomem(std::string_view text) {
  MemoryMap map;
  // ancestors[d] is the line at depth d that encloses the current line.
  struct Ancestor {
    uint64_t first;
    uint64_t last;
    size_t line_number;
  };
  std::vector<Ancestor> ancestors;
  size_t resources = 0;
  bool any_nonzero = false;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (line.find_first_not_of(' ') == std::string_view::npos) continue;

    absl::StatusOr<IomemLine> parsed = ParseIomemLine(line);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat("/proc/iomem line %d: %s: %s", line_number,
                                                        parsed.status().message(), Quote(line)));
    }
    if (parsed->depth > ancestors.size()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("/proc/iomem line %d: nested %d levels deep, but the line above is "
                          "only %d deep: %s",
                          line_number, parsed->depth, ancestors.size(), Quote(line)));
    }
    ancestors.resize(parsed->depth);
    if (!ancestors.empty()) {
      const Ancestor& parent = ancestors.back();
      // kernel/resource.c only nests a resource inside one that covers it.
      if (parsed->first < parent.first || parsed->last > parent.last) {
        return absl::InvalidArgumentError(
            absl::StrFormat("/proc/iomem line %d: 0x%x-0x%x lies outside its parent 0x%x-0x%x "
                            "on line %d: %s",
                            line_number, parsed->first, parsed->last, parent.first, parent.last,
                            parent.line_number, Quote(line)));
      }
    }
    ancestors.push_back({parsed->first, parsed->last, line_number});
    ++resources;
    any_nonzero = any_nonzero || parsed->first != 0 || parsed->last != 0;

    std::optional<MemoryType> type = TypeOfIomemName(parsed->name);
    if (!type) continue;
    map.Add(Range::FromStartEnd(parsed->first, parsed->last + 1), *type, std::string(parsed->name));
  }
  if (resources == 0) {
    return absl::InvalidArgumentError("/proc/iomem: no resources in the text");
  }
  if (!any_nonzero) {
    return absl::PermissionDeniedError(
        absl::StrFormat("/proc/iomem: all %d ranges read as 00000000-00000000; the kernel "
                        "hides addresses from readers without CAP_SYS_ADMIN: run as root",
                        resources));
  }
  return map;
}

absl::StatusOr<MemoryMap> ParseE820Table(absl::Span<const uint8_t> bytes) {
  if (bytes.size() % sizeof(BootE820Entry) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("e820 table: %d bytes is not a whole number of %d-byte entries",
                        bytes.size(), sizeof(BootE820Entry)));
  }
  std::vector<BootE820Entry> entries(bytes.size() / sizeof(BootE820Entry));
  if (!entries.empty()) memcpy(entries.data(), bytes.data(), bytes.size());
  return ParseE820Entries(entries);
}

absl::StatusOr<MemoryMap> ParseE820Entries(absl::Span<const BootE820Entry> entries) {
  MemoryMap map;
  for (size_t i = 0; i < entries.size(); ++i) {
    const E820Values entry = Unpack(entries[i]);
    if (entry.size == 0) continue;
    if (!Range::Valid(entry.addr, entry.size)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "e820 entry %d: addr 0x%x + size 0x%x passes 2^64 - 1", i, entry.addr, entry.size));
    }
    const Range range{entry.addr, entry.size};
    if (std::optional<E820Kind> kind = KindOfE820Type(entry.type)) {
      map.Add(range, kind->type, kind->name);
    } else {
      map.Add(range, MemoryType::kOther, absl::StrFormat("e820 type %d", entry.type));
    }
  }
  return map;
}

absl::StatusOr<MemoryMap> ParseUefiMemoryMap(absl::Span<const uint8_t> bytes,
                                             size_t descriptor_size, uint32_t descriptor_version) {
  if (descriptor_version != kEfiMemoryDescriptorVersion) {
    return absl::InvalidArgumentError(
        absl::StrFormat("UEFI memory map: descriptor version %d, only version %d is defined",
                        descriptor_version, kEfiMemoryDescriptorVersion));
  }
  if (descriptor_size < sizeof(EfiMemoryDescriptor)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("UEFI memory map: descriptor size %d is smaller than "
                        "EFI_MEMORY_DESCRIPTOR (%d bytes)",
                        descriptor_size, sizeof(EfiMemoryDescriptor)));
  }
  if (bytes.size() % descriptor_size != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("UEFI memory map: %d bytes is not a whole number of %d-byte "
                        "descriptors (%d left over)",
                        bytes.size(), descriptor_size, bytes.size() % descriptor_size));
  }
  MemoryMap map;
  const size_t count = bytes.size() / descriptor_size;
  for (size_t i = 0; i < count; ++i) {
    EfiMemoryDescriptor packed;
    memcpy(&packed, bytes.data() + i * descriptor_size, sizeof(packed));
    // Aligned copies of the packed fields (StrFormat takes references).
    const struct {
      uint32_t type;
      uint64_t physical_start;
      uint64_t number_of_pages;
      uint64_t attribute;
    } d = {packed.type, packed.physical_start, packed.number_of_pages, packed.attribute};
    if (d.number_of_pages == 0) continue;
    if (d.physical_start % kEfiPageSize != 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("UEFI memory map descriptor %d: PhysicalStart 0x%x is not 4 KiB "
                          "aligned",
                          i, d.physical_start));
    }
    if (d.number_of_pages > UINT64_MAX / kEfiPageSize) {
      return absl::InvalidArgumentError(
          absl::StrFormat("UEFI memory map descriptor %d: NumberOfPages 0x%x overflows a "
                          "64-bit size",
                          i, d.number_of_pages));
    }
    const uint64_t size = d.number_of_pages * kEfiPageSize;
    if (!Range::Valid(d.physical_start, size)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("UEFI memory map descriptor %d: PhysicalStart 0x%x + 0x%x pages "
                          "passes 2^64 - 1",
                          i, d.physical_start, d.number_of_pages));
    }
    const MemoryType type = TypeOfEfiDescriptor(d.type, d.attribute);
    const char* type_name = EfiTypeName(d.type);
    std::string name =
        type_name != nullptr ? std::string(type_name) : absl::StrFormat("EFI type 0x%x", d.type);
    if (d.attribute & kEfiMemorySp) absl::StrAppend(&name, " (specific purpose)");
    map.Add(Range{d.physical_start, size}, type, std::move(name));
  }
  return map;
}

}  // namespace saveoops
