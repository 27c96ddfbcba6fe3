// libFuzzer target for the UEFI backend's GPT reader (backends/uefi/gpt.h),
// which pack uses to re-check every image it writes and which must never
// read outside the disk, whatever the tables say.
//
// Random bytes never carry two headers with matching CRC32s, so each input
// drives three passes:
//   1. the bytes as a disk image (early rejections);
//   2. a valid GPT built by BuildGpt() from input-chosen partitions, which
//      must read back identically, then patched at input-chosen offsets with
//      both headers' CRC32s recomputed (reaches the geometry, overlap and
//      primary/backup agreement checks);
//   3. every accepted disk is checked: partitions inside the usable range,
//      no overlaps; the lenient walker (common/partition_table.h), which
//      shares the entry decoding, runs on every input and, where it accepts
//      a disk the strict reader accepted, must list the same partitions.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vector>

#include "absl/types/span.h"
#include "backends/uefi/gpt.h"
#include "common/partition_table.h"

namespace saveoops {
namespace {

void CheckAccepted(const GptDisk& disk) {
  for (size_t i = 0; i < disk.partitions.size(); ++i) {
    const GptPartition& a = disk.partitions[i];
    if (a.first_lba > a.last_lba || a.first_lba < 2 || a.last_lba >= disk.sector_count)
      __builtin_trap();
    for (size_t j = i + 1; j < disk.partitions.size(); ++j) {
      const GptPartition& b = disk.partitions[j];
      if (a.first_lba <= b.last_lba && b.first_lba <= a.last_lba) __builtin_trap();
    }
  }
}

void Parse(const std::vector<uint8_t>& image) {
  absl::StatusOr<GptDisk> disk = ParseGptImage(image);
  if (disk.ok()) CheckAccepted(*disk);
  absl::StatusOr<std::vector<Partition>> walked = WalkPartitionTable(image);
  // The walker may refuse geometry the strict reader allows (entries over
  // 4 KiB), never the other way round in what it lists.
  if (!disk.ok() || !walked.ok()) return;
  if (walked->size() != disk->partitions.size()) __builtin_trap();
  for (size_t i = 0; i < walked->size(); ++i) {
    const Partition& w = (*walked)[i];
    const GptPartition& g = disk->partitions[i];
    if (w.scheme != PartitionScheme::kGpt || w.offset != g.first_lba * kGptSectorSize ||
        w.size != (g.last_lba - g.first_lba + 1) * kGptSectorSize || w.gpt_type != g.type_guid) {
      __builtin_trap();
    }
  }
}

// Recomputes the entry array CRC and header CRC of the header at `lba`, if
// its fields leave that possible inside the image.
void Resign(std::vector<uint8_t>& image, uint64_t lba) {
  const size_t h = lba * kGptSectorSize;
  if (h + kGptSectorSize > image.size()) return;
  uint32_t header_size, count, esize;
  uint64_t entries;
  memcpy(&header_size, &image[h + 12], 4);
  memcpy(&entries, &image[h + 72], 8);
  memcpy(&count, &image[h + 80], 4);
  memcpy(&esize, &image[h + 84], 4);
  const uint64_t bytes = uint64_t{count} * esize;
  if (entries < image.size() / kGptSectorSize && bytes <= image.size() - entries * kGptSectorSize) {
    const uint32_t crc = GptCrc32(&image[entries * kGptSectorSize], bytes);
    memcpy(&image[h + 88], &crc, 4);
  }
  if (header_size < 92 || header_size > kGptSectorSize) return;
  memset(&image[h + 16], 0, 4);
  const uint32_t crc = GptCrc32(&image[h], header_size);
  memcpy(&image[h + 16], &crc, 4);
}

void FuzzBuilt(const uint8_t* data, size_t size) {
  if (size < 8) return;
  GptDisk disk;
  disk.sector_count = 68 + data[0] % 64;
  for (int i = 0; i < 16; ++i) disk.disk_guid[i] = data[i % size];
  const size_t parts = data[1] % 4;
  size_t pos = 2;
  for (size_t p = 0; p < parts && pos + 2 <= size; ++p, pos += 2) {
    GptPartition part;
    part.type_guid[0] = 1 + data[pos] % 7;
    part.unique_guid[1] = data[pos];
    part.first_lba = 30 + data[pos] % 40;
    part.last_lba = part.first_lba + data[pos + 1] % 30;
    part.name = std::string(data[pos + 1] % 40, 'a');
    disk.partitions.push_back(part);
  }
  absl::StatusOr<GptTables> tables = BuildGpt(disk);
  if (!tables.ok()) return;
  std::vector<uint8_t> image(disk.sector_count * kGptSectorSize, 0);
  memcpy(image.data(), tables->head.data(), tables->head.size());
  memcpy(image.data() + tables->tail_offset, tables->tail.data(), tables->tail.size());
  absl::StatusOr<GptDisk> back = ParseGptImage(image);
  if (!back.ok() || back->partitions.size() != disk.partitions.size()) __builtin_trap();
  for (size_t i = 0; i < disk.partitions.size(); ++i) {
    if (back->partitions[i].first_lba != disk.partitions[i].first_lba ||
        back->partitions[i].last_lba != disk.partitions[i].last_lba ||
        back->partitions[i].name != disk.partitions[i].name) {
      __builtin_trap();
    }
  }
  // Patches: (offset u16, xor byte) triples from the rest of the input.
  for (; pos + 3 <= size; pos += 3) {
    const size_t off = (size_t{data[pos]} | size_t{data[pos + 1]} << 8) % image.size();
    image[off] ^= data[pos + 2];
  }
  Parse(image);
  Resign(image, 1);
  Resign(image, disk.sector_count - 1);
  Parse(image);
}

}  // namespace
}  // namespace saveoops

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  Parse(std::vector<uint8_t>(data, data + size));
  FuzzBuilt(data, size);
  return 0;
}
