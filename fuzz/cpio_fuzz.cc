// Fuzzes the newc reader (initramfs/cpio.h) and round-trips what it
// accepts: re-writing the parsed entries with CpioWriter and parsing the
// result must give the same names, types, permissions, data and device
// numbers, and writing that second parse again must reproduce the bytes.
#include <stddef.h>
#include <stdint.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "fuzz/allocation_meter.h"
#include "initramfs/cpio.h"

namespace {

// Adds `e` to `w`; false if the writer cannot express it (FIFOs, sockets,
// block devices) or refuses it (names CpioWriter rejects such as "." or a
// name given twice, which the reader allows as the kernel does).
bool AddToWriter(const saveoops::CpioEntry& e, saveoops::CpioWriter& w) {
  absl::Status status;
  switch (e.type()) {
    case saveoops::kCpioTypeDirectory:
      status = w.AddDirectory(e.name, e.permissions());
      break;
    case saveoops::kCpioTypeRegular:
      status = w.AddFile(e.name, e.data, e.permissions());
      break;
    case saveoops::kCpioTypeSymlink:
      if (e.permissions() != 0777) return false;  // writer always uses 0777
      status = w.AddSymlink(
          e.name, absl::string_view(reinterpret_cast<const char*>(e.data.data()), e.data.size()));
      break;
    case saveoops::kCpioTypeCharDevice:
      status = w.AddCharDevice(e.name, e.permissions(), e.rdev_major, e.rdev_minor);
      break;
    default:
      return false;
  }
  return status.ok();
}

std::string WithoutLeadingSlash(const std::string& name) {
  return !name.empty() && name[0] == '/' ? name.substr(1) : name;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Span<const uint8_t> input(data, size);
  // Entries copy names and data out of the input and each costs a header of
  // it: linear in the input, never in a claimed size.
  saveoops::AllocationMeter meter;
  absl::StatusOr<std::vector<saveoops::CpioEntry>> parsed = saveoops::ParseCpio(input);
  saveoops::CheckAllocatedAtMost(meter, 8 * uint64_t{size} + saveoops::kFixedAllocationSlack);
  if (!parsed.ok()) return 0;
  for (const saveoops::CpioEntry& e : *parsed) {
    // Everything reported lies inside the input.
    if (e.header_offset + saveoops::kCpioHeaderSize + e.name.size() + 1 + e.data.size() > size) {
      __builtin_trap();
    }
  }

  saveoops::CpioWriter writer;
  for (const saveoops::CpioEntry& e : *parsed) {
    if (!AddToWriter(e, writer)) return 0;
  }
  const std::vector<uint8_t> written = writer.Finish();
  absl::StatusOr<std::vector<saveoops::CpioEntry>> again = saveoops::ParseCpio(written);
  if (!again.ok()) __builtin_trap();

  std::map<std::string, const saveoops::CpioEntry*> by_name;
  for (const saveoops::CpioEntry& e : *again) {
    if (!by_name.emplace(e.name, &e).second) __builtin_trap();  // duplicate
  }
  for (const saveoops::CpioEntry& e : *parsed) {
    auto it = by_name.find(WithoutLeadingSlash(e.name));
    if (it == by_name.end()) __builtin_trap();
    const saveoops::CpioEntry& r = *it->second;
    if (r.mode != e.mode || r.data != e.data) __builtin_trap();
    if (e.type() == saveoops::kCpioTypeCharDevice &&
        (r.rdev_major != e.rdev_major || r.rdev_minor != e.rdev_minor)) {
      __builtin_trap();
    }
  }

  // The writer's own output is a fixed point.
  saveoops::CpioWriter rewriter;
  for (const saveoops::CpioEntry& e : *again) {
    if (!AddToWriter(e, rewriter)) __builtin_trap();
  }
  if (rewriter.Finish() != written) __builtin_trap();
  return 0;
}
