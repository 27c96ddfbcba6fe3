// saveoops: the Saveoops command-line tool.
//
//   saveoops plan      where the capture pieces go; the crashkernel= to boot with
//   saveoops arm       stage the capture kernel from a bundle (kexec backend)
//   saveoops disarm    unload it
//   saveoops status    armed or not, and the layout
//   saveoops bundle    create / verify a saveoops.bundle
//   saveoops initramfs build the capture initramfs
//   saveoops store     format a record store
//   saveoops list | show | collect   read captured logs from a store
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "arming/arm.h"
#include "arming/capture_bundle.h"
#include "arming/capture_defaults.h"
#include "arming/kexec_syscalls.h"
#include "arming/sizing.h"
#include "common/bundle.h"
#include "common/cmdline.h"
#include "common/files.h"
#include "common/kernel_image_prepare.h"
#include "common/memmap.h"
#include "common/planner.h"
#include "common/version.h"
#include "host/config.h"
#include "host/flags.h"
#include "host/runfiles.h"
#include "initramfs/builder.h"
#include "purgatory/purgatory_abi.h"
#include "store/collect.h"
#include "store/display.h"
#include "store/file_store.h"
#include "store/journal.h"
#include "store/locate.h"
#include "store/probe.h"
#include "store/ring.h"
#include "store/store_map.h"

namespace saveoops {
namespace {

// Runs `body` after parsing; prints help or the error.
int Finish(const absl::Status& s, const char* cmd) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "saveoops %s: %s\n", cmd, std::string(s.message()).c_str());
  return 1;
}

bool ParseOrHelp(CommandLine& cl, int argc, char** argv, int first, const char* cmd, int* rc) {
  absl::StatusOr<bool> parsed = cl.Parse(argc, argv, first);
  if (!parsed.ok()) {
    std::fprintf(stderr, "saveoops %s: %s\n", cmd, std::string(parsed.status().message()).c_str());
    *rc = 2;
    return false;
  }
  if (!*parsed) {
    std::fputs(cl.Help().c_str(), stdout);
    *rc = 0;
    return false;
  }
  return true;
}

// ---- plan ----------------------------------------------------------------

// The --capture-kernel flag of plan and bundle create, and the --headroom
// flag of plan and arm, worded once.
constexpr char kCaptureKernelFlagHelp[] =
    "capture kernel instead of --kernel: `saveoops` for Saveoops' own small kernel "
    "(tools/build_capture_kernel.sh; $SAVEOOPS_CAPTURE_KERNEL overrides where it is found), "
    "or a bzImage path";
std::string HeadroomFlagHelp() {
  return absl::StrCat(
      "free memory the capture kernel needs to run, besides its pieces and its unpacked "
      "initramfs (default: ",
      kDefaultRuntimeHeadroom >> 20, "M for a distribution kernel, ",
      kSaveoopsKernelRuntimeHeadroom >> 20, "M for Saveoops' own, release *-saveoops)");
}

// --headroom if given, else unset (RuntimeHeadroomFor the bundle's kernel).
absl::StatusOr<std::optional<uint64_t>> HeadroomFlag(const CommandLine& cl) {
  if (cl.Get("headroom").empty()) return std::optional<uint64_t>();
  absl::StatusOr<uint64_t> headroom = cl.GetSize("headroom");
  if (!headroom.ok()) return headroom.status();
  return std::optional<uint64_t>(*headroom);
}

// The capture kernel of `spec`: --capture-kernel if given, else --kernel.
absl::Status ChooseCaptureKernel(const CommandLine& cl, DefaultCaptureBundleSpec* spec) {
  if (cl.Get("capture-kernel").empty()) {
    spec->capture_kernel_path = cl.Get("kernel");
    spec->capture_kernel_flag = "--kernel";
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> path = CaptureKernelPathOf(cl.Get("capture-kernel"));
  if (!path.ok()) return path.status();
  spec->capture_kernel_path = *path;
  spec->capture_kernel_flag = absl::StrCat("--capture-kernel=", cl.Get("capture-kernel"));
  return absl::OkStatus();
}

int CmdPlan(int argc, char** argv) {
  CommandLine cl("saveoops plan [--bundle=FILE | --kernel=FILE [--initrd=FILE]] [flags]",
                 "Plans where the capture pieces go inside the crash reservation and prints\n"
                 "the smallest crashkernel= that fits this bundle on this machine.");
  cl.Flag("bundle", "", "a saveoops.bundle");
  cl.Flag("kernel", DefaultKernelPath(), "capture kernel bzImage (instead of --bundle)");
  cl.Flag("capture-kernel", "", kCaptureKernelFlagHelp);
  cl.Flag("initrd", "", "capture initramfs (default: build the standard one)");
  cl.Flag("purgatory", DefaultPurgatoryPath(), "purgatory.bin (with --kernel)");
  cl.Flag("memmap", "/proc/iomem", "memory map to plan against (/proc/iomem format)");
  cl.IntFlag("cpus", std::to_string(sysconf(_SC_NPROCESSORS_CONF)), "CPUs with crash notes", 1,
             kMaxCpus);
  cl.SizeFlag("headroom", "", HeadroomFlagHelp(), 0, kMaxRuntimeHeadroom);
  cl.Flag("print", "table",
          "table | crashkernel | crashkernel-mib (the smallest) | recommended-mib (with margin)");
  int rc = 0;
  if (!ParseOrHelp(cl, argc, argv, 2, "plan", &rc)) return rc;
  auto run = [&]() -> absl::Status {
    BundleContents bundle;
    if (!cl.Get("bundle").empty()) {
      absl::StatusOr<BundleContents> b = ReadBundleFile(cl.Get("bundle"));
      if (!b.ok()) return b.status();
      bundle = *std::move(b);
    } else {
      // No bundle: plan for the one `pack` would build by default.
      DefaultCaptureBundleSpec spec;
      if (absl::Status s = ChooseCaptureKernel(cl, &spec); !s.ok()) return s;
      if (spec.capture_kernel_path.empty()) {
        return absl::NotFoundError(
            "no /boot/vmlinuz-*: give --kernel, --capture-kernel or --bundle");
      }
      spec.initramfs_path = cl.Get("initrd");
      spec.initramfs_flag = "--initrd";
      spec.capture_binary_path = DefaultCaptureBinaryPath();
      spec.purgatory_path = cl.Get("purgatory");
      absl::StatusOr<DefaultCaptureBundle> built = BuildDefaultCaptureBundle(spec);
      if (!built.ok()) return built.status();
      if (built->built_initramfs && built->initramfs_summary.module_paths.empty()) {
        std::printf("capture initramfs: saveoops-capture alone (%.2f MiB)\n",
                    built->bundle.capture_initramfs.size() / 1048576.0);
      } else if (built->built_initramfs) {
        std::printf("capture initramfs: saveoops-capture + modules from %s (%.2f MiB)\n",
                    built->modules_dir.c_str(), built->bundle.capture_initramfs.size() / 1048576.0);
      }
      std::printf("%s\n", built->kernel_image_note.c_str());
      bundle = std::move(built->bundle);
    }
    absl::StatusOr<CaptureKernel> kernel = ParseCaptureKernel(bundle);
    if (!kernel.ok()) return kernel.status();
    absl::StatusOr<std::optional<uint64_t>> headroom_flag = HeadroomFlag(cl);
    if (!headroom_flag.ok()) return headroom_flag.status();
    const uint64_t headroom = headroom_flag->value_or(RuntimeHeadroomFor(*kernel));
    absl::StatusOr<int64_t> cpus = cl.GetInt("cpus");
    if (!cpus.ok()) return cpus.status();
    absl::StatusOr<std::string> text =
        ReadTextFileBounded(cl.Get("memmap"), kMaxTextFileBytes, "--memmap");
    if (!text.ok()) return text.status();
    absl::StatusOr<MemoryMap> map = ParseProcIomem(*text);
    if (!map.ok())
      return absl::Status(map.status().code(),
                          absl::StrCat(cl.Get("memmap"), ": ", map.status().message()));
    const CaptureSizes sizes =
        CaptureSizesFor(bundle, *kernel, map->regions().size(), *cpus,
                        map->RangesOf(MemoryType::kRam).size() + 1, headroom);
    const CaptureRequest request = MakeCaptureRequest(sizes);
    absl::StatusOr<uint64_t> smallest = SmallestReservation(request);
    if (!smallest.ok()) return smallest.status();
    const std::string print = cl.Get("print");
    if (print == "crashkernel-mib") {
      std::printf("%llu\n", static_cast<unsigned long long>((*smallest + (1 << 20) - 1) >> 20));
      return absl::OkStatus();
    }
    if (print == "crashkernel") {
      std::printf("%s\n", CrashkernelArgument(*smallest).c_str());
      return absl::OkStatus();
    }
    if (print == "recommended-mib") {
      std::printf("%llu\n",
                  static_cast<unsigned long long>(RecommendedReservation(*smallest) >> 20));
      return absl::OkStatus();
    }
    if (print != "table") {
      return absl::InvalidArgumentError(
          "--print must be table, crashkernel, crashkernel-mib or recommended-mib");
    }
    std::printf("capture kernel: %s (%s)\n", kernel->bzimage.kernel_version.c_str(),
                bundle.capture_kernel_image.empty() ? "bzImage" : "prepared image");
    std::printf(
        "  kernel needs %.1f MiB at %llu KiB alignment, initramfs %.1f MiB, headroom %.0f MiB "
        "+ the initramfs again for its unpacked files\n",
        sizes.kernel_init_size / 1048576.0,
        static_cast<unsigned long long>(sizes.kernel_alignment / 1024),
        bundle.capture_initramfs.size() / 1048576.0, headroom / 1048576.0);
    std::printf("smallest reservation: %.1f MiB (%s)\n", *smallest / 1048576.0,
                CrashkernelArgument(*smallest).c_str());
    std::printf("boot with %s (the smallest + %llu MiB margin)\n",
                CrashkernelArgument(RecommendedReservation(*smallest)).c_str(),
                static_cast<unsigned long long>(kCrashkernelMarginBytes >> 20));
    absl::StatusOr<Range> res = map->CrashReservation();
    if (!res.ok()) {
      std::printf("%s has no crash reservation yet (%s)\n", cl.Get("memmap").c_str(),
                  std::string(res.status().message()).c_str());
      return absl::OkStatus();
    }
    absl::StatusOr<Plan> plan = PlanPlacement(request, *res);
    if (!plan.ok()) {
      std::printf("current reservation does not fit: %s\n",
                  std::string(plan.status().message()).c_str());
      return absl::OkStatus();
    }
    std::printf("%s", plan->ToString().c_str());
    return absl::OkStatus();
  };
  return Finish(run(), "plan");
}

// ---- arm / disarm / status -------------------------------------------------

absl::StatusOr<StoreLocation> Locate(const std::string& path) {
  if (path.empty())
    return absl::InvalidArgumentError("--store is required (a device, partition or disk image)");
  return FindStoreInImage(path);
}

// The config a command reads: --config=PATH (must exist) or the default
// (may be missing).
absl::StatusOr<SaveoopsConfig> CommandConfig(const CommandLine& cl) {
  return LoadSaveoopsConfig(cl.Get("config"), cl.IsSet("config"));
}

// "GPT", "MBR" or "whole-disk" and the disk id, for arm's report.
std::string DescribeStoreDisk(const StoreDisk& d) {
  switch (d.scheme) {
    case StoreDiskScheme::kGpt: {
      // A GUID's first three fields are little-endian on disk (UEFI 2.10
      // Appendix A); shown as sfdisk and blkid show it.
      std::array<uint8_t, 16> g = d.disk_id;
      std::reverse(g.begin(), g.begin() + 4);
      std::reverse(g.begin() + 4, g.begin() + 6);
      std::reverse(g.begin() + 6, g.begin() + 8);
      return absl::StrCat("GPT ", FormatStoreUuid(g));
    }
    case StoreDiskScheme::kMbr:
      return absl::StrFormat("MBR %02x%02x%02x%02x", d.disk_id[3], d.disk_id[2], d.disk_id[1],
                             d.disk_id[0]);
    case StoreDiskScheme::kWholeDisk:
      return absl::StrCat("(whole disk, ", d.partition_size, " bytes)");
  }
  return "?";
}

// Refuses a region libblkid recognises as something else (swap, a file
// system, LVM/RAID member, partition table) unless --force.
absl::Status RefuseForeignRegion(const StoreLocation& loc, bool force, const char* what) {
  absl::StatusOr<std::string> other = ForeignSignature(loc);
  if (!other.ok()) return other.status();
  if (other->empty()) return absl::OkStatus();
  if (force) {
    std::printf("saveoops: note: %s at offset %llu holds %s; going on (--force)\n",
                loc.path.c_str(), static_cast<unsigned long long>(loc.offset), other->c_str());
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      loc.path, " at offset ", loc.offset, " holds ", *other, ": refusing to ", what,
      " it (it may be in use by something else; --force to override, or `saveoops store wipe` "
      "a store that is no longer wanted)"));
}

int CmdArm(int argc, char** argv) {
  CommandLine cl("saveoops arm --bundle=FILE [flags]",
                 "Verifies the bundle, plans the layout inside the crash reservation and\n"
                 "loads the capture kernel with kexec_load(KEXEC_ON_CRASH). Needs root and a\n"
                 "kernel booted with crashkernel= (see `saveoops plan`).");
  cl.Flag("bundle", "/var/lib/saveoops/saveoops.bundle", "the bundle to stage");
  cl.Flag("append", "", "extra capture kernel command line");
  cl.Flag("store", "",
          "the store the capture may write (device, partition or disk image): its UUID goes "
          "into the verified capture initramfs and any other store is refused after a panic; "
          "a file store (`store format --file-store`: an immutable file on ext4/xfs) also "
          "gives its disk's identity and the file's extents, and the capture writes only "
          "inside them; without --store the capture writes the first store it finds, "
          "unverified");
  cl.SizeFlag("headroom", "", HeadroomFlagHelp(), 0, kMaxRuntimeHeadroom);
  cl.Flag("root", "/", "read /proc and /sys under this directory (testing)");
  // ArmBundle checks N against the plan's segment count.
  cl.IntFlag("test-corrupt-digest", "-1",
             "TEST ONLY: give purgatory a wrong digest for segment N, to see it refuse", -1,
             INT32_MAX);
  cl.Switch("dry-run", "plan and print, load nothing");
  cl.Switch("quiet-purgatory", "purgatory prints only refusals");
  cl.Switch("no-fallback", "never fall back to kexec_file_load");
  cl.Switch("force",
            "arm --store even if libblkid finds another signature (swap, a file system) in it");
  cl.Flag("config", kDefaultConfigPath,
          "settings file: its store= is the --store default; a missing default is no error");
  int rc = 0;
  if (!ParseOrHelp(cl, argc, argv, 2, "arm", &rc)) return rc;
  auto run = [&]() -> absl::Status {
    absl::StatusOr<SaveoopsConfig> config = CommandConfig(cl);
    if (!config.ok()) return config.status();
    const std::string store = cl.IsSet("store") ? cl.Get("store") : config->store;
    if (!cl.IsSet("store") && !store.empty()) {
      std::printf("saveoops arm: store %s (store= of %s)\n", store.c_str(), config->path.c_str());
    }
    absl::StatusOr<BundleContents> bundle = ReadBundleFile(cl.Get("bundle"));
    if (!bundle.ok()) return bundle.status();
    ArmRequest request;
    request.root = cl.Get("root");
    request.options.append = cl.Get("append");
    // The running boot's id, so the record (and the journal entry collect
    // makes of it) names the boot that panicked. On the capture command
    // line, inside boot_params, which the purgatory verifies.
    if (StatusOr<std::string> id =
            ReadTextFileBounded((cl.Get("root") == "/" ? std::string() : cl.Get("root")) +
                                    "/proc/sys/kernel/random/boot_id",
                                64, "boot id");
        id.ok()) {
      std::string word(absl::StripAsciiWhitespace(*id));
      if (word.size() == 36 && word.find_first_not_of("0123456789abcdef-") == std::string::npos) {
        request.options.append =
            absl::StrCat(request.options.append, request.options.append.empty() ? "" : " ",
                         "saveoops.boot_id=", word);
      }
    }
    if (!config->capture_action.empty() &&
        !CmdlineValue(request.options.append, "saveoops.action")) {
      // After the bundle's own words, so this one is the last: the one the
      // capture program reads.
      request.options.append =
          absl::StrCat(request.options.append, request.options.append.empty() ? "" : " ",
                       "saveoops.action=", config->capture_action);
      std::printf("saveoops arm: capture action %s (capture_action= of %s)\n",
                  config->capture_action.c_str(), config->path.c_str());
    }
    absl::StatusOr<std::optional<uint64_t>> headroom = HeadroomFlag(cl);
    if (!headroom.ok()) return headroom.status();
    request.options.runtime_headroom = *headroom;
    absl::StatusOr<int64_t> corrupt = cl.GetInt("test-corrupt-digest");
    if (!corrupt.ok()) return corrupt.status();
    request.options.corrupt_digest_segment = static_cast<int>(*corrupt);
    request.options.purgatory_flags = cl.Enabled("quiet-purgatory") ? kPurgatoryFlagQuiet : 0;
    request.dry_run = cl.Enabled("dry-run");
    request.allow_file_load_fallback = !cl.Enabled("no-fallback");
    request.say = [](const std::string& line) { std::printf("saveoops arm: %s\n", line.c_str()); };
    if (!store.empty() && LooksLikeFileStore(store)) {
      // A file store: its extents and its disk's identity go into the map;
      // the capture writes through them.
      absl::StatusOr<StoreMap> map = MapFileStore(store);
      if (!map.ok()) return map.status();
      request.store_map = *map;
      std::printf("saveoops arm: file store %s: %s, %zu extent(s) on disk %s partition %u%s\n",
                  FormatStoreUuid(map->store_uuid).c_str(), store.c_str(), map->extents.size(),
                  DescribeStoreDisk(*map->disk).c_str(), map->disk->partition,
                  map->disk_serial.empty() ? "" : (" (serial " + map->disk_serial + ")").c_str());
    } else if (!store.empty()) {
      absl::StatusOr<StoreLocation> loc = Locate(store);
      if (!loc.ok()) return loc.status();
      absl::StatusOr<StoreInfo> info = ReadStoreInfo(*loc);
      if (!info.ok()) return info.status();
      if (absl::Status s = RefuseForeignRegion(*loc, cl.Enabled("force"), "arm with"); !s.ok()) {
        return s;
      }
      StoreMap map;
      map.store_uuid = info->uuid;
      request.store_map = map;
      std::printf("saveoops arm: store %s on %s at offset %llu\n",
                  FormatStoreUuid(map.store_uuid).c_str(), loc->path.c_str(),
                  static_cast<unsigned long long>(loc->offset));
    } else {
      std::printf(
          "saveoops arm: note: no --store: the capture will write the first store it finds "
          "(unverified)\n");
    }
    absl::StatusOr<ArmOutcome> armed = ArmBundle(*bundle, request);
    if (!armed.ok()) return armed.status();
    const ArmPlan* plan = &armed->plan;
    std::printf("%s", plan->ToString().c_str());
    if (request.options.corrupt_digest_segment >= 0) {
      std::printf("saveoops arm: TEST: digest of segment %d (%s) deliberately wrong\n",
                  request.options.corrupt_digest_segment,
                  plan->verified_segments[request.options.corrupt_digest_segment].c_str());
    }
    if (request.dry_run) return absl::OkStatus();
    std::printf(
        "saveoops arm: armed: capture kernel %s staged in %s\n",
        plan->capture_kernel_version.c_str(),
        absl::StrFormat("[%#x, %#x)", plan->plan.reservation.start, plan->plan.reservation.end())
            .c_str());
    return absl::OkStatus();
  };
  return Finish(run(), "arm");
}

int CmdDisarm(int argc, char** argv) {
  CommandLine cl("saveoops disarm", "Unloads the staged capture kernel.");
  int rc = 0;
  if (!ParseOrHelp(cl, argc, argv, 2, "disarm", &rc)) return rc;
  absl::Status s = UnloadCrashKernel();
  if (s.ok()) {
    unlink(kArmedStateFile);
    std::printf("saveoops disarm: capture kernel unloaded\n");
  }
  return Finish(s, "disarm");
}

int CmdStatus(int argc, char** argv) {
  CommandLine cl("saveoops status", "Says whether a capture kernel is armed, and its layout.");
  cl.Flag("root", "/", "read /sys under this directory (testing)");
  int rc = 0;
  if (!ParseOrHelp(cl, argc, argv, 2, "status", &rc)) return rc;
  absl::StatusOr<bool> loaded = CrashKernelLoaded(cl.Get("root"));
  if (!loaded.ok()) return Finish(loaded.status(), "status");
  std::printf("saveoops status: %s\n", *loaded ? "armed" : "not armed");
  if (*loaded) {
    absl::StatusOr<std::vector<uint8_t>> state =
        ReadFileBounded(kArmedStateFile, kMaxTextFileBytes, "armed state");
    if (state.ok()) {
      std::fwrite(state->data(), 1, state->size(), stdout);
    } else {
      std::printf("(loaded by something other than saveoops arm, or %s is gone)\n",
                  kArmedStateFile);
    }
  }
  return *loaded ? 0 : 3;
}

// ---- bundle ------------------------------------------------------------------

int CmdBundle(int argc, char** argv) {
  const std::string sub = argc > 2 ? argv[2] : "";
  CommandLine cl("saveoops bundle (create|verify) [flags]",
                 "create: packs the capture kernel, capture initramfs, command line and\n"
                 "purgatory into one saveoops.bundle with a SHA-256 per part.\n"
                 "verify: checks every digest of --bundle and every structural check arm\n"
                 "makes (capture kernel header, prepared kernel image, purgatory ABI).");
  cl.Flag("kernel", DefaultKernelPath(), "capture kernel bzImage");
  cl.Flag("capture-kernel", "", kCaptureKernelFlagHelp);
  cl.Flag("initramfs", "",
          "capture initramfs (from `saveoops initramfs`); required but with "
          "--capture-kernel=saveoops, whose default is saveoops-capture alone");
  cl.Flag("capture-binary", DefaultCaptureBinaryPath(),
          "the static saveoops-capture binary (when the initramfs is built here)");
  cl.Flag("purgatory", DefaultPurgatoryPath(), "purgatory.bin");
  cl.Flag("cmdline", kDefaultCaptureCmdline, "capture kernel command line");
  cl.Flag("kernel-image", "auto", kKernelImageFlagHelp);
  cl.Flag("out", "saveoops.bundle", "output file (create)");
  cl.Flag("bundle", "saveoops.bundle", "bundle to check (verify)");
  int rc = 0;
  if (sub != "create" && sub != "verify") {
    std::fputs(cl.Help().c_str(), sub == "--help" ? stdout : stderr);
    return sub == "--help" ? 0 : 2;
  }
  if (!ParseOrHelp(cl, argc, argv, 3, "bundle", &rc)) return rc;
  auto run = [&]() -> absl::Status {
    if (sub == "verify") {
      absl::StatusOr<BundleContents> b = ReadBundleFile(cl.Get("bundle"));
      if (!b.ok()) return b.status();
      if (absl::Status s = CheckBundleStructure(*b); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat(cl.Get("bundle"), ": ", s.message()));
      }
      std::printf(
          "%s: ok (kernel %zu, prepared kernel image %zu, initramfs %zu, purgatory %zu bytes; "
          "cmdline \"%s\")\n",
          cl.Get("bundle").c_str(), b->capture_kernel.size(), b->capture_kernel_image.size(),
          b->capture_initramfs.size(), b->purgatory.size(), b->capture_cmdline.c_str());
      return absl::OkStatus();
    }
    DefaultCaptureBundleSpec spec;
    if (absl::Status s = ChooseCaptureKernel(cl, &spec); !s.ok()) return s;
    if (cl.Get("initramfs").empty() && cl.Get("capture-kernel") != kSaveoopsCaptureKernelName) {
      return absl::InvalidArgumentError(
          "--initramfs is required (but with --capture-kernel=saveoops)");
    }
    spec.initramfs_path = cl.Get("initramfs");
    spec.capture_binary_path = cl.Get("capture-binary");
    spec.purgatory_path = cl.Get("purgatory");
    spec.cmdline = cl.Get("cmdline");
    spec.kernel_image_mode = cl.Get("kernel-image");
    // What was decided (the initramfs, the staged kernel image), a line each.
    spec.detail = [](const std::string& line) { std::printf("%s\n", line.c_str()); };
    absl::StatusOr<DefaultCaptureBundle> built = BuildDefaultCaptureBundle(spec);
    if (!built.ok()) return built.status();
    absl::Status s = WriteBundleFile(cl.Get("out"), built->bundle);
    if (!s.ok()) return s;
    std::printf("wrote %s: capture kernel %s\n", cl.Get("out").c_str(),
                built->kernel_version.c_str());
    return absl::OkStatus();
  };
  return Finish(run(), "bundle");
}

// ---- initramfs -------------------------------------------------------------

int CmdInitramfs(int argc, char** argv) {
  CommandLine cl("saveoops initramfs [--modules=A,B | --store-device=DEV] [flags]",
                 "Builds the capture initramfs: saveoops-capture as /init plus the kernel\n"
                 "modules needed to reach the store disk, resolved through modules.dep.\n"
                 "By default it carries the modules of every disk kind Saveoops supports;\n"
                 "--store-device=DEV (on the machine that has the store) or --modules\n"
                 "narrow that to what the store disk needs. Compressed modules (.ko.xz,\n"
                 ".ko.zst, .ko.gz) are unpacked here. A modules directory without\n"
                 "modules.dep needs `depmod -b ROOT RELEASE` first.");
  cl.Flag("capture-binary", DefaultCaptureBinaryPath(), "the static saveoops-capture binary");
  cl.Flag("modules-dir", "", "/lib/modules/RELEASE of the capture kernel (default: newest)");
  cl.Flag("modules", absl::StrJoin(kDefaultCaptureModules, ","),
          absl::StrCat("modules (names or aliases) to include, comma-separated; dependencies are "
                       "added; ",
                       kDefaultCaptureModulesHelp));
  cl.Flag("store-device", "",
          "the store's block device here (e.g. /dev/vda2): its drivers' modules, read from "
          "/sys, replace the default set (--modules given too: both)");
  cl.Flag("out", "capture.cpio", "output file");
  int rc = 0;
  if (!ParseOrHelp(cl, argc, argv, 2, "initramfs", &rc)) return rc;
  auto run = [&]() -> absl::Status {
    CaptureInitramfsSpec spec;
    spec.capture_binary_path = cl.Get("capture-binary");
    spec.modules_dir = cl.Get("modules-dir");
    if (spec.modules_dir.empty()) {
      absl::StatusOr<std::string> dir = DefaultModulesDir();
      if (!dir.ok()) return dir.status();
      spec.modules_dir = *dir;
    }
    spec.modules.clear();
    if (!cl.Get("store-device").empty()) {
      absl::StatusOr<std::vector<std::string>> found =
          StoreDeviceModules(cl.Get("store-device"), spec.modules_dir,
                             [](const std::string& s) { std::printf("%s\n", s.c_str()); });
      if (!found.ok()) return found.status();
      spec.modules = *std::move(found);
    }
    if (cl.Get("store-device").empty() || cl.IsSet("modules")) {
      for (absl::string_view m : absl::StrSplit(cl.Get("modules"), ',', absl::SkipEmpty())) {
        spec.modules.emplace_back(m);
      }
    }
    CaptureInitramfsSummary summary;
    absl::StatusOr<std::vector<uint8_t>> cpio = BuildCaptureInitramfs(spec, &summary);
    if (!cpio.ok()) return cpio.status();
    absl::Status s = WriteFileAtomic(cl.Get("out"), *cpio, 0644);
    if (!s.ok()) return s;
    std::printf("wrote %s: %.2f MiB (/init %.2f MiB; modules %s: %zu files, %.2f MiB from %s)\n",
                cl.Get("out").c_str(), cpio->size() / 1048576.0, summary.init_bytes / 1048576.0,
                spec.modules.empty() ? "none" : absl::StrJoin(spec.modules, ",").c_str(),
                summary.module_paths.size(), summary.module_bytes / 1048576.0,
                spec.modules_dir.c_str());
    if (!summary.skipped_modules.empty()) {
      std::printf("not in this kernel, skipped: %s\n",
                  absl::StrJoin(summary.skipped_modules, ",").c_str());
    }
    return absl::OkStatus();
  };
  return Finish(run(), "initramfs");
}

// ---- store, list, show, collect ----------------------------------------------

int CmdStore(int argc, char** argv) {
  const std::string sub = argc > 2 ? argv[2] : "";
  CommandLine cl(
      "saveoops store format --store=PATH [--partition=N | --offset=OFF --size=SIZE |\n"
      "                       --file-store --size=SIZE]",
      "Formats a record store on a partition, device or file. Erases it.\n"
      "With --file-store, PATH is a file of this machine's ext4/xfs file system\n"
      "that the capture writes through its extents (one-disk machines).\n"
      "A file that does not exist is created (mode 0600) with --size. In an image\n"
      "or disk with a partition table the store must fill, or lie inside, one\n"
      "partition and overlap no other.");
  cl.Flag("store", "", "device, partition or file");
  cl.SizeFlag("size", "16M",
              "store size: of a new file (default 16M), or of the region of an existing one "
              "(default: to its end)",
              0, INT64_MAX);
  // Offsets and sizes are off_t to the kernel: at most INT64_MAX.
  cl.SizeFlag("offset", "0", "byte offset of the store inside --store", 0, INT64_MAX);
  cl.IntFlag("partition", "0",
             "format partition N of the image or disk --store (MBR 1-4, logical 5.., GPT entry "
             "index + 1): offset and size from its table",
             0, INT32_MAX);
  cl.Switch("force",
            "format even if libblkid finds another signature (swap, a file system, LVM, RAID, a "
            "partition table) in the region; with --file-store: format an existing file store "
            "again");
  cl.Switch("file-store",
            "--store is a file on this machine's ext4 or xfs file system (e.g. "
            "/var/lib/saveoops/store) that the capture writes through its extents: created "
            "fully written, 0600 and immutable (FS_IMMUTABLE_FL); refused on other file "
            "systems and on device-mapper (dm-crypt, LVM, dm-linear), md RAID and loop devices");
  int rc = 0;
  if (sub == "wipe") {
    CommandLine wipe("saveoops store wipe --store=PATH",
                     "Zeroes the two superblock copies of the store found in PATH (the whole\n"
                     "device or file, else the partition holding it) and nothing else: no\n"
                     "capture writes to it afterwards. Run it before reusing a store partition\n"
                     "for anything else (mkswap, wipefs and mkfs may leave our superblocks),\n"
                     "and before deleting a file store (it clears the file's immutable flag):\n"
                     "a file deleted while armed leaves its superblock in blocks the file\n"
                     "system then calls free, and the capture cannot tell.");
    wipe.Flag("store", "", "device, partition or disk image holding the store");
    if (!ParseOrHelp(wipe, argc, argv, 3, "store wipe", &rc)) return rc;
    auto run_wipe = [&]() -> absl::Status {
      // A file store is immutable: released first, then wiped in place, so
      // that its blocks no longer hold a superblock an armed capture would
      // accept (deleting it alone leaves them as they are, in free space).
      const bool file_store = LooksLikeFileStore(wipe.Get("store"));
      if (file_store) {
        if (absl::Status s = ReleaseFileStore(wipe.Get("store")); !s.ok()) return s;
      }
      absl::StatusOr<StoreLocation> loc = Locate(wipe.Get("store"));
      if (!loc.ok()) return loc.status();
      absl::StatusOr<StoreInfo> info = ReadStoreInfo(*loc);
      if (!info.ok()) return info.status();
      absl::Status s = WipeStore(*loc);
      if (!s.ok()) return s;
      std::printf("wiped store %s on %s at offset %llu\n", FormatUuid(info->uuid).c_str(),
                  loc->path.c_str(), static_cast<unsigned long long>(loc->offset));
      if (file_store) {
        std::printf("%s is no longer immutable: delete it, or format it again\n",
                    loc->path.c_str());
      }
      return absl::OkStatus();
    };
    return Finish(run_wipe(), "store wipe");
  }
  if (sub != "format") {
    std::fputs(cl.Help().c_str(), sub == "--help" ? stdout : stderr);
    if (sub == "--help")
      std::fputs("\nsaveoops store wipe --store=PATH: zero a store's superblocks\n", stdout);
    return sub == "--help" ? 0 : 2;
  }
  if (!ParseOrHelp(cl, argc, argv, 3, "store", &rc)) return rc;
  auto run = [&]() -> absl::Status {
    if (cl.Enabled("file-store")) {
      if (cl.IsSet("partition") || cl.IsSet("offset")) {
        return absl::InvalidArgumentError("--file-store takes no --partition or --offset");
      }
      FileStoreRequest fr;
      fr.path = cl.Get("store");
      if (fr.path.empty()) return absl::InvalidArgumentError("--store is required");
      absl::StatusOr<uint64_t> size = cl.GetSize("size");
      if (!size.ok()) return size.status();
      fr.size = *size;
      fr.force = cl.Enabled("force");
      absl::StatusOr<StoreInfo> info = FormatFileStore(fr);
      if (!info.ok()) return info.status();
      StatusOr<std::vector<uint8_t>> loaded =
          ReadFileBounded("/sys/kernel/kexec_crash_loaded", 4096, "kexec_crash_loaded");
      if (loaded.ok() && !loaded->empty() && (*loaded)[0] == '1') {
        std::printf(
            "saveoops: note: a capture kernel is armed; arm again with --store=%s so that it "
            "writes to this store\n",
            fr.path.c_str());
      }
      std::printf("formatted file store %s: store %s, %llu KiB ring, immutable\n", fr.path.c_str(),
                  FormatUuid(info->uuid).c_str(),
                  static_cast<unsigned long long>((info->ring_end - info->ring_start) >> 10));
      return absl::OkStatus();
    }
    FormatRequest req;
    req.path = cl.Get("store");
    if (req.path.empty()) return absl::InvalidArgumentError("--store is required");
    absl::StatusOr<uint64_t> off = cl.GetSize("offset");
    if (!off.ok()) return off.status();
    req.offset = *off;
    struct stat st;
    const bool exists = lstat(req.path.c_str(), &st) == 0;
    if (!exists || cl.IsSet("size")) {
      absl::StatusOr<uint64_t> size = cl.GetSize("size");
      if (!size.ok()) return size.status();
      req.size = *size;
    }
    absl::StatusOr<int64_t> partition = cl.GetInt("partition");
    if (!partition.ok()) return partition.status();
    req.partition = static_cast<int>(*partition);
    absl::StatusOr<StoreLocation> where = ResolveFormatRegion(req);
    if (!where.ok()) return where.status();
    const StoreLocation& loc = *where;
    if (exists) {
      if (absl::Status s = RefuseForeignRegion(loc, cl.Enabled("force"), "format"); !s.ok()) {
        return s;
      }
    }
    absl::Status s = FormatStore(loc);
    if (!s.ok()) return s;
    absl::StatusOr<StoreInfo> info = ReadStoreInfo(loc);
    if (!info.ok()) return info.status();
    std::printf("formatted %s: store %s, %llu KiB ring\n", loc.path.c_str(),
                FormatUuid(info->uuid).c_str(),
                static_cast<unsigned long long>((info->ring_end - info->ring_start) >> 10));
    return absl::OkStatus();
  };
  return Finish(run(), "store");
}

// list's and show's --json: one JSON object per record and line (metadata,
// signature, frames, log), from the same formatter for both.
constexpr char kJsonSwitchHelp[] =
    "print JSON Lines: one object per record (metadata, signature, frames, log)";

// Prints text a formatter made, or returns why it could not make it.
absl::Status PrintFormatted(absl::StatusOr<std::string> text) {
  if (!text.ok()) return text.status();
  std::fputs(text->c_str(), stdout);
  return absl::OkStatus();
}

int CmdList(int argc, char** argv) {
  CommandLine cl("saveoops list --store=PATH [--json | --by-signature]",
                 "Lists the records of a store (a device, partition, or a disk image holding\n"
                 "one, e.g. a VM's disk).");
  cl.Flag("store", "", "device, partition or disk image");
  cl.Switch("json", kJsonSwitchHelp);
  cl.Switch("by-signature", "group records by crash signature: count, first/last seq and time");
  int rc = 0;
  if (!ParseOrHelp(cl, argc, argv, 2, "list", &rc)) return rc;
  auto run = [&]() -> absl::Status {
    absl::StatusOr<StoreLocation> loc = Locate(cl.Get("store"));
    if (!loc.ok()) return loc.status();
    absl::StatusOr<StoreListing> l = ListRecordMetadata(*loc);
    if (!l.ok()) return l.status();
    if (cl.Enabled("json") || cl.Enabled("by-signature")) {
      return PrintFormatted(FormatListingJson(*loc, *l, cl.Enabled("by-signature")));
    }
    return PrintFormatted(FormatListingWithSignatures(*loc, *l));
  };
  return Finish(run(), "list");
}

int CmdShow(int argc, char** argv) {
  CommandLine cl("saveoops show --store=PATH [--raw | --json] [N]",
                 "Prints record N (a sequence number; default: the newest) with its\n"
                 "metadata and the captured kernel log (control characters shown as \\xNN).");
  cl.Flag("store", "", "device, partition or disk image");
  cl.Switch("raw", "print only the log, its bytes as stored");
  cl.Switch("json", kJsonSwitchHelp);
  int rc = 0;
  if (!ParseOrHelp(cl, argc, argv, 2, "show", &rc)) return rc;
  auto run = [&]() -> absl::Status {
    absl::StatusOr<StoreLocation> loc = Locate(cl.Get("store"));
    if (!loc.ok()) return loc.status();
    std::optional<uint64_t> want;
    if (!cl.positional().empty()) {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(cl.positional()[0], &n) || cl.positional()[0][0] == '+') {
        return absl::InvalidArgumentError(
            absl::StrCat("'", cl.positional()[0], "' is not a record number"));
      }
      want = n;
    }
    absl::StatusOr<StoreListing> l = ListRecordMetadata(*loc);
    if (!l.ok()) return l.status();
    if (l->records.empty())
      return absl::NotFoundError(absl::StrCat(cl.Get("store"), " holds no records"));
    const CaptureRecord* pick = &l->records.back();
    if (want) {
      pick = nullptr;
      for (const CaptureRecord& r : l->records)
        if (r.sequence == *want) pick = &r;
      if (pick == nullptr)
        return absl::NotFoundError(absl::StrCat("no record with sequence ", *want));
    }
    if (cl.Enabled("json")) {
      StoreListing one;
      one.records.push_back(*pick);
      return PrintFormatted(FormatListingJson(*loc, one, /*by_signature=*/false));
    }
    return ShowRecord(*loc, *pick, cl.Enabled("raw") ? ShowMode::kRaw : ShowMode::kDisplay, stdout);
  };
  return Finish(run(), "show");
}

int CmdCollect(int argc, char** argv) {
  CommandLine cl("saveoops collect [--store=PATH] [--dir=DIR] [--retention=N] [flags]",
                 "Copies records not collected before into DIR/records/<UTC time>-<seq>/\n"
                 "(dmesg.txt, record.json; directories 0700, files 0600), sends each to the\n"
                 "systemd journal (journalctl MESSAGE_ID=" +
                     std::string(kSaveoopsPanicMessageId) +
                     "),\n"
                     "marks it collected in DIR/<store uuid>.collected, then keeps the newest N\n"
                     "record directories. Run at boot by saveoops-collect.service. Settings not\n"
                     "given as flags come from the config file.");
  cl.Flag("config", kDefaultConfigPath,
          "settings file (store=, retention=, collect_dir=); a missing default is no error");
  cl.Flag("store", "", "device, partition, store file or disk image (default: store= of --config)");
  cl.Flag("dir", "",
          absl::StrCat("where collected records go (default: collect_dir= of --config, else ",
                       kDefaultCollectDir, ")"));
  cl.Flag("retention", "",
          absl::StrCat("record directories kept, the newest; 0 keeps all (default: retention= "
                       "of --config, else ",
                       kDefaultRetention, ")"));
  cl.Flag("journal-socket", kJournalSocketPath,
          "the journal's native socket; 'none' sends nothing (an absent socket is only a note)");
  int rc = 0;
  if (!ParseOrHelp(cl, argc, argv, 2, "collect", &rc)) return rc;
  auto run = [&]() -> absl::Status {
    absl::StatusOr<SaveoopsConfig> config = CommandConfig(cl);
    if (!config.ok()) return config.status();
    std::string store = cl.IsSet("store") ? cl.Get("store") : config->store;
    if (store.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("no store: give --store or set store= in ", cl.Get("config")));
    }
    absl::StatusOr<StoreLocation> loc = Locate(store);
    if (!loc.ok()) return loc.status();
    CollectOptions options;
    options.dir = cl.IsSet("dir")                ? cl.Get("dir")
                  : !config->collect_dir.empty() ? config->collect_dir
                                                 : std::string(kDefaultCollectDir);
    options.retention = config->retention.value_or(kDefaultRetention);
    if (cl.IsSet("retention")) {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(cl.Get("retention"), &n) || n > kMaxRetention) {
        return absl::InvalidArgumentError(absl::StrCat("--retention=", cl.Get("retention"),
                                                       ": not a number from 0 to ", kMaxRetention));
      }
      options.retention = n;
    }
    if (cl.Get("journal-socket") != "none") options.journal_socket = cl.Get("journal-socket");
    absl::StatusOr<CollectResult> r = CollectRecords(*loc, options);
    if (!r.ok()) return r.status();
    std::fputs(FormatCollectSummary(*r, options.dir).c_str(), stdout);
    return absl::OkStatus();
  };
  return Finish(run(), "collect");
}

int Usage(FILE* out) {
  std::fputs(
      "usage: saveoops COMMAND [flags]   (saveoops COMMAND --help for each;\n"
      "       saveoops --version)\n\n"
      "Saveoops stages a verified capture kernel that saves a panicking kernel's log.\n\n"
      "commands:\n"
      "  plan        plan the layout; print the crashkernel= this bundle needs\n"
      "  arm         stage the capture kernel (kexec_load on crash)\n"
      "  disarm      unload it\n"
      "  status      is a capture kernel armed?\n"
      "  bundle      create | verify a saveoops.bundle\n"
      "  initramfs   build the capture initramfs\n"
      "  store       format or wipe a record store\n"
      "  list        list captured records\n"
      "  show        print a captured record\n"
      "  collect     copy new records into /var/lib/saveoops/records and the journal\n",
      out);
  return out == stdout ? 0 : 2;
}

}  // namespace
}  // namespace saveoops

int main(int argc, char** argv) {
  using namespace saveoops;
  if (argc < 2) return Usage(stderr);
  const std::string cmd = argv[1];
  static const std::map<std::string, int (*)(int, char**)> kCommands = {
      {"plan", CmdPlan},       {"arm", CmdArm},       {"disarm", CmdDisarm},
      {"status", CmdStatus},   {"bundle", CmdBundle}, {"initramfs", CmdInitramfs},
      {"store", CmdStore},     {"list", CmdList},     {"show", CmdShow},
      {"collect", CmdCollect},
  };
  if (cmd == "--help" || cmd == "-h" || cmd == "help") return Usage(stdout);
  if (cmd == "--version") {
    std::printf("saveoops %s\n", kSaveoopsVersion);
    return 0;
  }
  auto it = kCommands.find(cmd);
  if (it == kCommands.end()) {
    std::fprintf(stderr, "saveoops: unknown command '%s'\n", cmd.c_str());
    return Usage(stderr);
  }
  return it->second(argc, argv);
}
