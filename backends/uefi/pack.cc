// The UEFI backend's pack step: one GPT disk image a UEFI machine boots
// (uefi_image.h for the layout). At boot, saveoops.efi (the removable-media
// boot entry \EFI\BOOT\BOOTX64.EFI) verifies the bundle, records what it
// verified in an EFI variable and boots the first kernel through its EFI
// stub; the first kernel's rdinit= program arms the capture kernel before
// the distro's /init runs. The record store is partition 2.
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "arming/arm.h"
#include "arming/capture_bundle.h"
#include "backends/backend.h"
#include "backends/uefi/boot_config.h"
#include "backends/uefi/uefi_image.h"
#include "backends/uefi/uefi_pack_config.h"
#include "common/bzimage.h"
#include "common/cmdline.h"
#include "common/files.h"
#include "common/sha256.h"
#include "host/runfiles.h"
#include "initramfs/builder.h"
#include "initramfs/modules.h"
#include "store/ring.h"
#include "store/store_map.h"

namespace saveoops {
namespace {

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

// The first kernel's efivarfs module: the arming program needs efivarfs to
// read the firmware record, and Debian builds it as a module
// (CONFIG_EFIVAR_FS=m) that a distro initrd need not carry. "" if the
// kernel has it built in or the flag says "none".
absl::StatusOr<std::string> FindEfivarfsModule(const std::string& flag,
                                               const std::string& release) {
  if (flag == "none") return std::string();
  if (!flag.empty()) {
    if (access(flag.c_str(), R_OK) != 0) {
      return absl::NotFoundError(absl::StrCat("--efivarfs-module ", flag, ": ", strerror(errno)));
    }
    return flag;
  }
  absl::StatusOr<std::string> dir = DefaultModulesDir(release);
  if (!dir.ok()) {
    return absl::NotFoundError(absl::StrCat(
        "cannot find the first kernel's modules (for efivarfs): ", dir.status().message(),
        "; give --efivarfs-module=PATH, or 'none' if the kernel has efivarfs built in"));
  }
  absl::StatusOr<ModuleIndex> index = LoadModuleIndex(*dir);
  if (!index.ok()) return index.status();
  absl::StatusOr<std::vector<std::string>> paths = ResolveModules(*index, {"efivarfs"});
  if (!paths.ok()) {
    return absl::NotFoundError(
        absl::StrCat("the first kernel has no efivarfs (", paths.status().message(),
                     "): the arming program could not read the firmware record; build it with "
                     "CONFIG_EFIVAR_FS or give --efivarfs-module=PATH"));
  }
  if (paths->empty()) return std::string();  // built in
  if (paths->size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("efivarfs in ", *dir, " needs other modules (",
                                                   absl::StrJoin(*paths, ", "),
                                                   "); the arming program loads only efivarfs"));
  }
  return absl::StrCat(*dir, "/", paths->front());
}

class UefiBackend : public Backend {
 public:
  std::string name() const override { return "uefi"; }
  std::string description() const override {
    return "GPT disk image for UEFI: saveoops.efi verifies the bundle and boots the kernel, an "
           "rdinit program arms it before user code";
  }
  std::string default_out() const override { return "saveoops-uefi.img"; }

  void DeclareFlags(CommandLine& cl) const override {
    cl.Flag("console", "ttyS0,115200",
            "uefi: first kernel console= values, space-separated (the last is /dev/console; "
            "'none': none)");
    cl.Flag("root", HostRoot(),
            "uefi: root= for the first kernel (default: this machine's; empty or 'none': leave it "
            "to the initrd)");
    cl.SizeFlag("esp-size", "",
                "uefi: ESP size (default: what the files need + 1/16, at least 64M)", 0,
                kMaxUefiImageBytes);
    cl.SizeFlag("store-size", "16M", "uefi: record store partition size", 0, kMaxUefiImageBytes);
    cl.SizeFlag("image-size", "", "uefi: whole image size; the store takes what the ESP leaves", 0,
                kMaxUefiImageBytes);
    cl.Flag("efi-app", FindSaveoopsFile("saveoops.efi", "backends/uefi/saveoops.efi"),
            "uefi: saveoops.efi, installed as \\EFI\\BOOT\\BOOTX64.EFI");
    cl.Flag("efivarfs-module", "",
            "uefi: the first kernel's efivarfs.ko (default: from /lib/modules/RELEASE; 'none' if "
            "built in)");
    cl.Flag("arm-program", FindSaveoopsFile("saveoops-uefi-arm", "backends/uefi/saveoops-uefi-arm"),
            "uefi: the static saveoops-uefi-arm binary (the first kernel's rdinit=)");
  }

  absl::Status Pack(const PackContext& ctx, const CommandLine& cl) const override {
    // ---- inputs
    ctx.progress("checking the first kernel, its initrd, saveoops.efi and the arming program");
    if (ctx.first_kernel_path.empty())
      return absl::InvalidArgumentError("no first kernel: give --kernel");
    absl::StatusOr<std::string> kernel = ReadFile(ctx.first_kernel_path, "first kernel");
    if (!kernel.ok()) return kernel.status();
    const absl::Span<const uint8_t> kernel_bytes(reinterpret_cast<const uint8_t*>(kernel->data()),
                                                 kernel->size());
    absl::StatusOr<BzImageInfo> kinfo = ParseBzImage(kernel_bytes);
    if (!kinfo.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          ctx.first_kernel_path, " cannot be the first kernel: ", kinfo.status().message()));
    }
    if (absl::Status s = CheckEfiStub(kernel_bytes); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(ctx.first_kernel_path, " cannot be booted by UEFI: ", s.message()));
    }
    if (ctx.first_initrd_path.empty()) {
      return absl::InvalidArgumentError(
          "the uefi backend needs the first kernel's initrd (--initrd): the arming program runs as "
          "rdinit= from the initramfs and hands over to its /init");
    }
    if (access(ctx.first_initrd_path.c_str(), R_OK) != 0) {
      return absl::NotFoundError(
          absl::StrCat("--initrd ", ctx.first_initrd_path, ": ", strerror(errno)));
    }
    const std::string efi_app = cl.Get("efi-app");
    absl::StatusOr<std::string> efi_bytes = ReadFile(efi_app, "saveoops.efi (--efi-app)");
    if (!efi_bytes.ok()) return efi_bytes.status();
    if (efi_bytes->size() < 2 || efi_bytes->compare(0, 2, "MZ") != 0) {
      return absl::InvalidArgumentError(absl::StrCat("--efi-app ", efi_app, " is not a PE image"));
    }
    const std::string arm_program = cl.Get("arm-program");
    absl::StatusOr<std::string> arm_bytes = ReadFile(arm_program, "arming program (--arm-program)");
    if (!arm_bytes.ok()) return arm_bytes.status();
    if (arm_bytes->size() < 4 || arm_bytes->compare(0, 4,
                                                    "\x7f"
                                                    "ELF") != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--arm-program ", arm_program, " is not an ELF executable"));
    }
    const std::string release = kinfo->kernel_version.substr(0, kinfo->kernel_version.find(' '));
    absl::StatusOr<std::string> efivarfs = FindEfivarfsModule(cl.Get("efivarfs-module"), release);
    if (!efivarfs.ok()) return efivarfs.status();
    std::optional<Sha256Digest> efivarfs_digest;
    if (!efivarfs->empty()) {
      absl::StatusOr<std::string> module = ReadFile(*efivarfs, "efivarfs module");
      if (!module.ok()) return module.status();
      efivarfs_digest = Sha256Hash(module->data(), module->size(), Sha256BestEngine());
    }
    for (const char* tool : {"mformat", "mmd", "mcopy"}) {
      if (absl::StatusOr<std::string> t = FindMtool(tool); !t.ok()) return t.status();
    }
    struct stat out_st;
    if (stat(ctx.out.c_str(), &out_st) == 0 && !S_ISREG(out_st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--out ", ctx.out,
                       " exists and is not a regular file; pack writes an image file (copy "
                       "it to a disk with dd afterwards)"));
    }

    // ---- saveoops.cfg
    UefiFirstKernel boot;
    boot.crashkernel_bytes = ctx.crashkernel_bytes;
    boot.consoles =
        cl.Get("console") == "none"
            ? std::vector<std::string>{}
            : std::vector<std::string>(absl::StrSplit(cl.Get("console"), ' ', absl::SkipEmpty()));
    if (!cl.IsSet("console") && CmdlineHas(ctx.first_append, "console")) boot.consoles.clear();
    boot.root = cl.Get("root") == "none" ? "" : cl.Get("root");
    if (!cl.IsSet("root") && CmdlineHas(ctx.first_append, "root")) boot.root.clear();
    boot.append = ctx.first_append;
    absl::StatusOr<std::string> cmdline = FirstKernelCommandLine(boot, kinfo->cmdline_size);
    if (!cmdline.ok()) return cmdline.status();
    const Sha256Digest arm_digest =
        Sha256Hash(arm_bytes->data(), arm_bytes->size(), Sha256BestEngine());
    absl::StatusOr<std::string> cfg = BootConfigText(*cmdline, arm_digest, efivarfs_digest);
    if (!cfg.ok()) return cfg.status();

    char tmpl[] = "/tmp/saveoops-uefi.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return absl::InternalError("cannot create a temporary directory");
    const std::string tmp = tmpl;
    const std::string cfg_path = tmp + "/saveoops.cfg";
    const std::string bundle_path = tmp + "/saveoops.bundle";
    auto cleanup = absl::MakeCleanup([&] {
      unlink(cfg_path.c_str());
      unlink(bundle_path.c_str());
      rmdir(tmp.c_str());
    });
    if (absl::Status s = WriteFile(cfg_path, *cfg); !s.ok()) return s;
    // The image holds its store, so its UUID is known now: the bundle on the
    // ESP carries it as a store map (arming/arm.h WithStoreMap), and the
    // capture that saveoops-uefi-arm arms writes only to this image's store.
    StatusOr<Uuid> store_uuid = RandomStoreUuid();
    if (!store_uuid.ok()) return store_uuid.status();
    StoreMap map;
    map.store_uuid = *store_uuid;
    if (absl::Status s = WriteBundleFileWithStoreMap(ctx.bundle_path, map, bundle_path); !s.ok())
      return s;
    ctx.progress(absl::StrCat("store map: the bundle names the image's store ",
                              FormatStoreUuid(*store_uuid)));
    ctx.progress(absl::StrCat("first kernel command line: ", *cmdline));
    if (boot.root.empty() && !CmdlineHas(ctx.first_append, "root")) {
      ctx.progress(
          "note: no root= (none on this machine's command line either): the initrd must "
          "find the root file system itself");
    }

    // ---- layout and image
    std::vector<EspFile> files = {
        {kEspBootLoaderPath, efi_app},           {kEspConfigPath, cfg_path},
        {kEspKernelPath, ctx.first_kernel_path}, {kEspInitrdPath, ctx.first_initrd_path},
        {kEspBundlePath, bundle_path},           {kEspArmPath, arm_program},
    };
    if (!efivarfs->empty()) files.push_back({kEspEfivarfsPath, *efivarfs});
    std::vector<uint64_t> sizes;
    for (const EspFile& f : files) {
      struct stat st;
      if (stat(f.host_path.c_str(), &st) != 0) {
        return absl::NotFoundError(
            absl::StrCat("cannot stat ", f.host_path, ": ", strerror(errno)));
      }
      sizes.push_back(st.st_size);
    }
    absl::StatusOr<uint64_t> esp_size = cl.GetSize("esp-size");
    if (!esp_size.ok()) return esp_size.status();
    absl::StatusOr<uint64_t> store_size = cl.GetSize("store-size");
    if (!store_size.ok()) return store_size.status();
    absl::StatusOr<uint64_t> image_size = cl.GetSize("image-size");
    if (!image_size.ok()) return image_size.status();
    absl::StatusOr<UefiImageLayout> layout =
        PlanUefiImage(sizes, *esp_size, *store_size, *image_size);
    if (!layout.ok()) return layout.status();
    // The bundle as pack built it, before the store map: the same inputs
    // give the same disk identity (the store UUID is random either way).
    absl::StatusOr<std::string> bundle = ReadFile(ctx.bundle_path, "bundle");
    if (!bundle.ok()) return bundle.status();
    const Sha256Digest seed = Sha256Hash(bundle->data(), bundle->size(), Sha256BestEngine());
    UefiImageIdentity identity = DeriveUefiImageIdentity(absl::StrCat(
        absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(seed.bytes), 32)),
        "/", *cfg));
    identity.store_uuid = *store_uuid;
    if (absl::Status s = WriteUefiImage(*layout, identity, files, ctx.out, ctx.progress); !s.ok())
      return s;
    ctx.progress(
        absl::StrCat("boot it with UEFI firmware (e.g. QEMU + OVMF); the store is partition 2, "
                     "read it with: saveoops show --store=",
                     ctx.out));
    return absl::OkStatus();
  }
};

const bool kRegistered = RegisterBackend(std::make_unique<UefiBackend>());

}  // namespace
}  // namespace saveoops
