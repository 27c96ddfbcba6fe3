#include "backends/pack_driver.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "arming/capture_bundle.h"
#include "arming/capture_defaults.h"
#include "arming/sizing.h"
#include "backends/backend.h"
#include "common/bundle.h"
#include "common/bzimage.h"
#include "common/files.h"
#include "common/kernel_image_prepare.h"
#include "common/planner.h"
#include "host/flags.h"
#include "host/runfiles.h"
#include "initramfs/builder.h"

namespace saveoops {
namespace {

// `bazel run` starts us in the runfiles tree; relative paths the user typed
// are relative to where they ran bazel.
std::string UserPath(const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  const char* wd = getenv("BUILD_WORKING_DIRECTORY");
  return wd != nullptr ? absl::StrCat(wd, "/", p) : p;
}

std::string BackendNames() {
  std::vector<std::string> names;
  for (const Backend* b : Backends()) names.push_back(b->name());
  return absl::StrJoin(names, ", ");
}

// --out must be where nobody else can change what pack writes: its directory
// (and --out itself when it is an existing directory) pass
// CheckTrustedDirectory. Checked before any slow work.
absl::Status CheckOut(const std::string& out) {
  if (absl::Status s = CheckTrustedDirectory(DirectoryOf(out), "--out " + out + ": its directory");
      !s.ok()) {
    return s;
  }
  struct stat st {};
  if (lstat(out.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return CheckTrustedDirectory(out, "--out");
  }
  return absl::OkStatus();
}

absl::Status Run(const Backend& backend, const CommandLine& cl) {
  int step = 0;
  const int steps = 5;
  auto progress = [&](const std::string& s) {
    std::printf("[%d/%d] %s\n", ++step, steps, s.c_str());
    std::fflush(stdout);
  };
  PackContext ctx;
  ctx.out = UserPath(cl.Get("out").empty() ? backend.default_out() : cl.Get("out"));
  if (absl::Status s = CheckOut(ctx.out); !s.ok()) return s;
  ctx.first_kernel_path = UserPath(cl.Get("kernel"));
  if (ctx.first_kernel_path.empty()) {
    return absl::NotFoundError("no /boot/vmlinuz-* on this machine: give --kernel");
  }
  absl::StatusOr<std::vector<uint8_t>> first =
      ReadFileBounded(ctx.first_kernel_path, kMaxKernelFileBytes, "--kernel");
  if (!first.ok()) return first.status();
  absl::StatusOr<BzImageInfo> first_info = ParseBzImage(*first);
  if (!first_info.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ctx.first_kernel_path, ": ", first_info.status().message()));
  }
  ctx.first_initrd_path = UserPath(cl.Get("initrd"));
  if (!cl.IsSet("initrd")) {
    const std::string guess = "/boot/initrd.img-" + KernelReleaseOf(first_info->kernel_version);
    ctx.first_initrd_path = access(guess.c_str(), R_OK) == 0 ? guess : "";
  } else if (!ctx.first_initrd_path.empty() && access(ctx.first_initrd_path.c_str(), R_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("--initrd ", ctx.first_initrd_path, " is not readable"));
  }
  if (struct stat st{}; !ctx.first_initrd_path.empty() &&
                        (stat(ctx.first_initrd_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))) {
    return absl::InvalidArgumentError(
        absl::StrCat("--initrd ", ctx.first_initrd_path, ": not a regular file"));
  }
  ctx.first_append = cl.Get("append");

  DefaultCaptureBundleSpec spec;
  const std::string capture_kernel = cl.Get("capture-kernel");
  if (capture_kernel.empty()) {
    spec.capture_kernel_path = ctx.first_kernel_path;
    spec.capture_kernel_flag = "--kernel";
  } else {
    absl::StatusOr<std::string> path = CaptureKernelPathOf(
        capture_kernel == kSaveoopsCaptureKernelName ? capture_kernel : UserPath(capture_kernel));
    if (!path.ok()) return path.status();
    spec.capture_kernel_path = *path;
    spec.capture_kernel_flag = absl::StrCat("--capture-kernel=", capture_kernel);
  }
  spec.capture_binary_path = DefaultCaptureBinaryPath();
  spec.modules_dir = UserPath(cl.Get("modules-dir"));
  spec.modules = absl::StrSplit(cl.Get("modules"), ',', absl::SkipEmpty());
  spec.cmdline = cl.Get("capture-cmdline");
  spec.kernel_image_mode = cl.Get("kernel-image");
  spec.purgatory_path = DefaultPurgatoryPath();
  spec.purgatory_flag = "purgatory";
  spec.step = progress;
  spec.detail = [](const std::string& s) { std::printf("      %s\n", s.c_str()); };
  absl::StatusOr<DefaultCaptureBundle> built = BuildDefaultCaptureBundle(spec);
  if (!built.ok()) return built.status();
  ctx.bundle = std::move(built->bundle);

  progress("writing the bundle");
  char tmpl[] = "/tmp/saveoops-pack.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("cannot create a temporary directory");
  ctx.bundle_path = absl::StrCat(tmpl, "/saveoops.bundle");
  // The backends copy the bundle into their artifact; the scratch copy goes.
  const std::string scratch_dir = tmpl;
  absl::Cleanup remove_scratch = [&] {
    unlink(ctx.bundle_path.c_str());
    rmdir(scratch_dir.c_str());
  };
  absl::Status written = WriteBundleFile(ctx.bundle_path, ctx.bundle);
  if (!written.ok()) return written;
  ctx.saveoops_binary_path = FindSaveoopsFile("saveoops", "tools/saveoops");
  ctx.capture_binary_path = spec.capture_binary_path;
  ctx.purgatory_path = spec.purgatory_path;

  progress("sizing the crash reservation");
  // Pack runs on a build host: the target's memory map is not known yet.
  absl::StatusOr<CaptureKernel> parsed_kernel = ParseCaptureKernel(ctx.bundle);
  if (!parsed_kernel.ok()) return parsed_kernel.status();
  const CaptureSizes sizes =
      CaptureSizesForUnknownSystem(ctx.bundle, *parsed_kernel, RuntimeHeadroomFor(*parsed_kernel));
  absl::StatusOr<uint64_t> smallest = SmallestReservation(MakeCaptureRequest(sizes));
  if (!smallest.ok()) return smallest.status();
  ctx.crashkernel_bytes = RecommendedReservation(*smallest);

  progress(absl::StrCat("packing for the ", backend.name(), " backend into ", ctx.out));
  ctx.progress = [](const std::string& s) {
    std::printf("      %s\n", s.c_str());
    std::fflush(stdout);
  };
  absl::Status s = backend.Pack(ctx, cl);
  if (!s.ok()) return s;
  std::printf(
      "\ndone: %s\n  capture kernel %s\n  capture initramfs %.2f MiB\n"
      "  crashkernel=%lluM (planner minimum %.1f MiB + %llu MiB margin)\n",
      ctx.out.c_str(), built->release.c_str(), ctx.bundle.capture_initramfs.size() / 1048576.0,
      static_cast<unsigned long long>(ctx.crashkernel_bytes >> 20), *smallest / 1048576.0,
      static_cast<unsigned long long>(kCrashkernelMarginBytes >> 20));
  return absl::OkStatus();
}

}  // namespace
}  // namespace saveoops

namespace saveoops {

int PackMain(int argc, char** argv, const PackDefaults& defaults) {
  std::string backend_name;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--backend=", 0) == 0) backend_name = a.substr(10);
    if (a == "--backend" && i + 1 < argc) backend_name = argv[i + 1];
  }
  CommandLine cl(
      absl::StrCat(defaults.program, " --backend=NAME [flags]"),
      absl::StrCat("Builds a Saveoops artifact: the capture initramfs and bundle for the\n"
                   "capture kernel, then the backend's own output. Backends: ",
                   BackendNames(), "."));
  cl.Flag("backend", "", absl::StrCat("one of: ", BackendNames()));
  cl.Flag("kernel", DefaultKernelPath(), "the first kernel (the one users boot)");
  cl.Flag("initrd", "", "its initrd (default: /boot/initrd.img-RELEASE if present)");
  cl.Flag("append", "", "extra first-kernel command line");
  cl.Flag("capture-kernel", "",
          "capture kernel: a bzImage, or `saveoops` for Saveoops' own small kernel "
          "(tools/build_capture_kernel.sh; $SAVEOOPS_CAPTURE_KERNEL overrides where it is "
          "found; store drivers built in, the initramfs is saveoops-capture alone) "
          "(default: --kernel)");
  cl.Flag("capture-cmdline", defaults.capture_cmdline, "capture kernel command line");
  cl.Flag("kernel-image", "auto", kKernelImageFlagHelp);
  cl.Flag("modules-dir", "",
          "/lib/modules/RELEASE of the capture kernel (default: from its version)");
  cl.Flag(
      "modules", absl::StrJoin(kDefaultCaptureModules, ","),
      absl::StrCat("store disk drivers for the capture initramfs; ", kDefaultCaptureModulesHelp));
  cl.Flag("out", "", "output path (default depends on the backend)");
  const Backend* backend = FindBackend(backend_name);
  if (backend != nullptr) backend->DeclareFlags(cl);
  absl::StatusOr<bool> parsed = cl.Parse(argc, argv, 1);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: %s\n", defaults.program.c_str(),
                 std::string(parsed.status().message()).c_str());
    return 2;
  }
  if (!*parsed) {
    std::fputs(cl.Help().c_str(), stdout);
    for (const Backend* b : Backends())
      std::printf("  backend %-10s %s\n", b->name().c_str(), b->description().c_str());
    return 0;
  }
  if (backend == nullptr) {
    std::fprintf(stderr, "%s: %s; choose --backend= one of: %s\n", defaults.program.c_str(),
                 backend_name.empty() ? "no backend given"
                                      : ("unknown backend '" + backend_name + "'").c_str(),
                 BackendNames().c_str());
    return 2;
  }
  absl::Status s = Run(*backend, cl);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", defaults.program.c_str(), std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace saveoops
