// The Syslinux backend's pack step: one raw disk image a BIOS boots, which
// stages the capture bundle before the first kernel runs any user code.
//
//   MBR          Syslinux's mbr.bin + partition table
//   partition 1  FAT16, active: ldlinux.sys/.c32 (syslinux --install),
//                linux.c32 + libcom32.c32 + libutil.c32, syslinux.cfg,
//                vmlinuz, early.cpio (saveoops-early-arm), initrd.img (the
//                distro's, untouched), saveoops.bundle
//   partition 2  the record store (type 0xda), where the capture kernel
//                writes the record
//
// At boot, linux.c32 hands saveoops.bundle to the kernel as a setup_data
// node (staging.h), the kernel unpacks early.cpio and the distro initrd
// into one rootfs, and runs rdinit=/saveoops-early-arm, which verifies the
// bundle, arms the crash kernel and executes the distro's /init.
//
// Why stock linux.c32 and no COM32 module of our own: linux.c32's blob.N=
// already delivers a file of any size to the kernel as setup_data, which the
// kernel keeps reserved and exposes in sysfs; the digests are checked by
// our code in the first kernel, where a failure can be reported and the
// boot continued. A module of ours would have to re-do that in the 32-bit
// COM32 environment for no gain.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "arming/arm.h"
#include "arming/capture_bundle.h"
#include "backends/backend.h"
#include "backends/syslinux/boot_config.h"
#include "backends/syslinux/fat.h"
#include "backends/syslinux/layout.h"
#include "backends/syslinux/mbr.h"
#include "backends/syslinux/staging.h"
#include "common/bundle_format.h"
#include "common/bzimage.h"
#include "common/cmdline.h"
#include "common/files.h"
#include "host/runfiles.h"
#include "initramfs/cpio.h"
#include "store/locate.h"
#include "store/ring.h"
#include "store/store_map.h"

namespace saveoops {
namespace {

// Syslinux's COM32 modules linux.c32 needs besides ldlinux.c32 (which
// `syslinux --install` writes): libcom32.c32 is linux.c32's library,
// libutil.c32 the one most other modules need, kept for hand-edited configs.
constexpr const char* kComModules[] = {"linux.c32", "libcom32.c32", "libutil.c32"};

// Every input is read bounded (a directory or /dev/zero given as a file
// fails naming it); the image is written through AtomicFile, so a symlink
// planted at --out is replaced, never written through.
absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  StatusOr<std::string> bytes = ReadTextFileBounded(path, kMaxBundleFileBytes, what);
  if (!bytes.ok()) return bytes.status();
  return *std::move(bytes);
}

absl::Status WriteFile(const std::string& path, absl::string_view bytes) {
  return WriteFileAtomic(path, bytes.data(), bytes.size(), 0600);
}

absl::Status PwriteAll(int fd, const void* data, size_t size, uint64_t offset,
                       const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = pwrite(fd, p, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return absl::InternalError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
    p += n, size -= n, offset += n;
  }
  return absl::OkStatus();
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::vector<std::string> ParseConsoles(const std::string& flag) {
  if (flag == "none") return {};
  return absl::StrSplit(flag, ' ', absl::SkipEmpty());
}

// Finds the bundle's bytes inside the FAT partition: a freshly formatted
// FAT gets each file in consecutive clusters, so the bundle is one run of
// bytes starting on a sector boundary. Returns its image offset, or -1 if
// it is not stored contiguously.
absl::StatusOr<int64_t> LocateInImage(const std::string& image, uint64_t from, uint64_t size,
                                      const std::string& bytes) {
  UniqueFd fd(open(image.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return absl::DataLossError(absl::StrCat("cannot read back ", image));
  std::string region(size, '\0');
  if (Status s = PreadFull(fd.get(), &region[0], size, from, image); !s.ok()) {
    return absl::DataLossError(absl::StrCat("cannot read back ", image, ": ", s.message()));
  }
  const absl::string_view head = absl::string_view(bytes).substr(0, kSectorSize);
  for (uint64_t at = 0; at + bytes.size() <= region.size(); at += kSectorSize) {
    if (absl::string_view(region).substr(at, head.size()) == head &&
        absl::string_view(region).substr(at, bytes.size()) == bytes) {
      return static_cast<int64_t>(from + at);
    }
  }
  return -1;
}

// A file copied into the FAT partition's root directory.
struct FatSource {
  std::string host_path;
  std::string fat_name;
  std::string what;  // for the summary
};

// One pack run: each step fills in what the next needs. Errors name the
// input at fault.
class SyslinuxPackJob {
 public:
  SyslinuxPackJob(const PackContext& ctx, const CommandLine& cl) : ctx_(ctx), cl_(cl) {}

  absl::Status Run() {
    ctx_.progress("checking the first kernel, its initrd and the Syslinux files");
    if (absl::Status s = CheckInputs(); !s.ok()) return s;
    ctx_.progress(absl::StrCat("writing ", kFatEarlyCpioName, " (", kEarlyArmPath, ")"));
    if (absl::Status s = WriteEarlyCpio(); !s.ok()) return s;
    if (absl::Status s = WriteBootConfig(); !s.ok()) return s;
    if (absl::Status s = CheckMemory(); !s.ok()) return s;
    if (absl::Status s = PlanLayout(); !s.ok()) return s;
    if (absl::Status s = BuildImage(); !s.ok()) return s;
    ctx_.progress("checking the image");
    if (absl::Status s = CheckImage(); !s.ok()) return s;
    if (absl::Status s = Publish(); !s.ok()) return s;
    PrintSummary();
    return absl::OkStatus();
  }

  ~SyslinuxPackJob() {
    if (!tmp_.empty()) {
      for (const char* f : {kFatEarlyCpioName, kFatConfigName, kFatBundleName}) {
        unlink((tmp_ + "/" + f).c_str());
      }
      rmdir(tmp_.c_str());
    }
    if (!image_.empty()) unlink(image_.c_str());  // a partial image; empty once published
  }

 private:
  absl::Status CheckInputs() {
    if (ctx_.first_kernel_path.empty())
      return absl::InvalidArgumentError("no first kernel: give --kernel");
    absl::StatusOr<std::string> kernel = ReadFile(ctx_.first_kernel_path, "first kernel");
    if (!kernel.ok()) return kernel.status();
    absl::StatusOr<BzImageInfo> info = ParseBzImage(
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(kernel->data()), kernel->size()));
    if (!info.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          ctx_.first_kernel_path, " cannot be the first kernel: ", info.status().message()));
    }
    kernel_ = *std::move(info);
    if (ctx_.first_initrd_path.empty()) {
      return absl::InvalidArgumentError(
          "the syslinux backend needs the first kernel's initrd (--initrd): saveoops-early-arm "
          "runs from the initramfs and hands over to its /init");
    }
    if (access(ctx_.first_initrd_path.c_str(), R_OK) != 0) {
      return absl::NotFoundError(
          absl::StrCat("--initrd ", ctx_.first_initrd_path, ": ", strerror(errno)));
    }
    absl::StatusOr<std::string> early_arm =
        ReadFile(cl_.Get("early-arm"), "saveoops-early-arm (--early-arm)");
    if (!early_arm.ok()) return early_arm.status();
    early_arm_ = *std::move(early_arm);
    syslinux_dir_ = cl_.Get("syslinux-dir");
    mbr_path_ = syslinux_dir_ + "/mbr/mbr.bin";
    absl::StatusOr<std::string> mbr_code = ReadFile(mbr_path_, "Syslinux's MBR");
    if (!mbr_code.ok()) {
      return absl::NotFoundError(
          absl::StrCat(mbr_code.status().message(),
                       ": install syslinux-common (tools/setup.sh) or set --syslinux-dir"));
    }
    if (mbr_code->size() > kMbrBootCodeSize) {
      return absl::InvalidArgumentError(absl::StrCat(mbr_path_, " is ", mbr_code->size(),
                                                     " bytes; MBR boot code is at most 440"));
    }
    mbr_code_ = *std::move(mbr_code);
    for (const char* m : kComModules) {
      const std::string p = absl::StrCat(syslinux_dir_, "/modules/bios/", m);
      if (access(p.c_str(), R_OK) != 0) {
        return absl::NotFoundError(absl::StrCat("Syslinux module ", p,
                                                " not found: install syslinux-common "
                                                "(tools/setup.sh) or set --syslinux-dir"));
      }
    }
    if (absl::Status s = CheckFatTools(tools_); !s.ok()) return s;
    struct stat st;
    if (stat(ctx_.out.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--out ", ctx_.out,
          " exists and is not a regular file; pack writes an image file (dd it to a disk after)"));
    }
    char tmpl[] = "/tmp/saveoops-syslinux.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return absl::InternalError("cannot create a temporary directory");
    tmp_ = tmpl;
    return MapTheImagesStore();
  }

  // The image holds its store, so its UUID is known now: the bundle on the
  // image carries it as a store map (arming/arm.h WithStoreMap), and the
  // capture armed by saveoops-early-arm writes only to this image's store.
  absl::Status MapTheImagesStore() {
    StatusOr<Uuid> uuid = RandomStoreUuid();
    if (!uuid.ok()) return uuid.status();
    store_uuid_ = *uuid;
    StoreMap map;
    map.store_uuid = store_uuid_;
    bundle_path_ = tmp_ + "/" + kFatBundleName;
    if (absl::Status s = WriteBundleFileWithStoreMap(ctx_.bundle_path, map, bundle_path_); !s.ok())
      return s;
    absl::StatusOr<std::string> bundle = ReadFile(bundle_path_, "bundle");
    if (!bundle.ok()) return bundle.status();
    bundle_ = *std::move(bundle);
    return absl::OkStatus();
  }

  // early.cpio: the arming program, and the nodes it needs before devtmpfs
  // is mounted (the kernel opens /dev/console for PID 1).
  absl::Status WriteEarlyCpio() {
    CpioWriter early;
    for (const char* dir : {"/proc", "/sys", "/dev", "/run"}) {
      if (absl::Status s = early.AddDirectory(dir, 0755); !s.ok()) return s;
    }
    if (absl::Status s = early.AddCharDevice("/dev/console", 0600, 5, 1); !s.ok()) return s;
    if (absl::Status s = early.AddFile(kEarlyArmPath, early_arm_, 0755); !s.ok()) return s;
    const std::vector<uint8_t> bytes = early.Finish();
    early_cpio_path_ = tmp_ + "/" + kFatEarlyCpioName;
    early_cpio_size_ = bytes.size();
    return WriteFile(early_cpio_path_,
                     absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }

  absl::Status WriteBootConfig() {
    boot_.crashkernel_bytes = ctx_.crashkernel_bytes;
    // What the user put in --append wins over our defaults.
    boot_.consoles = ParseConsoles(cl_.Get("console"));
    if (!cl_.IsSet("console") && CmdlineHas(ctx_.first_append, "console")) {
      boot_.consoles.clear();
    }
    boot_.root = cl_.Get("root") == "none" ? "" : cl_.Get("root");
    if (!cl_.IsSet("root") && CmdlineHas(ctx_.first_append, "root")) boot_.root.clear();
    boot_.append = ctx_.first_append;
    absl::StatusOr<std::string> args = FirstKernelArguments(boot_);
    if (!args.ok()) return args.status();
    args_ = *std::move(args);
    if (absl::Status s = CheckCommandLineFits(args_, kernel_.cmdline_size); !s.ok()) return s;
    config_path_ = tmp_ + "/" + kFatConfigName;
    return WriteFile(config_path_, SyslinuxConfig(args_, boot_.consoles));
  }

  absl::Status CheckMemory() {
    absl::StatusOr<uint64_t> min_memory = cl_.GetSize("min-memory");
    if (!min_memory.ok()) return min_memory.status();
    min_memory_ = *min_memory;
    MemoryBudget budget;
    budget.kernel_init_size = kernel_.init_size;
    budget.initrd_bytes = early_cpio_size_ + FileSize(ctx_.first_initrd_path);
    budget.bundle_bytes = bundle_.size();
    budget.crashkernel_bytes = ctx_.crashkernel_bytes;
    budget.min_memory = min_memory_;
    return CheckMemoryBudget(budget);
  }

  absl::Status PlanLayout() {
    for (const char* m : kComModules) {
      sources_.push_back({absl::StrCat(syslinux_dir_, "/modules/bios/", m), m, "Syslinux module"});
    }
    const std::string release = kernel_.kernel_version.substr(0, kernel_.kernel_version.find(' '));
    sources_.push_back({ctx_.first_kernel_path, kFatKernelName, "first kernel " + release});
    sources_.push_back(
        {early_cpio_path_, kFatEarlyCpioName, absl::StrCat("rdinit ", kEarlyArmPath)});
    sources_.push_back({ctx_.first_initrd_path, kFatInitrdName, "first kernel's initrd"});
    sources_.push_back({bundle_path_, kFatBundleName,
                        absl::StrFormat("setup_data type 0x%x; store map: store %s",
                                        kBundleSetupDataType, FormatStoreUuid(store_uuid_))});
    sources_.push_back({config_path_, kFatConfigName, "boot entries"});
    ImageLayoutRequest req;
    // ldlinux.sys + ldlinux.c32, which the installer writes: ~180 KiB.
    req.fat_files.push_back({"ldlinux.sys+ldlinux.c32", 256 * 1024});
    for (const FatSource& s : sources_)
      req.fat_files.push_back({s.fat_name, FileSize(s.host_path)});
    // --fat-size and --image-size default to "as needed" (0); --store-size
    // always has a value.
    const std::pair<const char*, uint64_t*> sizes[] = {{"fat-size", &req.fat_size},
                                                       {"store-size", &req.store_size},
                                                       {"image-size", &req.image_size}};
    for (const auto& [flag, field] : sizes) {
      if (cl_.Get(flag).empty()) continue;
      absl::StatusOr<uint64_t> v = cl_.GetSize(flag);
      if (!v.ok()) return v.status();
      *field = *v;
    }
    absl::StatusOr<ImageLayout> layout = PlanImageLayout(req);
    if (!layout.ok()) return layout.status();
    layout_ = *layout;
    return absl::OkStatus();
  }

  // The image is built under OUT.tmp and renamed over OUT when it checks out.
  absl::Status BuildImage() {
    image_ = ctx_.out + ".tmp";
    // --out's directory passed CheckTrustedDirectory, so a leftover OUT.tmp
    // is an earlier pack's; remove it (a symlink is removed, not followed)
    // and create ours exclusively, never through a planted link.
    unlink(image_.c_str());
    // 0600: the image's store partition receives records, a dead kernel's
    // log, for its owner only (README, Syslinux).
    const int fd = open(image_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
      return absl::InternalError(absl::StrCat("cannot create ", image_, ": ", strerror(errno)));
    const bool sized = ftruncate(fd, layout_.image_size) == 0;
    close(fd);
    if (!sized)
      return absl::InternalError(absl::StrCat("cannot size ", image_, ": ", strerror(errno)));

    fat_ = FatPartition{image_, layout_.fat_offset, layout_.fat_size};
    ctx_.progress(absl::StrCat("formatting the FAT partition (", FormatMiB(fat_.size),
                               ") and installing Syslinux"));
    if (absl::Status s = FormatFat(tools_, fat_); !s.ok()) return s;
    absl::StatusOr<std::string> fat_type = ReadFatType(fat_);
    if (!fat_type.ok()) return fat_type.status();
    fat_type_ = *fat_type;
    if (absl::Status s = InstallSyslinux(tools_, fat_); !s.ok()) return s;
    ctx_.progress(absl::StrCat("copying ", sources_.size(),
                               " files (Syslinux modules, kernel, initrds, bundle, syslinux.cfg)"));
    for (const FatSource& f : sources_) {
      if (absl::Status s = CopyIntoFat(tools_, fat_, f.host_path, f.fat_name); !s.ok()) return s;
    }
    ctx_.progress("writing the MBR (Syslinux mbr.bin) and the partition table");
    if (absl::Status s = WriteMbr(); !s.ok()) return s;
    ctx_.progress(absl::StrCat("formatting the record store partition (",
                               FormatMiB(layout_.store_size), ")"));
    return FormatStore(StoreLocation{image_, layout_.store_offset, layout_.store_size},
                       store_uuid_);
  }

  absl::Status WriteMbr() {
    const MbrPartition fat{fat_type_ == "FAT32" ? kMbrTypeFat32Lba : kMbrTypeFat16Lba, true,
                           layout_.fat_offset / kSectorSize, layout_.fat_size / kSectorSize};
    const MbrPartition store{kMbrTypeNonFsData, false, layout_.store_offset / kSectorSize,
                             layout_.store_size / kSectorSize};
    // The disk signature: 4 bytes of the bundle's header digest, so the same
    // inputs give the same MBR and different bundles different disks.
    uint32_t signature = 0;
    const size_t digest_at = BundleHeaderSize(4) - kSha256DigestSize;
    if (bundle_.size() >= digest_at + 4) memcpy(&signature, bundle_.data() + digest_at, 4);
    absl::StatusOr<std::array<uint8_t, kSectorSize>> mbr = BuildMbr(
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(mbr_code_.data()), mbr_code_.size()),
        signature, {fat, store});
    if (!mbr.ok()) return mbr.status();
    const int fd = open(image_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return absl::InternalError(absl::StrCat("cannot open ", image_, ": ", strerror(errno)));
    absl::Status written = PwriteAll(fd, mbr->data(), mbr->size(), 0, image_);
    close(fd);
    return written;
  }

  // What readers will find: the capture program locates the store exactly
  // like this (FindStoreInImage on the whole disk), and the bundle must be
  // on the FAT partition byte for byte.
  absl::Status CheckImage() {
    absl::StatusOr<StoreLocation> found = FindStoreInImage(image_);
    if (!found.ok()) {
      return absl::InternalError(
          absl::StrCat("the new image's store is not found: ", found.status().message()));
    }
    if (found->offset != layout_.store_offset) {
      return absl::InternalError(absl::StrCat("the new image's store was found at offset ",
                                              found->offset, ", not ", layout_.store_offset));
    }
    absl::StatusOr<int64_t> at = LocateInImage(image_, fat_.offset, fat_.size, bundle_);
    if (!at.ok()) return at.status();
    bundle_at_ = *at;
    if (bundle_at_ < 0) {
      absl::StatusOr<std::string> back = ReadFromFat(tools_, fat_, kFatBundleName);
      if (!back.ok()) return back.status();
      if (*back != bundle_) {
        return absl::DataLossError(
            "the bundle read back from the FAT partition differs from the one written");
      }
    }
    return absl::OkStatus();
  }

  absl::Status Publish() {
    const int fd = open(image_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      fsync(fd);
      close(fd);
    }
    if (rename(image_.c_str(), ctx_.out.c_str()) != 0) {
      return absl::InternalError(
          absl::StrCat("cannot rename ", image_, " to ", ctx_.out, ": ", strerror(errno)));
    }
    image_.clear();
    return absl::OkStatus();
  }

  void PrintSummary() const {
    auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
    std::printf("\n  %s: %s raw disk image, MBR with Syslinux %s\n", ctx_.out.c_str(),
                FormatMiB(layout_.image_size).c_str(), mbr_path_.c_str());
    std::printf(
        "    partition 1  %s, bootable   image bytes [%llu, %llu)  Syslinux ldlinux.sys, "
        "ldlinux.c32\n",
        fat_type_.c_str(), u(fat_.offset), u(fat_.offset + fat_.size));
    for (const FatSource& s : sources_) {
      std::printf("      %-16s %10s  %s\n", s.fat_name.c_str(),
                  FormatMiB(FileSize(s.host_path)).c_str(), s.what.c_str());
    }
    if (bundle_at_ >= 0) {
      std::printf("      %s at image bytes [%llu, %llu)\n", kFatBundleName, u(bundle_at_),
                  u(bundle_at_ + bundle_.size()));
    }
    std::printf("    partition 2  record store (type 0x%02x)  image bytes [%llu, %llu)\n",
                kMbrTypeNonFsData, u(layout_.store_offset),
                u(layout_.store_offset + layout_.store_size));
    std::printf("  first kernel command line:\n    %s\n", BootedCommandLine(args_).c_str());
    if (boot_.root.empty() && !CmdlineHas(ctx_.first_append, "root")) {
      std::printf(
          "  note: no root= (none on this machine's command line and none given): the initrd's\n"
          "        /init decides what to mount; add --root=... or --append=root=...\n");
    }
    std::printf(
        "  boot it: qemu-system-x86_64 -m %llu -drive file=%s,format=raw -serial stdio, "
        "or dd it to a disk\n",
        u(min_memory_ >> 20), ctx_.out.c_str());
  }

  const PackContext& ctx_;
  const CommandLine& cl_;
  FatTools tools_;
  BzImageInfo kernel_;
  std::string early_arm_, mbr_code_, bundle_;
  std::string syslinux_dir_, mbr_path_;
  std::string tmp_;          // scratch directory for early.cpio, syslinux.cfg, the bundle
  std::string bundle_path_;  // the bundle with the store map, in tmp_
  Uuid store_uuid_{};        // the image's store, named by the bundle's store map
  std::string early_cpio_path_, config_path_;
  uint64_t early_cpio_size_ = 0;
  FirstKernelBoot boot_;
  std::string args_;  // the first kernel's arguments
  uint64_t min_memory_ = 0;
  std::vector<FatSource> sources_;
  ImageLayout layout_;
  std::string image_;  // OUT.tmp while it is being built
  FatPartition fat_;
  std::string fat_type_;
  int64_t bundle_at_ = -1;
};

class SyslinuxBackend : public Backend {
 public:
  std::string name() const override { return "syslinux"; }
  std::string description() const override {
    return "BIOS-bootable disk image: Syslinux stages the bundle as setup_data, an rdinit program "
           "arms it before user code";
  }
  std::string default_out() const override { return "saveoops-syslinux.img"; }

  void DeclareFlags(CommandLine& cl) const override {
    cl.Flag("console", "ttyS0,115200",
            "syslinux: first kernel console= values, space-separated (the last is /dev/console; "
            "'none': none); a ttyS also gets Syslinux's SERIAL line");
    cl.Flag("root", HostRoot(),
            "syslinux: root= for the first kernel (default: this machine's; empty or 'none': "
            "leave it to the initrd)");
    cl.SizeFlag("fat-size", "",
                "syslinux: FAT partition size (default: what the files need + 1/16)", 0,
                kMaxSyslinuxImageBytes);
    cl.SizeFlag("store-size", "16M", "syslinux: record store partition size", 0,
                kMaxSyslinuxImageBytes);
    cl.SizeFlag("image-size", "", "syslinux: whole image size; the store takes what the FAT leaves",
                0, kMaxSyslinuxImageBytes);
    cl.SizeFlag("min-memory", "1G",
                "syslinux: RAM of the smallest machine that must boot the image (checked)", 0,
                kMaxMinMemory);
    cl.Flag("syslinux-dir", "/usr/lib/syslinux",
            "syslinux: where mbr/mbr.bin and modules/bios/*.c32 are (Debian syslinux-common)");
    cl.Flag("early-arm",
            FindSaveoopsFile("saveoops-early-arm", "backends/syslinux/saveoops-early-arm"),
            "syslinux: the static saveoops-early-arm binary");
  }

  absl::Status Pack(const PackContext& ctx, const CommandLine& cl) const override {
    return SyslinuxPackJob(ctx, cl).Run();
  }
};

const bool kRegistered = RegisterBackend(std::make_unique<SyslinuxBackend>());

}  // namespace
}  // namespace saveoops
