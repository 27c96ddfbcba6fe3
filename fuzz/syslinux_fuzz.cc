// libFuzzer target for the Syslinux backend's parsers of outside text and
// its MBR writer (backends/syslinux/).
//
// The input is cut at the first two 0xff bytes into
//   A: text the kernel would hand saveoops-early-arm: a setup_data `type`
//      file (ParseSetupDataType) and /proc/cmdline (ParseEarlyArmOptions);
//   B: user flag text: --console (SerialDirective) and --append
//      (FirstKernelArguments);
//   C: bytes for a partition table: up to four (type, bootable, first LBA,
//      sector count) records for BuildMbr.
// and checks, besides "no crash, no out-of-bounds read":
//   - an accepted type reads back the same when printed as ksysfs prints it;
//   - parsed options keep their documented ranges;
//   - the SERIAL directive names COM1-4 and a positive baud rate;
//   - accepted first-kernel arguments start with what pack owns and carry
//     no line break (syslinux.cfg's APPEND is one line);
//   - an MBR BuildMbr accepts is read back by the store's partition table
//     reader (what the capture program uses) with the same extents.
// Finally the whole input goes through VerifyStagedBundle, which must only
// accept what ParseBundle accepts.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "backends/syslinux/boot_config.h"
#include "backends/syslinux/early_arm.h"
#include "backends/syslinux/mbr.h"
#include "common/bundle.h"
#include "common/partition_table.h"

namespace saveoops {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "invariant violated: %s\n", what);
    abort();
  }
}

void FuzzEarlyArmText(const std::string& a) {
  const size_t nl = a.find('\n');
  const std::string type_text = a.substr(0, nl == std::string::npos ? a.size() : nl + 1);
  absl::StatusOr<uint32_t> type = ParseSetupDataType(type_text);
  if (type.ok()) {
    absl::StatusOr<uint32_t> again = ParseSetupDataType(absl::StrFormat("0x%x\n", *type));
    Check(again.ok() && *again == *type, "setup_data type round trip");
  }
  const EarlyArmOptions o = ParseEarlyArmOptions(a);
  Check(!o.next_init.empty() && o.next_init[0] == '/', "next init is absolute");
  Check(o.timeout_seconds >= 1 && o.timeout_seconds <= 3600, "timeout in range");
}

void FuzzFlags(const std::string& b) {
  const size_t cut = b.find('|');
  const std::string console = b.substr(0, cut);
  const std::string append = cut == std::string::npos ? "" : b.substr(cut + 1);
  const std::vector<std::string> consoles = absl::StrSplit(console, ' ', absl::SkipEmpty());
  const std::string serial = SerialDirective(consoles);
  if (!serial.empty()) {
    int port = -1, baud = 0;
    Check(sscanf(serial.c_str(), "SERIAL %d %d", &port, &baud) == 2, "SERIAL format");
    Check(port >= 0 && port <= 3 && baud > 0, "SERIAL port and baud");
  }
  FirstKernelBoot boot;
  boot.crashkernel_bytes = uint64_t{133} << 20;
  boot.consoles = consoles;
  boot.append = append;
  absl::StatusOr<std::string> args = FirstKernelArguments(boot);
  if (args.ok()) {
    Check(absl::StartsWith(*args, "crashkernel=133M rdinit=/saveoops-early-arm"),
          "owned arguments first");
    Check(args->find('\n') == std::string::npos && args->find('\r') == std::string::npos &&
              args->find('\0') == std::string::npos,
          "one line");
    Check(absl::StartsWith(BootedCommandLine(*args), "BOOT_IMAGE=vmlinuz "), "booted command line");
  }
}

uint64_t Take(const uint8_t*& p, const uint8_t* end, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes && p < end; ++i) v |= uint64_t{*p++} << (8 * i);
  return v;
}

void FuzzMbr(const uint8_t* p, const uint8_t* end) {
  std::vector<MbrPartition> parts;
  while (p < end && parts.size() < 5) {
    MbrPartition m;
    m.type = static_cast<uint8_t>(Take(p, end, 1));
    m.bootable = (Take(p, end, 1) & 1) != 0;
    // Keep the image the reader needs small (under 1 MiB): LBAs and sizes
    // below 2^10 sectors. The 32-bit limits are unit-tested in mbr_test.
    m.first_lba = Take(p, end, 2) & 0x3ff;
    m.sector_count = Take(p, end, 2) & 0x3ff;
    parts.push_back(m);
  }
  absl::StatusOr<std::array<uint8_t, kSectorSize>> mbr = BuildMbr({}, 0x12345678, parts);
  if (!mbr.ok()) return;
  uint64_t end_lba = 1;
  for (const MbrPartition& m : parts) end_lba = std::max(end_lba, m.first_lba + m.sector_count);
  std::vector<uint8_t> image(end_lba * kSectorSize);
  memcpy(image.data(), mbr->data(), mbr->size());
  absl::StatusOr<std::vector<Partition>> read = WalkPartitionTable(image);
  Check(read.ok(), "store reader accepts a written MBR");
  Check(read->size() == parts.size(), "same partition count");
  for (size_t i = 0; i < parts.size(); ++i) {
    Check((*read)[i].offset == parts[i].first_lba * kSectorSize, "same offset");
    Check((*read)[i].size == parts[i].sector_count * kSectorSize, "same size");
  }
}

}  // namespace
}  // namespace saveoops

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  const uint8_t* end = data + size;
  const uint8_t* cut1 = static_cast<const uint8_t*>(memchr(data, 0xff, size));
  const uint8_t* b = cut1 == nullptr ? end : cut1 + 1;
  const uint8_t* cut2 = b < end ? static_cast<const uint8_t*>(memchr(b, 0xff, end - b)) : nullptr;
  const uint8_t* c = cut2 == nullptr ? end : cut2 + 1;
  FuzzEarlyArmText(std::string(reinterpret_cast<const char*>(data), (cut1 ? cut1 : end) - data));
  FuzzFlags(std::string(reinterpret_cast<const char*>(b), (cut2 ? cut2 : end) - b));
  FuzzMbr(c, end);

  StagedBundle staged{0, std::vector<uint8_t>(data, end)};
  const bool verified = VerifyStagedBundle(staged).ok();
  Check(verified == ParseBundle(staged.bytes).ok(), "VerifyStagedBundle == ParseBundle");
  return 0;
}
