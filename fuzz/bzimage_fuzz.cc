// Fuzzes ParseBzImage on arbitrary bytes and, for every image it accepts,
// BuildBootParams on the result: the zero page must carry the image's setup
// header bytes unchanged except for the fields a loader writes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/boot_params.h"
#include "common/bootproto.h"
#include "common/bzimage.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Offsets BuildBootParams may change inside the copied setup header
// (type_of_loader, loadflags, ramdisk_image/size, heap_end_ptr,
// ext_loader_ver/type, cmd_line_ptr, setup_data).
bool LoaderWritten(size_t off) {
  return (off >= 0x210 && off < 0x212) || (off >= 0x218 && off < 0x220) ||
         (off >= 0x224 && off < 0x22c) || (off >= 0x250 && off < 0x258);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  absl::StatusOr<BzImageInfo> info = ParseBzImage(absl::MakeConstSpan(data, size));
  if (!info.ok()) {
    Check(absl::StartsWith(info.status().message(), "bzImage: "));
    return 0;
  }
  // ParseBzImage's guarantees.
  Check(info->protocol_version >= kBootProtocol2_12);
  Check(info->setup_sects >= kSetupSectsMin && info->setup_sects <= kSetupSectsMax);
  Check(info->setup_size_bytes == (size_t{info->setup_sects} + 1) * 512);
  Check(info->payload_offset == info->setup_size_bytes);
  Check(info->payload_offset + info->payload_size == size);
  Check(info->syssize_bytes != 0 && info->syssize_bytes <= info->payload_size);
  Check((info->loadflags & kLoadedHigh) != 0);
  Check(info->relocatable);
  Check((info->xloadflags & kXlfKernel64) != 0);
  Check(info->kernel_alignment != 0 &&
        (info->kernel_alignment & (info->kernel_alignment - 1)) == 0);
  Check(info->init_size >= info->payload_size && info->init_size != 0);
  Check(info->cmdline_size != 0);
  Check(info->pref_address != 0 && info->pref_address % info->kernel_alignment == 0);
  Check(info->setup_header_end >= kSetupHeaderMinEnd2_12 &&
        info->setup_header_end <= kSetupHeaderMaxEnd);
  Check(info->setup_header_bytes.size() == info->setup_header_end - kSetupHeaderOffset);
  Check(memcmp(info->setup_header_bytes.data(), data + kSetupHeaderOffset,
               info->setup_header_bytes.size()) == 0);
  Check(info->kernel_version.size() < info->setup_size_bytes);

  // Feed it to the zero-page builder.
  BootParamsSpec spec;
  spec.kernel = &*info;
  spec.cmdline.assign(info->cmdline_size < 64 ? info->cmdline_size : 64, 'c');
  spec.e820.resize(130);
  for (size_t i = 0; i < spec.e820.size(); ++i) {
    spec.e820[i].addr = i << 20;
    spec.e820[i].size = 1 << 20;
    spec.e820[i].type = kE820Ram;
  }
  spec.blob_addr = 0x90000;
  spec.initrd_addr = 0x100000;
  spec.initrd_size = 0x1000;
  if (info->initrd_addr_max < spec.initrd_addr + spec.initrd_size - 1 &&
      (info->xloadflags & kXlfCanBeLoadedAbove4G) == 0) {
    spec.initrd_addr = 0;
    spec.initrd_size = 0;
  }
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(spec);
  Check(blob.ok());
  Check(blob->size() == BootParamsBlobSize(spec.cmdline.size(), 130));
  for (size_t off = kSetupHeaderOffset; off < info->setup_header_end; ++off) {
    if (!LoaderWritten(off)) Check((*blob)[off] == data[off]);
  }
  for (size_t off = info->setup_header_end; off < kSetupHeaderMaxEnd; ++off) {
    Check((*blob)[off] == 0);
  }
  return 0;
}
