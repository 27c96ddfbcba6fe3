// Fuzzes the record store (store/ring.h):
//   mode 0: ParseStoreImage(), ParseStoreMetadata() and WalkPartitionTable()
//           on raw bytes, and the store readers on every partition the
//           table names. The readers must never allocate more than the
//           region they read can justify, whatever its headers claim
//           (fuzz/allocation_meter.h);
//   mode 1: a real store built from the input (format, appends with
//           input-chosen contents), then input-chosen byte patches. After
//           every append the round trip must hold: the new record reads
//           back exactly as planned, the previously newest record and every
//           record outside the new one's extent survive unchanged, and the
//           sequence number is one past the highest seen. Any violation
//           traps.
//   mode 2: an MBR/GPT skeleton whose table fields come from the input, so
//           the partition walker (common/partition_table.h) is reached on
//           every run.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/byte_source.h"
#include "common/partition_table.h"
#include "fuzz/allocation_meter.h"
#include "store/ring.h"
#include "store/store_format.h"

namespace saveoops {
namespace {

// Hands out input bytes; zeros once the input is used up.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint32_t U16() { return Byte() | (uint32_t{Byte()} << 8); }
  uint32_t U32() { return U16() | (U16() << 16); }
  std::string Text(size_t n) {
    std::string s;
    s.reserve(n);
    // Input bytes first, then a pattern, so long logs cost little input.
    for (size_t i = 0; i < n; ++i) {
      s += static_cast<char>(pos_ < size_ ? data_[pos_++] : 'a' + i % 26);
    }
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// ParseStoreImage() keeps the logs (bytes of the region, each record's
// extent disjoint from the others') plus a listing of at most one entry per
// block; ParseStoreMetadata() keeps no log and reads in chunks no bigger
// than a log, which lies inside the region.
void ParseStoreChecked(absl::Span<const uint8_t> region) {
  {
    AllocationMeter meter;
    (void)ParseStoreImage(region);
    CheckAllocatedAtMost(meter, 2 * uint64_t{region.size()} + kFixedAllocationSlack);
  }
  {
    const MemoryByteSource bytes(region);
    AllocationMeter meter;
    (void)ParseStoreMetadata(bytes, "store image");
    CheckAllocatedAtMost(meter, uint64_t{region.size()} + kFixedAllocationSlack);
  }
}

bool SameRecord(const CaptureRecord& a, const CaptureRecord& b) {
  return a.sequence == b.sequence && a.store_uuid == b.store_uuid && a.boot_id == b.boot_id &&
         a.capture_time_unix == b.capture_time_unix && a.kernel_release == b.kernel_release &&
         a.panic_reason == b.panic_reason && a.log_text == b.log_text &&
         a.log_truncated == b.log_truncated && a.original_log_size == b.original_log_size &&
         a.log_size == b.log_size && a.kernel_release_truncated == b.kernel_release_truncated &&
         a.panic_reason_truncated == b.panic_reason_truncated && a.log_sha256 == b.log_sha256 &&
         a.offset_in_store == b.offset_in_store && a.record_bytes == b.record_bytes;
}

const CaptureRecord* FindSeq(const StoreListing& l, uint64_t seq) {
  for (const CaptureRecord& r : l.records) {
    if (r.sequence == seq) return &r;
  }
  return nullptr;
}

// Appends `rec` to `image` and checks the round-trip properties.
void AppendAndCheck(std::vector<uint8_t>& image, const NewRecord& rec) {
  absl::StatusOr<StoreListing> before = ParseStoreImage(image);
  if (!before.ok()) return;  // patched into an invalid store
  absl::StatusOr<PlannedRecordWrite> plan = PlanAppendToImage(image, rec);
  if (!plan.ok()) {
    Check(before->highest_sequence_seen == UINT64_MAX);
    return;
  }
  const uint64_t at = plan->offset_in_store;
  const uint64_t len = plan->bytes.size();
  Check(at >= before->info.ring_start && len % kStoreBlockSize == 0 &&
        len <= before->info.max_record_bytes && at + len <= before->info.ring_end);
  Check(plan->record.sequence == before->highest_sequence_seen + 1);
  const std::string& log = rec.log_text;
  Check(plan->record.original_log_size == log.size());
  Check(log.size() >= plan->record.log_text.size() &&
        log.compare(log.size() - plan->record.log_text.size(), std::string::npos,
                    plan->record.log_text) == 0);
  Check(plan->record.log_truncated == (plan->record.log_text.size() < log.size()));
  memcpy(image.data() + at, plan->bytes.data(), len);

  absl::StatusOr<StoreListing> after = ParseStoreImage(image);
  Check(after.ok());
  const CaptureRecord* added = FindSeq(*after, plan->record.sequence);
  Check(added != nullptr && SameRecord(*added, plan->record));
  Check(after->records.back().sequence == plan->record.sequence);
  for (const CaptureRecord& old : before->records) {
    const bool overlapped =
        old.offset_in_store < at + len && at < old.offset_in_store + old.record_bytes;
    const CaptureRecord* kept = FindSeq(*after, old.sequence);
    // The newest record is never overwritten (store_format.h, the proof
    // under "Per-record limit").
    if (&old == &before->records.back()) Check(!overlapped);
    if (!overlapped) {
      Check(kept != nullptr && SameRecord(*kept, old));
    } else if (kept != nullptr) {
      Check(SameRecord(*kept, old));
    }
  }
}

void FuzzRaw(const uint8_t* data, size_t size) {
  const absl::Span<const uint8_t> bytes(data, size);
  ParseStoreChecked(bytes);
  absl::StatusOr<std::vector<Partition>> parts = WalkPartitionTable(bytes);
  if (!parts.ok()) return;
  for (const Partition& p : *parts) {
    if (p.offset >= size) continue;
    ParseStoreChecked(bytes.subspan(p.offset, p.size));
  }
}

void FuzzStore(Input& in) {
  const uint64_t ring_blocks = kMinRingBlocks + in.Byte() % 14;
  std::vector<uint8_t> image(kRingStartOffset + ring_blocks * kStoreBlockSize);
  Uuid uuid;
  for (auto& b : uuid) b = in.Byte();
  Check(FormatStoreImage(absl::MakeSpan(image), uuid).ok());
  const int appends = in.Byte() % 8;
  for (int i = 0; i < appends; ++i) {
    NewRecord rec;
    for (auto& b : rec.boot_id) b = in.Byte();
    rec.capture_time_unix = in.U32();
    rec.kernel_release = in.Text(in.Byte() % 80);
    rec.panic_reason = in.Text(in.U16() % 300);
    rec.log_text = in.Text(in.U32() % (ring_blocks * kStoreBlockSize + 5000));
    AppendAndCheck(image, rec);
  }
  // Damage, then parse and append once more.
  const int patches = in.Byte() % 16;
  for (int i = 0; i < patches; ++i) {
    const uint32_t where = in.U32() % image.size();
    image[where] ^= in.Byte() | 1;
  }
  NewRecord rec;
  rec.log_text = in.Text(in.U16());
  AppendAndCheck(image, rec);
}

void FuzzPartitionTable(Input& in) {
  std::vector<uint8_t> image(size_t{64} * 1024);
  // MBR entries and signature.
  for (size_t i = 446; i < 510; ++i) image[i] = in.Byte();
  image[510] = 0x55;
  image[511] = 0xAA;
  // An EBR the chain may reach.
  const size_t ebr = size_t{in.Byte() % 120u + 1u} * kMbrSectorSize;
  for (size_t i = 446; i < 478; ++i) image[ebr + i] = in.Byte();
  image[ebr + 510] = 0x55;
  image[ebr + 511] = 0xAA;
  if (in.Byte() & 1) {
    GptHeader h;
    memset(&h, 0, sizeof(h));
    memcpy(h.signature, kGptSignature, sizeof(h.signature));
    h.header_size = in.U32() % 200;
    h.partition_entry_lba = in.U32() % 140;
    h.number_of_partition_entries = in.U32();
    if (in.Byte() & 1) h.number_of_partition_entries %= 200;
    h.size_of_partition_entry = 128u << (in.Byte() % 7);
    const size_t at = (in.Byte() & 1) ? 4096 : 512;
    memcpy(&image[at], &h, sizeof(h));
  }
  // The rest of the input lands after the tables (GPT entries live there).
  for (size_t i = 1024; i < image.size() && !in.empty(); ++i) {
    image[i] = in.Byte();
  }
  FuzzRaw(image.data(), image.size());
}

}  // namespace
}  // namespace saveoops

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  saveoops::Input in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      saveoops::FuzzRaw(data + 1, size - 1);
      break;
    case 1:
      saveoops::FuzzStore(in);
      break;
    default:
      saveoops::FuzzPartitionTable(in);
      break;
  }
  return 0;
}
