#include "backends/uefi/arming_initrd.h"

namespace saveoops {
namespace {

// newc (buffer-format.rst): "070701", then 13 fields of 8 hex digits.
constexpr size_t kNewcHeaderSize = 110;
constexpr uint32_t kModeDirectory = 0040000;
constexpr uint32_t kModeRegular = 0100000;

uint64_t AlignUp4(uint64_t n) { return (n + 3) & ~uint64_t{3}; }

class HeaderWriter {
 public:
  explicit HeaderWriter(ArmingInitrd* out) : out_(out) {}

  // Appends one newc header and its padded name; returns false if the
  // header buffer is full.
  bool Entry(uint32_t ino, uint32_t mode, uint32_t nlink, uint32_t filesize, const char* name) {
    size_t name_size = 1;  // c_namesize counts the NUL.
    while (name[name_size - 1] != '\0') ++name_size;
    const size_t total = AlignUp4(kNewcHeaderSize + name_size);
    if (used_ + total > kArmingHeaderBytes) return false;
    uint8_t* p = out_->headers + used_;
    const char kMagic[] = "070701";
    for (int i = 0; i < 6; ++i) *p++ = static_cast<uint8_t>(kMagic[i]);
    // c_ino c_mode c_uid c_gid c_nlink c_mtime c_filesize c_devmajor
    // c_devminor c_rdevmajor c_rdevminor c_namesize c_check; uid, gid,
    // mtime and devices 0 so the archive is the same on every boot.
    const uint32_t f[13] = {
        ino, mode, 0, 0, nlink, 0, filesize, 0, 0, 0, 0, static_cast<uint32_t>(name_size), 0};
    for (int i = 0; i < 13; ++i) {
      for (int d = 7; d >= 0; --d) *p++ = "0123456789abcdef"[(f[i] >> (4 * d)) & 0xf];
    }
    for (size_t i = 0; i < name_size; ++i) *p++ = static_cast<uint8_t>(name[i]);
    for (size_t i = kNewcHeaderSize + name_size; i < total; ++i) *p++ = 0;
    pending_ += total;
    used_ += total;
    return true;
  }

  // Ends the run of header bytes written since the last Flush() as one
  // piece.
  bool Flush() {
    if (pending_ == 0) return true;
    if (!Add(out_->headers + used_ - pending_, pending_)) return false;
    pending_ = 0;
    return true;
  }

  bool Add(const uint8_t* data, uint64_t size) {
    if (size == 0) return true;
    if (out_->piece_count == kMaxInitrdPieces) return false;
    if (out_->total_size + size < out_->total_size) return false;
    out_->pieces[out_->piece_count++] = {data, size};
    out_->total_size += size;
    return true;
  }

  // Data followed by zeros to a 4-byte boundary of the whole initrd.
  bool AddPadded(const uint8_t* data, uint64_t size) {
    if (!Flush() || !Add(data, size)) return false;
    return Add(nullptr, AlignUp4(out_->total_size) - out_->total_size);
  }

 private:
  ArmingInitrd* out_;
  size_t used_ = 0;
  size_t pending_ = 0;
};

}  // namespace

bool BuildArmingInitrd(const uint8_t* distro, uint64_t distro_size, const ArmingFile* files,
                       size_t file_count, ArmingInitrd* out) {
  out->piece_count = 0;
  out->total_size = 0;
  HeaderWriter w(out);
  if (!w.AddPadded(distro, distro_size)) return false;
  if (file_count == 0) return true;
  if (file_count > kMaxArmingFiles) return false;
  // Names without a leading '/', as gen_init_cpio writes them; the parent
  // directory comes first so the kernel can create the files in it.
  if (!w.Entry(1, kModeDirectory | 0755, 2, 0, "saveoops")) return false;
  for (size_t i = 0; i < file_count; ++i) {
    const ArmingFile& f = files[i];
    if (f.size > 0xffffffffu) return false;
    if (!w.Entry(static_cast<uint32_t>(i + 2), kModeRegular | (f.mode & 07777), 1,
                 static_cast<uint32_t>(f.size), f.name) ||
        !w.AddPadded(f.data, f.size)) {
      return false;
    }
  }
  return w.Entry(0, 0, 1, 0, "TRAILER!!!") && w.Flush();
}

}  // namespace saveoops
