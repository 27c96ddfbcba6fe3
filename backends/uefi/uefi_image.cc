#include "backends/uefi/uefi_image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/byte_source.h"
#include "common/sha256.h"
#include "host/run_tool.h"
#include "store/locate.h"
#include "store/ring.h"
#include "store/store_format.h"

namespace saveoops {
namespace {

uint64_t RoundUp(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

std::string MiB(uint64_t bytes) { return absl::StrFormat("%.1f MiB", bytes / 1048576.0); }

// mtools otherwise insists on a geometry check meant for floppies.
absl::Status RunMtool(const std::vector<std::string>& argv) {
  return RunTool(argv, {{"MTOOLS_SKIP_CHECK", "1"}});
}

absl::Status PwriteAll(int fd, const uint8_t* p, size_t size, uint64_t offset,
                       const std::string& path) {
  while (size > 0) {
    const ssize_t n = pwrite(fd, p, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return absl::InternalError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
    p += n;
    size -= n;
    offset += n;
  }
  return absl::OkStatus();
}

// The directories that must exist before `path` can be copied, outermost
// first: "/EFI/BOOT/BOOTX64.EFI" -> "/EFI", "/EFI/BOOT".
std::vector<std::string> ParentDirs(const std::string& path) {
  std::vector<std::string> dirs;
  for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    dirs.push_back(path.substr(0, pos));
  }
  return dirs;
}

}  // namespace

uint64_t EspBytesNeeded(const std::vector<uint64_t>& file_sizes) {
  uint64_t data = 0;
  for (uint64_t s : file_sizes) data += RoundUp(s, kMaxEspCluster);
  return data + data / 64 + kUefiMiB;
}

absl::StatusOr<UefiImageLayout> PlanUefiImage(const std::vector<uint64_t>& file_sizes,
                                              uint64_t esp_size, uint64_t store_size,
                                              uint64_t image_size) {
  UefiImageLayout l;
  l.esp_offset = kUefiEspOffset;
  l.esp_needed = EspBytesNeeded(file_sizes);
  if (esp_size == 0) {
    esp_size = std::max(kMinEspSize, RoundUp(l.esp_needed + l.esp_needed / 16, kUefiMiB));
  } else if (esp_size % kUefiMiB != 0 || esp_size < std::max(kMinEspSize, l.esp_needed)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--esp-size ", MiB(esp_size), " is too small or not whole MiB: the files need ",
        MiB(l.esp_needed), " and a FAT32 ESP at least ", MiB(kMinEspSize), "; give at least ",
        MiB(RoundUp(std::max(kMinEspSize, l.esp_needed), kUefiMiB)), " or leave --esp-size out"));
  }
  l.esp_size = esp_size;
  if (store_size < RoundUp(kMinStoreSize, kUefiMiB) || store_size % kUefiMiB != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--store-size ", MiB(store_size),
                                                   " must be whole MiB and at least ",
                                                   MiB(RoundUp(kMinStoreSize, kUefiMiB))));
  }
  l.store_offset = l.esp_offset + l.esp_size;
  // The backup GPT needs kGptTailSectors at the end; 1 MiB keeps the image
  // a whole number of MiB.
  const uint64_t minimum = l.store_offset + store_size + kUefiMiB;
  if (image_size == 0) {
    image_size = minimum;
  } else if (image_size % kUefiMiB != 0 || image_size < minimum) {
    return absl::InvalidArgumentError(absl::StrCat("--image-size ", MiB(image_size),
                                                   " must be whole MiB and at least ", MiB(minimum),
                                                   " (1 MiB GPT + ", MiB(l.esp_size), " ESP + ",
                                                   MiB(store_size), " store + 1 MiB backup GPT)"));
  }
  l.image_size = image_size;
  l.store_size = image_size - kUefiMiB - l.store_offset;
  return l;
}

UefiImageIdentity DeriveUefiImageIdentity(const std::string& seed) {
  auto guid = [&](const char* label) {
    const std::string input = absl::StrCat("saveoops-uefi-image/", label, "/", seed);
    const Sha256Digest d = Sha256Hash(input.data(), input.size(), Sha256Engine::kPortable);
    GptGuid g;
    for (int i = 0; i < 16; ++i) g[i] = d.bytes[i];
    // On-disk byte 7 is the high byte of Data3 (version); byte 8 starts
    // Data4 (variant), RFC 4122 section 4.4.
    g[7] = static_cast<uint8_t>((g[7] & 0x0f) | 0x40);
    g[8] = static_cast<uint8_t>((g[8] & 0x3f) | 0x80);
    return g;
  };
  UefiImageIdentity id;
  id.disk_guid = guid("disk");
  id.esp_guid = guid("esp");
  id.store_guid = guid("store");
  const GptGuid s = guid("fat-serial");
  id.volume_serial =
      static_cast<uint32_t>(s[0]) | s[1] << 8 | s[2] << 16 | static_cast<uint32_t>(s[3]) << 24;
  return id;
}

absl::StatusOr<std::string> FindMtool(const std::string& name) {
  const char* path = getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty());
  dirs.push_back("/usr/bin");
  for (const std::string& d : dirs) {
    const std::string candidate = absl::StrCat(d, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat(name,
                                          " not found in $PATH or /usr/bin: install mtools "
                                          "(tools/setup.sh)"));
}

absl::Status WriteUefiImage(const UefiImageLayout& layout, const UefiImageIdentity& identity,
                            const std::vector<EspFile>& files, const std::string& out,
                            const std::function<void(const std::string&)>& progress) {
  absl::StatusOr<std::string> mformat = FindMtool("mformat");
  if (!mformat.ok()) return mformat.status();
  absl::StatusOr<std::string> mmd = FindMtool("mmd");
  if (!mmd.ok()) return mmd.status();
  absl::StatusOr<std::string> mcopy = FindMtool("mcopy");
  if (!mcopy.ok()) return mcopy.status();

  const std::string tmp = out + ".tmp";
  // --out's directory passed CheckTrustedDirectory, so a leftover OUT.tmp
  // is an earlier pack's; remove it (a symlink is removed, not followed)
  // and create ours exclusively, never through a planted link.
  unlink(tmp.c_str());
  // 0600: the store partition receives records, a dead kernel's log, for
  // the image's owner only (README, UEFI).
  int fd = open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return absl::InternalError(absl::StrCat("cannot create ", tmp, ": ", strerror(errno)));
  bool keep = false;
  auto cleanup = absl::MakeCleanup([&] {
    if (fd >= 0) close(fd);
    if (!keep) unlink(tmp.c_str());
  });
  // Sparse: only the tables, the FAT structures, the files and the store
  // superblocks take space.
  if (ftruncate(fd, layout.image_size) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot size ", tmp, " to ", layout.image_size, " bytes: ", strerror(errno)));
  }

  progress(absl::StrFormat("GPT: ESP %s at 1 MiB, store %s, image %s", MiB(layout.esp_size),
                           MiB(layout.store_size), MiB(layout.image_size)));
  GptDisk disk;
  disk.sector_count = layout.image_size / kGptSectorSize;
  disk.disk_guid = identity.disk_guid;
  auto type = [](const char* text) { return *ParseGuidText(text); };
  disk.partitions.push_back(
      {type(kEspTypeGuid), identity.esp_guid, layout.esp_offset / kGptSectorSize,
       (layout.esp_offset + layout.esp_size) / kGptSectorSize - 1, 0, "EFI System Partition"});
  disk.partitions.push_back(
      {type(kSaveoopsStoreTypeGuid), identity.store_guid, layout.store_offset / kGptSectorSize,
       (layout.store_offset + layout.store_size) / kGptSectorSize - 1, 0, "Saveoops record store"});
  absl::StatusOr<GptTables> tables = BuildGpt(disk);
  if (!tables.ok()) return tables.status();
  if (absl::Status s = PwriteAll(fd, tables->head.data(), tables->head.size(), 0, tmp); !s.ok())
    return s;
  if (absl::Status s =
          PwriteAll(fd, tables->tail.data(), tables->tail.size(), tables->tail_offset, tmp);
      !s.ok()) {
    return s;
  }

  progress(absl::StrCat("ESP: FAT32 with mformat, ", files.size(), " files with mcopy"));
  const std::string target = absl::StrCat(tmp, "@@", layout.esp_offset);
  // -T: sectors; -H: hidden sectors = the partition's first LBA, as a FAT
  // on a partitioned disk records it; -F: FAT32; -N: serial, reproducible.
  if (absl::Status s =
          RunMtool({*mformat, "-i", target, "-T", absl::StrCat(layout.esp_size / 512), "-H",
                    absl::StrCat(layout.esp_offset / 512), "-F", "-v", "SAVEOOPS", "-N",
                    absl::StrFormat("%08x", identity.volume_serial), "::"});
      !s.ok()) {
    return s;
  }
  std::vector<std::string> dirs;
  for (const EspFile& f : files) {
    for (const std::string& d : ParentDirs(f.esp_path)) {
      if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
    }
  }
  std::vector<std::string> mmd_argv = {*mmd, "-i", target};
  for (const std::string& d : dirs) mmd_argv.push_back("::" + d);
  if (dirs.size() > 0) {
    if (absl::Status s = RunMtool(mmd_argv); !s.ok()) return s;
  }
  for (const EspFile& f : files) {
    struct stat st;
    if (stat(f.host_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return absl::NotFoundError(
          absl::StrCat("cannot read ", f.host_path, " (for ", f.esp_path, ")"));
    }
    progress(absl::StrCat("  ", f.esp_path, " (", MiB(st.st_size), ") from ", f.host_path));
    if (absl::Status s = RunMtool({*mcopy, "-i", target, f.host_path, "::" + f.esp_path});
        !s.ok()) {
      return absl::InternalError(absl::StrCat(s.message(), " (ESP of ", MiB(layout.esp_size),
                                              "; raise --esp-size if it is full)"));
    }
  }

  progress(absl::StrCat("store: formatting ", MiB(layout.store_size), " at offset ",
                        layout.store_offset));
  const StoreLocation store_at{tmp, layout.store_offset, layout.store_size};
  if (absl::Status s = IsZeroUuid(identity.store_uuid) ? FormatStore(store_at)
                                                       : FormatStore(store_at, identity.store_uuid);
      !s.ok()) {
    return s;
  }

  // Read back what a firmware and `saveoops show` will read.
  const FileByteSource written(fd, layout.image_size);
  absl::StatusOr<GptDisk> check = ReadGpt(written);
  if (!check.ok()) {
    return absl::InternalError(
        absl::StrCat("the GPT just written does not read back: ", check.status().message()));
  }
  absl::StatusOr<StoreLocation> store = FindStoreInImage(tmp);
  if (!store.ok() || store->offset != layout.store_offset) {
    return absl::InternalError(absl::StrCat("the store just written is not found where expected: ",
                                            store.ok() ? absl::StrCat("offset ", store->offset)
                                                       : std::string(store.status().message())));
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    fd = -1;
    return absl::InternalError(absl::StrCat("cannot sync ", tmp, ": ", strerror(errno)));
  }
  fd = -1;
  if (rename(tmp.c_str(), out.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot rename ", tmp, " to ", out, ": ", strerror(errno)));
  }
  keep = true;
  return absl::OkStatus();
}

}  // namespace saveoops
