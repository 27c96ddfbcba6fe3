// pack: builds a Saveoops artifact for one backend.
//
//   bazel run //tools:pack -- --backend=kexec|syslinux|uefi [flags]
//
// Common steps (capture initramfs, bundle, reservation size) happen here; the
// backend (backends/backend.h) makes its artifact from them.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "backends/backend.h"
#include "arming/arm.h"
#include "common/bundle.h"
#include "common/bzimage.h"
#include "common/kernel_image_prepare.h"
#include "common/planner.h"
#include "initramfs/builder.h"
#include "host/flags.h"
#include "arming/capture_defaults.h"
#include "host/runfiles.h"

namespace saveoops {
namespace {

// `bazel run` starts us in the runfiles tree; relative paths the user typed
// are relative to where they ran bazel.
std::string UserPath(const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  const char* wd = getenv("BUILD_WORKING_DIRECTORY");
  return wd != nullptr ? absl::StrCat(wd, "/", p) : p;
}

std::string ReleaseOf(const std::string& kernel_version) {
  return kernel_version.substr(0, kernel_version.find(' '));
}

absl::StatusOr<std::vector<uint8_t>> ReadAll(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string BackendNames() {
  std::vector<std::string> names;
  for (const Backend* b : Backends()) names.push_back(b->name());
  return absl::StrJoin(names, ", ");
}

absl::Status Run(const Backend& backend, const CommandLine& cl) {
  int step = 0;
  const int steps = 5;
  auto progress = [&](const std::string& s) {
    std::printf("[%d/%d] %s\n", ++step, steps, s.c_str());
    std::fflush(stdout);
  };
  PackContext ctx;
  ctx.first_kernel_path = UserPath(cl.Get("kernel"));
  if (ctx.first_kernel_path.empty()) {
    return absl::NotFoundError("no /boot/vmlinuz-* on this machine: give --kernel");
  }
  absl::StatusOr<std::vector<uint8_t>> first = ReadAll(ctx.first_kernel_path, "kernel");
  if (!first.ok()) return first.status();
  absl::StatusOr<BzImageInfo> first_info = ParseBzImage(*first);
  if (!first_info.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(ctx.first_kernel_path, ": ", first_info.status().message()));
  }
  ctx.first_initrd_path = UserPath(cl.Get("initrd"));
  if (!cl.IsSet("initrd")) {
    const std::string guess = "/boot/initrd.img-" + ReleaseOf(first_info->kernel_version);
    ctx.first_initrd_path = access(guess.c_str(), R_OK) == 0 ? guess : "";
  } else if (!ctx.first_initrd_path.empty() && access(ctx.first_initrd_path.c_str(), R_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("--initrd ", ctx.first_initrd_path, " is not readable"));
  }
  ctx.first_append = cl.Get("append");

  const std::string capture_kernel =
      cl.Get("capture-kernel").empty() ? ctx.first_kernel_path : UserPath(cl.Get("capture-kernel"));
  absl::StatusOr<std::vector<uint8_t>> ck = ReadAll(capture_kernel, "capture kernel");
  if (!ck.ok()) return ck.status();
  absl::StatusOr<BzImageInfo> ck_info = ParseBzImage(*ck);
  if (!ck_info.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(capture_kernel, ": ", ck_info.status().message()));
  }

  progress(absl::StrCat("building the capture initramfs for ", ReleaseOf(ck_info->kernel_version)));
  CaptureInitramfsSpec spec;
  spec.capture_binary_path = DefaultCaptureBinaryPath();
  absl::StatusOr<std::string> modules_dir = cl.Get("modules-dir").empty()
                                                ? DefaultModulesDir(ReleaseOf(ck_info->kernel_version))
                                                : absl::StatusOr<std::string>(UserPath(cl.Get("modules-dir")));
  if (!modules_dir.ok()) return modules_dir.status();
  spec.modules_dir = *modules_dir;
  spec.modules = absl::StrSplit(cl.Get("modules"), ',', absl::SkipEmpty());
  absl::StatusOr<std::vector<uint8_t>> initramfs = BuildCaptureInitramfs(spec);
  if (!initramfs.ok()) return initramfs.status();

  progress("preparing the capture kernel (unpacking it once, here, instead of after a panic)");
  ctx.bundle.capture_kernel = *std::move(ck);
  absl::StatusOr<std::string> staged = AttachKernelImage(&ctx.bundle, cl.Get("kernel-image"));
  if (!staged.ok()) return staged.status();
  std::printf("      %s\n", staged->c_str());

  progress("writing the bundle");
  ctx.bundle.capture_initramfs = *std::move(initramfs);
  ctx.bundle.capture_cmdline = cl.Get("capture-cmdline");
  absl::StatusOr<std::vector<uint8_t>> purgatory = ReadAll(DefaultPurgatoryPath(), "purgatory");
  if (!purgatory.ok()) return purgatory.status();
  ctx.bundle.purgatory = *std::move(purgatory);
  ctx.out = UserPath(cl.Get("out").empty() ? backend.default_out() : cl.Get("out"));
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

  progress("sizing the crash reservation");
  absl::StatusOr<CaptureSizes> sizes =
      CaptureSizesFor(ctx.bundle, *ck_info, 64, sysconf(_SC_NPROCESSORS_CONF), 8, kDefaultRuntimeHeadroom);
  if (!sizes.ok()) return sizes.status();
  absl::StatusOr<uint64_t> smallest = SmallestReservation(MakeCaptureRequest(*sizes));
  if (!smallest.ok()) return smallest.status();
  ctx.crashkernel_bytes = RecommendedReservation(*smallest);

  progress(absl::StrCat("packing for the ", backend.name(), " backend into ", ctx.out));
  ctx.progress = [](const std::string& s) {
    std::printf("      %s\n", s.c_str());
    std::fflush(stdout);
  };
  absl::Status s = backend.Pack(ctx, cl);
  if (!s.ok()) return s;
  std::printf("\ndone: %s\n  capture kernel %s\n  capture initramfs %.2f MiB\n"
              "  crashkernel=%lluM (planner minimum %.1f MiB + %llu MiB margin)\n",
              ctx.out.c_str(), ReleaseOf(ck_info->kernel_version).c_str(),
              ctx.bundle.capture_initramfs.size() / 1048576.0,
              static_cast<unsigned long long>(ctx.crashkernel_bytes >> 20), *smallest / 1048576.0,
              static_cast<unsigned long long>(kCrashkernelMarginBytes >> 20));
  return absl::OkStatus();
}

}  // namespace
}  // namespace saveoops

int main(int argc, char** argv) {
  using namespace saveoops;
  std::string backend_name;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--backend=", 0) == 0) backend_name = a.substr(10);
    if (a == "--backend" && i + 1 < argc) backend_name = argv[i + 1];
  }
  CommandLine cl("pack --backend=NAME [flags]",
                 absl::StrCat("Builds a Saveoops artifact: the capture initramfs and bundle for the\n"
                              "capture kernel, then the backend's own output. Backends: ",
                              BackendNames(), "."));
  cl.Flag("backend", "", absl::StrCat("one of: ", BackendNames()));
  cl.Flag("kernel", DefaultKernelPath(), "the first kernel (the one users boot)");
  cl.Flag("initrd", "", "its initrd (default: /boot/initrd.img-RELEASE if present)");
  cl.Flag("append", "", "extra first-kernel command line");
  cl.Flag("capture-kernel", "", "capture kernel bzImage (default: --kernel)");
  cl.Flag("capture-cmdline", kDefaultCaptureCmdline, "capture kernel command line");
  cl.Flag("kernel-image", "auto", kKernelImageFlagHelp);
  cl.Flag("modules-dir", "", "/lib/modules/RELEASE of the capture kernel (default: from its version)");
  cl.Flag("modules", absl::StrJoin(kDefaultCaptureModules, ","),
          absl::StrCat("store disk drivers for the capture initramfs; ", kDefaultCaptureModulesHelp));
  cl.Flag("out", "", "output path (default depends on the backend)");
  const Backend* backend = FindBackend(backend_name);
  if (backend != nullptr) backend->DeclareFlags(cl);
  absl::StatusOr<bool> parsed = cl.Parse(argc, argv, 1);
  if (!parsed.ok()) {
    std::fprintf(stderr, "pack: %s\n", std::string(parsed.status().message()).c_str());
    return 2;
  }
  if (!*parsed) {
    std::fputs(cl.Help().c_str(), stdout);
    for (const Backend* b : Backends()) std::printf("  backend %-10s %s\n", b->name().c_str(), b->description().c_str());
    return 0;
  }
  if (backend == nullptr) {
    std::fprintf(stderr, "pack: %s; choose --backend= one of: %s\n",
                 backend_name.empty() ? "no backend given" : ("unknown backend '" + backend_name + "'").c_str(),
                 BackendNames().c_str());
    return 2;
  }
  absl::Status s = Run(*backend, cl);
  if (!s.ok()) {
    std::fprintf(stderr, "pack: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
