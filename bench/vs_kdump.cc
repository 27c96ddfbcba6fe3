// vs_kdump: Saveoops against the standard kdump stack (kexec-tools
// `kexec -p` + a capture initramfs running `makedumpfile --dump-dmesg`), on
// the same Debian kernel, QEMU settings and store disk, in one run; and
// Saveoops with its own small capture kernel (--capture-kernel=saveoops,
// stack "saveoops-tiny") beside them.
//
//   bazel run //bench:vs_kdump             # full run, ~10-15 min
//   bazel run //bench:vs_kdump -- --quick  # 1 boot each, coarse bisection
//
// Figures (see bench/README section in the top-level README):
//   1. panic -> record on disk, from host-side timestamps of serial lines
//   2. smallest crashkernel= that still captures (bisection per stack), and
//      how `saveoops plan` predicts it
//   3. capture initramfs size
//   4. arm time: `saveoops arm` vs `kexec -p`, same kernel and initramfs
//   5. SHA-256 throughput of the purgatory's code vs BoringSSL (sha_bench)
//   6. kernels: figure 1 again per --kernels entry of the kernel cache
//      (Debian 13's 6.12 kernels), first and capture kernel alike
//   7. kernel-plans: figure 2's Saveoops bisection per --kernels entry, and
//      `saveoops plan`'s prediction for it
// Writes bench/results.json, bench/RESULTS.md and bench/latency.png (plus
// bench/latency.tsv, the chart's data) into the workspace.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "arming/capture_bundle.h"
#include "arming/capture_defaults.h"
#include "arming/sizing.h"
#include "bench/bench_lib.h"
#include "bench/kdump_initramfs.h"
#include "common/bundle.h"
#include "common/bzimage.h"
#include "common/cmdline.h"
#include "common/files.h"
#include "host/flags.h"
#include "host/runfiles.h"
#include "initramfs/cpio.h"

namespace saveoops {
namespace {

// The panic line both stacks must get onto the disk (sysrq-c's panic).
constexpr char kPanicLine[] = "Kernel panic - not syncing: sysrq triggered crash";

// The modules of the guests' only disk, virtio-blk on QEMU's PCI bus
// (RunGuest's `-drive if=virtio`). Both capture initramfs carry exactly
// these (and their dependencies), as a machine set up for its store disk
// would, so the size comparison is about the capture tools.
constexpr absl::string_view kGuestDiskModules[] = {"virtio_pci", "virtio_blk"};

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void Progress(const std::string& s) {
  std::printf("[vs_kdump %s] %s\n",
              absl::FormatTime("%H:%M:%S", absl::Now(), absl::LocalTimeZone()).c_str(), s.c_str());
  std::fflush(stdout);
}

// Everything the benchmark reads whole: files it puts into the guest's
// initramfs (kernel, bundle, binaries), the guests' disk images, /proc text.
constexpr uint64_t kMaxBenchFileBytes = 512ull << 20;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  return ReadTextFileBounded(path, kMaxBenchFileBytes, "bench input");
}

absl::Status WriteFile(const std::string& path, const std::string& bytes) {
  return WriteFileAtomic(path, bytes, 0644);
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

size_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

// The 1/5/15-minute load averages: the machine is shared, and TCG guests
// slow down when other work competes for the cores.
std::string LoadAverage() {
  absl::StatusOr<std::string> text = ReadFile("/proc/loadavg");
  if (!text.ok()) return "unknown";
  std::vector<std::string> f = absl::StrSplit(*text, ' ');
  return f.size() >= 3 ? absl::StrCat(f[0], " ", f[1], " ", f[2]) : "unknown";
}

// Runs argv (argv[0] a path or a name on PATH) and returns its exit status;
// stdout and stderr go to *output.
int RunCommand(const std::vector<std::string>& argv, std::string* output) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", argv[0].c_str(), strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  if (output != nullptr) *output = std::move(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

absl::Status MustRun(const std::vector<std::string>& argv, std::string* output = nullptr) {
  std::string out;
  const int rc = RunCommand(argv, &out);
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("`", absl::StrJoin(argv, " "), "` failed (exit ", rc, "):\n", out));
  }
  if (output != nullptr) *output = std::move(out);
  return absl::OkStatus();
}

// ---- where things are --------------------------------------------------------

struct Inputs {
  std::string saveoops, capture, purgatory, guest_init, kdump_init, sha_bench, iomem_1g;
  std::string kernel, release, modules_dir;
  // Saveoops' own capture kernel (stack saveoops-tiny); empty when that
  // stack is not benchmarked.
  std::string tiny_kernel;
};

// A data dependency of this binary: $RUNFILES_DIR/saveoops/<path>, else
// next to /proc/self/exe in its .runfiles tree.
std::string Runfile(const std::string& path) {
  const char* dir = getenv("RUNFILES_DIR");
  if (dir != nullptr && Exists(absl::StrCat(dir, "/saveoops/", path))) {
    return absl::StrCat(dir, "/saveoops/", path);
  }
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = '\0';
    const std::string candidate = absl::StrCat(self, ".runfiles/saveoops/", path);
    if (Exists(candidate)) return candidate;
  }
  return absl::StrCat("bazel-bin/", path);
}

absl::StatusOr<Inputs> FindInputs(const std::string& kernel) {
  Inputs in;
  in.saveoops = Runfile("tools/saveoops");
  in.capture = Runfile("capture/saveoops-capture");
  in.purgatory = Runfile("purgatory/purgatory.bin");
  in.guest_init = Runfile("bench/bench_guest_init");
  in.kdump_init = Runfile("bench/kdump_init");
  in.sha_bench = Runfile("bench/sha_bench");
  in.iomem_1g = Runfile("common/testdata/iomem_qemu_bios_1g_crashkernel_256m.txt");
  for (const std::string* p : {&in.saveoops, &in.capture, &in.purgatory, &in.guest_init,
                               &in.kdump_init, &in.sha_bench, &in.iomem_1g}) {
    if (!Exists(*p)) {
      return absl::NotFoundError(
          absl::StrCat("missing ", *p, ": run through `bazel run //bench:vs_kdump`"));
    }
  }
  in.kernel = kernel;
  if (in.kernel.empty()) {
    std::string out;
    if (RunCommand({"sh", "-c", "ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1"}, &out) ==
        0) {
      in.kernel = std::string(absl::StripAsciiWhitespace(out));
    }
  }
  if (in.kernel.empty() || !Exists(in.kernel)) {
    return absl::NotFoundError(
        "no /boot/vmlinuz-*: run tools/setup.sh (linux-image-amd64) or give --kernel");
  }
  const size_t dash = in.kernel.find("vmlinuz-");
  if (dash == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--kernel=", in.kernel, " is not named vmlinuz-RELEASE"));
  }
  in.release = in.kernel.substr(dash + 8);
  const std::vector<std::string> dirs = ModulesDirCandidates(in.kernel, in.release);
  for (const std::string& dir : dirs) {
    if (Exists(dir + "/modules.dep")) {
      in.modules_dir = dir;
      break;
    }
  }
  if (in.modules_dir.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no modules.dep for ", in.kernel, " in ", absl::StrJoin(dirs, " or ")));
  }
  for (const char* tool :
       {"/usr/sbin/kexec", "/usr/bin/makedumpfile", "/usr/bin/qemu-system-x86_64"}) {
    if (!Exists(tool))
      return absl::NotFoundError(absl::StrCat(tool, " is missing: run tools/setup.sh"));
  }
  return in;
}

// The newest vmlinuz of kernel-cache entry `name` (tools/setup.sh unpacks
// Debian's kernel packages into $SAVEOOPS_KERNEL_CACHE, by default
// /var/cache/saveoops-kernels, one tree per name), as e2e/lib.sh finds it.
absl::StatusOr<std::string> CacheKernel(const std::string& name) {
  if (name.empty() ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.+_-") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--kernels: bad kernel name '", name, "'"));
  }
  const char* env = getenv("SAVEOOPS_KERNEL_CACHE");
  const std::string cache = env != nullptr && *env != '\0' ? env : "/var/cache/saveoops-kernels";
  const std::string tree = absl::StrCat(cache, "/", name);
  if (!Exists(tree + "/.complete")) {
    return absl::NotFoundError(
        absl::StrCat("no kernel '", name, "' in ", cache, ": run tools/setup.sh"));
  }
  if (tree.find('\'') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("kernel cache path '", tree, "' has a quote"));
  }
  std::string out;
  RunCommand({"sh", "-c",
              absl::StrCat("ls '", tree, "'/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1")},
             &out);
  const std::string kernel(absl::StripAsciiWhitespace(out));
  if (kernel.empty() || !Exists(kernel)) {
    return absl::NotFoundError(absl::StrCat("no vmlinuz in ", tree, "/boot"));
  }
  return kernel;
}

// ---- artifacts -----------------------------------------------------------------

struct Artifacts {
  std::string capture_cpio, bundle, kdump_cpio, guest_cpio;
  // Saveoops with its own capture kernel; empty without Inputs::tiny_kernel.
  std::string tiny_bundle, tiny_release;
  KdumpInitramfsSummary kdump;
  size_t capture_init_bytes = 0;
  // Per stack (indexed by Stack): the capture initramfs, the capture
  // kernel's bzImage file, and the memory its kernel piece takes in the
  // reservation (the prepared image's piece or the bzImage's init_size).
  size_t initramfs_bytes[kStackCount] = {};
  size_t kernel_file_bytes[kStackCount] = {};
  size_t kernel_piece_bytes[kStackCount] = {};
};

// The kernel piece a bundle's capture kernel takes in the reservation.
size_t KernelPieceBytes(const BundleContents& bundle) {
  absl::StatusOr<CaptureKernel> kernel = ParseCaptureKernel(bundle);
  if (!kernel.ok()) return 0;
  return CaptureSizesForUnknownSystem(bundle, *kernel, 0).kernel_init_size;
}

absl::Status AddHostFileTo(CpioWriter& w, const std::string& dest, const std::string& src) {
  absl::StatusOr<std::string> bytes = ReadFile(src);
  if (!bytes.ok()) return bytes.status();
  struct stat st;
  const bool exec = stat(src.c_str(), &st) == 0 && (st.st_mode & 0111) != 0;
  return w.AddFile(dest, absl::string_view(*bytes), exec ? 0755 : 0644);
}

absl::StatusOr<Artifacts> BuildArtifacts(const Inputs& in, const std::string& work,
                                         const std::string& capture_extra) {
  Artifacts a;
  a.capture_cpio = work + "/capture.cpio";
  a.bundle = work + "/saveoops.bundle";
  a.kdump_cpio = work + "/kdump.cpio";
  a.guest_cpio = work + "/guest.cpio";
  a.capture_init_bytes = FileSize(in.capture);

  Progress("building Saveoops' capture initramfs and bundle (as saveoops bundle create)");
  DefaultCaptureBundleSpec capture;
  capture.capture_kernel_path = in.kernel;
  capture.capture_kernel_flag = "--kernel";
  capture.capture_binary_path = in.capture;
  capture.modules_dir = in.modules_dir;
  capture.modules =
      std::vector<std::string>(std::begin(kGuestDiskModules), std::end(kGuestDiskModules));
  if (!capture_extra.empty()) {
    capture.cmdline =
        absl::StrCat(kDefaultCaptureCmdline, " ", absl::StrReplaceAll(capture_extra, {{",", " "}}));
  }
  capture.purgatory_path = in.purgatory;
  absl::StatusOr<DefaultCaptureBundle> built = BuildDefaultCaptureBundle(capture);
  if (!built.ok()) return built.status();
  // The archive on its own too: the guest stages it with `kexec -p` to time
  // kexec-tools arming the same capture kernel and initramfs.
  absl::Status s = WriteFileAtomic(a.capture_cpio, built->bundle.capture_initramfs, 0644);
  if (!s.ok()) return s;
  s = WriteBundleFile(a.bundle, built->bundle);
  if (!s.ok()) return s;
  const int sv = static_cast<int>(Stack::kSaveoops), kd = static_cast<int>(Stack::kKdump),
            ti = static_cast<int>(Stack::kSaveoopsTiny);
  a.initramfs_bytes[sv] = built->bundle.capture_initramfs.size();
  a.kernel_file_bytes[sv] = a.kernel_file_bytes[kd] = FileSize(in.kernel);
  a.kernel_piece_bytes[sv] = KernelPieceBytes(built->bundle);
  if (absl::StatusOr<BzImageInfo> bz = ParseBzImage(built->bundle.capture_kernel); bz.ok()) {
    // kexec-tools places the bzImage's protected-mode part and lets it
    // decompress in place: init_size bytes.
    a.kernel_piece_bytes[kd] = bz->init_size;
  }

  if (!in.tiny_kernel.empty()) {
    Progress(absl::StrCat("building the bundle with Saveoops' own capture kernel ", in.tiny_kernel,
                          " (as saveoops bundle create --capture-kernel=saveoops)"));
    DefaultCaptureBundleSpec tiny = capture;
    tiny.capture_kernel_path = in.tiny_kernel;
    tiny.capture_kernel_flag = "--tiny-kernel";
    absl::StatusOr<DefaultCaptureBundle> tb = BuildDefaultCaptureBundle(tiny);
    if (!tb.ok()) return tb.status();
    if (!IsSaveoopsCaptureKernel(tb->kernel_version)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--tiny-kernel ", in.tiny_kernel, " is not Saveoops' capture kernel (release ",
          tb->release, " does not end in ", kSaveoopsKernelReleaseSuffix, ")"));
    }
    a.tiny_bundle = work + "/saveoops-tiny.bundle";
    a.tiny_release = tb->release;
    s = WriteBundleFile(a.tiny_bundle, tb->bundle);
    if (!s.ok()) return s;
    a.initramfs_bytes[ti] = tb->bundle.capture_initramfs.size();
    a.kernel_file_bytes[ti] = FileSize(in.tiny_kernel);
    a.kernel_piece_bytes[ti] = KernelPieceBytes(tb->bundle);
  }

  Progress(
      "building the kdump baseline initramfs (kdump_init + makedumpfile + libraries + same "
      "modules)");
  KdumpInitramfsSpec spec;
  spec.init_path = in.kdump_init;
  spec.modules_dir = in.modules_dir;
  spec.modules =
      std::vector<std::string>(std::begin(kGuestDiskModules), std::end(kGuestDiskModules));
  absl::StatusOr<std::vector<uint8_t>> kdump = BuildKdumpInitramfs(spec, &a.kdump);
  if (!kdump.ok()) return kdump.status();
  s = WriteFile(a.kdump_cpio, std::string(kdump->begin(), kdump->end()));
  if (!s.ok()) return s;
  a.initramfs_bytes[kd] = kdump->size();

  Progress("building the first kernel's initramfs (both stacks, bench_guest_init as /init)");
  CpioWriter w;
  for (const char* dir : {"/dev", "/proc", "/sys", "/run"}) {
    if (absl::Status d = w.AddDirectory(dir, 0755); !d.ok()) return d;
  }
  if (absl::Status d = w.AddDirectory("/tmp", 01777); !d.ok()) return d;
  if (absl::Status d = w.AddCharDevice("/dev/console", 0600, 5, 1); !d.ok()) return d;
  std::vector<std::pair<std::string, std::string>> files = {
      {"/init", in.guest_init},           {"/bin/saveoops", in.saveoops},
      {"/saveoops.bundle", a.bundle},     {"/vmlinuz", in.kernel},
      {"/capture.cpio", a.capture_cpio},  {"/kdump.cpio", a.kdump_cpio},
      {"/sbin/kexec", "/usr/sbin/kexec"},
  };
  if (!a.tiny_bundle.empty()) files.push_back({"/saveoops-tiny.bundle", a.tiny_bundle});
  absl::StatusOr<std::vector<std::string>> libs = SharedLibrariesOf("/usr/sbin/kexec");
  if (!libs.ok()) return libs.status();
  for (const std::string& lib : *libs) files.push_back({lib, lib});
  for (const auto& [dest, src] : files) {
    if (absl::Status f = AddHostFileTo(w, dest, src); !f.ok()) {
      return absl::Status(f.code(), absl::StrCat("guest initramfs ", dest, ": ", f.message()));
    }
  }
  const std::vector<uint8_t> guest = w.Finish();
  return WriteFile(a.guest_cpio, std::string(guest.begin(), guest.end())).ok()
             ? absl::StatusOr<Artifacts>(a)
             : absl::InternalError("cannot write " + a.guest_cpio);
}

// ---- one QEMU boot ----------------------------------------------------------------

struct BenchConfig {
  std::string work;
  std::string mem = "1G";
  int smp = 1;
  double boot_timeout = 240;    // whole boot, seconds
  double capture_timeout = 90;  // from the panic line to the record
  // From the panic line to the capture kernel's banner: the purgatory and
  // kexec-tools' take under 5 s even on a loaded machine; a capture kernel
  // that dies before its console is up says nothing more, so waiting the
  // whole capture_timeout would only slow the bisection down.
  double banner_timeout = 30;
  // Extra capture kernel arguments for both stacks, ',' separated.
  std::string capture_extra;
  // The capture command line of both stacks, as `saveoops arm` builds it
  // (see KdumpAppend()).
  std::string capture_cmdline;
};

// The capture kernel command line for `kexec -p --append`, equal to the one
// `saveoops arm` gives Saveoops' capture kernel: the bundle's (the default
// host/runfiles.h kDefaultCaptureCmdline plus --capture-extra) without the
// saveoops.* options only saveoops-capture reads, plus the console= that
// `saveoops arm` copies from the first kernel. Deriving it here keeps the two
// equal when the default changes.
std::string KdumpAppend(const std::string& capture_extra) {
  std::vector<std::string> args;
  for (const KernelParam& p : KernelParams(kDefaultCaptureCmdline)) {
    if (p.name.substr(0, 9) != "saveoops.") args.emplace_back(p.text);
  }
  for (absl::string_view a : absl::StrSplit(capture_extra, ',', absl::SkipEmpty())) {
    args.emplace_back(a);
  }
  args.push_back("console=ttyS0");
  return absl::StrJoin(args, " ");
}

struct Boot {
  Stack stack = Stack::kSaveoops;
  int crashkernel_mib = 256;
  int arm_reps = 0;
  std::string headroom;  // --headroom for saveoops arm ("" = its default)
  std::string label;
};

struct BootOutcome {
  std::vector<SerialLine> lines;
  RunTimeline timeline;
  bool captured = false;
  std::string why;  // when !captured
  double wall = 0;
  std::string serial_log;
  std::string load;  // /proc/loadavg's 1-minute figure when the boot started
};

// Why a boot that did not capture failed, from its serial log.
std::string FailureReason(const BootOutcome& o, bool timed_out) {
  if (o.timeline.arm_failed) return "arm refused";
  if (!o.timeline.panic) return timed_out ? "timed out before the panic" : "no panic";
  std::string last_panic;
  bool oom = false;
  for (const SerialLine& l : o.lines) {
    if (o.timeline.capture_kernel && l.t >= *o.timeline.capture_kernel) {
      if (absl::StrContains(l.text, "Kernel panic")) last_panic = l.text;
      if (absl::StrContains(l.text, "Out of memory") || absl::StrContains(l.text, "oom-kill"))
        oom = true;
    }
  }
  std::string why = !o.timeline.capture_kernel ? "capture kernel never started"
                    : !o.timeline.capture_init ? "capture kernel did not reach /init"
                                               : "capture program did not finish";
  if (oom) absl::StrAppend(&why, ", out of memory");
  if (!last_panic.empty()) {
    const size_t at = last_panic.find("Kernel panic");
    absl::StrAppend(&why, ", '", last_panic.substr(at, 90), "'");
  }
  if (timed_out) absl::StrAppend(&why, " (timeout)");
  return why;
}

absl::StatusOr<BootOutcome> RunBoot(const BenchConfig& cfg, const Inputs& in, const Artifacts& art,
                                    const Boot& boot) {
  BootOutcome o;
  const std::string disk = absl::StrCat(cfg.work, "/disk-", boot.label, ".img");
  o.serial_log = absl::StrCat(cfg.work, "/serial-", boot.label, ".log");
  unlink(disk.c_str());
  if (absl::Status s = MustRun({in.saveoops, "store", "format", "--store=" + disk, "--size=16M"});
      !s.ok()) {
    return s;
  }
  std::string append = absl::StrCat("console=ttyS0 crashkernel=", boot.crashkernel_mib,
                                    "M panic=1 loglevel=7 bench.stack=", StackName(boot.stack),
                                    " bench.arm_reps=", boot.arm_reps);
  if (!boot.headroom.empty()) absl::StrAppend(&append, " bench.headroom=", boot.headroom);
  absl::StrAppend(&append,
                  " bench.kdump_append=", absl::StrReplaceAll(cfg.capture_cmdline, {{" ", ","}}));
  const std::vector<std::string> argv = {"qemu-system-x86_64",
                                         "-accel",
                                         "tcg",
                                         "-machine",
                                         "pc",
                                         "-cpu",
                                         "qemu64",
                                         "-m",
                                         cfg.mem,
                                         "-smp",
                                         std::to_string(cfg.smp),
                                         "-kernel",
                                         in.kernel,
                                         "-initrd",
                                         art.guest_cpio,
                                         "-append",
                                         append,
                                         "-drive",
                                         absl::StrCat("file=", disk, ",format=raw,if=virtio"),
                                         "-display",
                                         "none",
                                         "-monitor",
                                         "none",
                                         "-serial",
                                         "stdio",
                                         "-no-reboot",
                                         "-nodefaults"};

  o.load = LoadAverage();
  o.load = o.load.substr(0, o.load.find(' '));
  int fds[2];
  if (pipe(fds) != 0) return absl::ErrnoToStatus(errno, "pipe");
  const std::string qemu_stderr = o.serial_log + ".qemu-stderr";
  const double start = Now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    const int err = open(qemu_stderr.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return absl::ErrnoToStatus(errno, "fork");
  }

  SerialLineSplitter splitter;
  size_t scanned = 0;
  std::optional<double> panic_at, done_at, banner_at;
  bool timed_out = false, exited = false;
  int status = 0;
  char buf[16384];
  while (true) {
    struct pollfd p = {fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, 100);
    const double t = Now() - start;
    bool eof = false;
    if (ready > 0) {
      const ssize_t n = read(fds[0], buf, sizeof(buf));
      if (n > 0) {
        splitter.Feed(absl::string_view(buf, static_cast<size_t>(n)), t);
      } else if (n == 0 || errno != EINTR) {
        eof = true;
      }
    }
    for (; scanned < splitter.lines().size(); ++scanned) {
      const std::string& text = splitter.lines()[scanned].text;
      if (!panic_at && absl::StrContains(text, "Kernel panic - not syncing")) panic_at = t;
      if (panic_at && !banner_at && absl::StrContains(text, "Linux version ")) banner_at = t;
      if (panic_at && (absl::StrContains(text, "saveoops-capture: record ") ||
                       absl::StrContains(text, "kdump-bench: dmesg synced"))) {
        done_at = t;
      }
    }
    if (eof) break;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      // Drain what QEMU wrote before it exited.
      ssize_t n;
      while ((n = read(fds[0], buf, sizeof(buf))) > 0) {
        splitter.Feed(absl::string_view(buf, static_cast<size_t>(n)), Now() - start);
      }
      break;
    }
    const bool too_long = t > cfg.boot_timeout ||
                          (panic_at && t - *panic_at > cfg.capture_timeout) ||
                          (panic_at && !banner_at && t - *panic_at > cfg.banner_timeout) ||
                          (done_at && t - *done_at > 20);
    if (too_long) {
      timed_out = !done_at;
      kill(pid, SIGKILL);
      break;
    }
  }
  close(fds[0]);
  if (!exited) waitpid(pid, &status, 0);
  splitter.Flush();
  o.wall = Now() - start;
  o.lines = splitter.lines();
  o.timeline = ParseRunTimeline(o.lines, boot.stack);

  std::string log;
  for (const SerialLine& l : o.lines) absl::StrAppendFormat(&log, "%11.6f %s\n", l.t, l.text);
  (void)WriteFile(o.serial_log, log);

  // The verdict comes from the disk, not from the console.
  std::string text;
  if (boot.stack != Stack::kKdump) {
    const int rc = RunCommand({in.saveoops, "show", "--store=" + disk}, &text);
    o.captured = rc == 0 && absl::StrContains(text, kPanicLine);
  } else {
    absl::StatusOr<std::string> bytes = ReadFile(disk);
    absl::StatusOr<std::string> dmesg =
        bytes.ok() ? ParseKdumpDisk(*bytes) : absl::StatusOr<std::string>(bytes.status());
    o.captured = dmesg.ok() && absl::StrContains(*dmesg, kPanicLine);
    if (dmesg.ok()) text = *dmesg;
  }
  (void)WriteFile(absl::StrCat(cfg.work, "/record-", boot.label, ".txt"), text);
  if (o.captured && !o.timeline.done) {
    o.captured = false;
    o.why = "record on disk but no end marker on the console";
  } else if (!o.captured) {
    o.why = FailureReason(o, timed_out);
  }
  unlink(disk.c_str());
  return o;
}

std::string TailOf(const BootOutcome& o, size_t n) {
  std::string out;
  const size_t from = o.lines.size() > n ? o.lines.size() - n : 0;
  for (size_t i = from; i < o.lines.size(); ++i)
    absl::StrAppend(&out, "    ", o.lines[i].text, "\n");
  return out;
}

// Boots `rounds` rounds, one boot per stack each, in the ABBA rotation
// generalised to `stacks` (RoundOrder: ABC CBA ABC ...): a drift in the
// shared machine's speed hits every stack alike. Arm-time samples (which
// time both tools on the Debian kernel) are taken in the saveoops and kdump
// boots only. Calls on_boot for each boot that captured; a boot that did
// not capture is an error naming it, its reason and the end of its serial
// log.
absl::Status RunAbbaBoots(
    const BenchConfig& cfg, const Inputs& in, const Artifacts& art,
    const std::vector<Stack>& stacks, int rounds, int crashkernel_mib, int arm_reps,
    const std::string& label_prefix,
    const std::function<void(int round, Stack stack, const BootOutcome& o)>& on_boot) {
  for (int round = 0; round < rounds; ++round) {
    for (Stack stack : RoundOrder(stacks, round)) {
      Boot b;
      b.stack = stack;
      b.crashkernel_mib = crashkernel_mib;
      b.arm_reps = stack == Stack::kSaveoopsTiny ? 0 : arm_reps;
      b.label = absl::StrCat(label_prefix, "-", round + 1, "-", StackName(stack));
      absl::StatusOr<BootOutcome> o = RunBoot(cfg, in, art, b);
      if (!o.ok()) return o.status();
      if (!o->captured) {
        return absl::InternalError(
            absl::StrFormat("%s did not capture: %s\n  serial log %s ends:\n%s", b.label, o->why,
                            o->serial_log, TailOf(*o, 30)));
      }
      on_boot(round, stack, *o);
    }
  }
  return absl::OkStatus();
}

// ---- figures ------------------------------------------------------------------------

struct LatencyRun {
  int round = 0;
  Stack stack = Stack::kSaveoops;
  RunTimeline timeline;
  std::string load;
};

struct ProbeResult {
  uint64_t mib = 0;
  bool captured = false;
  std::string why;
};

struct ReservationResult {
  uint64_t smallest_mib = 0;
  // Every boot, in order (a confirmed value appears once per boot).
  std::vector<ProbeResult> probes;
  uint64_t lo_mib = 0, hi_mib = 0;
};

struct PlanFit {
  uint64_t default_headroom_mib = 48;
  uint64_t predicted_default_mib = 0;
  uint64_t predicted_zero_headroom_mib = 0;
  // Smallest headroom (MiB) whose prediction is >= the measured minimum, and
  // the headroom range whose prediction is within one step of it.
  std::optional<uint64_t> safe_headroom_mib;
  std::optional<uint64_t> within_step_lo, within_step_hi;
  std::map<uint64_t, uint64_t> prediction;  // headroom MiB -> crashkernel MiB
};

// The kernel-plans figure for one --kernels entry.
struct KernelPlan {
  std::string name;
  ReservationResult reservation;
  PlanCheckRow check;
};

struct Results {
  std::vector<Stack> stacks;
  std::vector<LatencyRun> latency;
  // The "kernels" figure: one row per --kernels entry (the main latency
  // figure's kernel is added in front when reporting).
  std::vector<KernelLatencyRow> kernels;
  std::optional<ReservationResult> reservation[kStackCount];
  // `saveoops plan` against the bisection, for the two Saveoops stacks.
  std::optional<PlanFit> plan[kStackCount];
  std::optional<PlanCheckRow> plan_check[kStackCount];
  std::vector<KernelPlan> kernel_plans;
  int fine_step_mib = 1;
  int confirm = 2;
  std::vector<ShaResult> sha;
  size_t capture_cpio_bytes = 0, kdump_cpio_bytes = 0;
  Artifacts art;
  std::vector<double> arm_kexec_ms, arm_saveoops_ms;
  int step_mib = 2;
  int arm_reps = 0;
  std::string tiny_release, tiny_kernel;
  std::string load_start, load_end;
  int latency_crashkernel_mib = 256;
  double elapsed_s = 0;
  std::string release;  // of the main figures' kernel
};

// The smallest crashkernel= (MiB) with which `stack` captures: a bisection
// on the `step` grid in [lo, hi], then on the `fine_step` grid near the
// edge (BisectSmallestRefined); a value counts as capturing only when
// `confirm` boots in a row capture (RequireRepeatedSuccess), so a flaky
// edge reads as failing and the figure is stable between runs.
absl::StatusOr<ReservationResult> BisectReservation(const BenchConfig& cfg, const Inputs& in,
                                                    const Artifacts& art, Stack stack, uint64_t lo,
                                                    uint64_t hi, uint64_t step, uint64_t fine_step,
                                                    int confirm, bool hi_known_good,
                                                    const std::string& label_prefix) {
  ReservationResult r;
  absl::Status error = absl::OkStatus();
  std::map<uint64_t, int> boots_at;
  auto boot_once = [&](uint64_t mib) -> bool {
    if (!error.ok()) return false;
    Boot b;
    b.stack = stack;
    b.crashkernel_mib = static_cast<int>(mib);
    // Saveoops arms whatever fits: the bisection measures how much the
    // capture really needs, not what the planner asks for.
    if (stack != Stack::kKdump) b.headroom = "0";
    const int attempt = ++boots_at[mib];
    b.label = absl::StrCat(label_prefix, "-", StackName(stack), "-", mib, "M",
                           attempt > 1 ? absl::StrCat("-", attempt) : "");
    absl::StatusOr<BootOutcome> o = RunBoot(cfg, in, art, b);
    if (!o.ok()) {
      error = o.status();
      return false;
    }
    r.probes.push_back({mib, o->captured, o->why});
    Progress(absl::StrFormat("  %-8s crashkernel=%4dM: %s (%.0f s)", StackName(stack), mib,
                             o->captured ? "captured" : "FAILED: " + o->why, o->wall));
    return o->captured;
  };
  const std::function<bool(uint64_t)> captures = RequireRepeatedSuccess(boot_once, confirm);
  // The upper end must capture; grow it if not (up to half the guest).
  while (!hi_known_good) {
    if (captures(hi)) break;
    if (!error.ok()) return error;
    if (hi >= 512) {
      return absl::FailedPreconditionError(
          absl::StrCat(StackName(stack), " did not capture even with crashkernel=", hi, "M"));
    }
    lo = hi;
    hi *= 2;
  }
  r.lo_mib = lo;
  r.hi_mib = hi;
  absl::StatusOr<uint64_t> smallest = BisectSmallestRefined(lo, hi, step, fine_step, captures);
  if (!error.ok()) return error;
  if (!smallest.ok()) return smallest.status();
  r.smallest_mib = *smallest;
  return r;
}

// `saveoops plan` for `bundle` against the measured minimum: its prediction
// with `default_headroom_mib` (plan's own default for the bundle's kernel
// when nullopt), and with every headroom from 0 MiB up to a little past the
// measurement (calibration).
absl::StatusOr<PlanFit> FitPlan(const Inputs& in, const std::string& bundle, uint64_t measured_mib,
                                uint64_t step_mib, std::optional<uint64_t> default_headroom_mib,
                                uint64_t plan_default_headroom_mib) {
  PlanFit fit;
  fit.default_headroom_mib = default_headroom_mib.value_or(plan_default_headroom_mib);
  auto predict = [&](std::optional<uint64_t> headroom_mib) -> absl::StatusOr<uint64_t> {
    std::string out;
    std::vector<std::string> argv = {in.saveoops,
                                     "plan",
                                     "--bundle=" + bundle,
                                     "--cpus=1",
                                     "--memmap=" + in.iomem_1g,
                                     "--print=crashkernel-mib"};
    if (headroom_mib) argv.push_back(absl::StrCat("--headroom=", *headroom_mib, "M"));
    absl::Status s = MustRun(argv, &out);
    if (!s.ok()) return s;
    uint64_t mib = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(out), &mib)) {
      return absl::InternalError(absl::StrCat("saveoops plan printed '", out, "', not a number"));
    }
    return mib;
  };
  for (uint64_t h = 0; h <= 192; h += 1) {
    absl::StatusOr<uint64_t> p = predict(h);
    if (!p.ok()) return p.status();
    fit.prediction[h] = *p;
    if (!fit.safe_headroom_mib && *p >= measured_mib) fit.safe_headroom_mib = h;
    if (*p >= measured_mib && *p - measured_mib <= step_mib) {
      if (!fit.within_step_lo) fit.within_step_lo = h;
      fit.within_step_hi = h;
    }
    if (*p > measured_mib + 2 * step_mib) break;
  }
  absl::StatusOr<uint64_t> d = predict(default_headroom_mib);
  if (!d.ok()) return d.status();
  fit.predicted_default_mib = *d;
  fit.predicted_zero_headroom_mib = fit.prediction[0];
  return fit;
}

PlanCheckRow MakePlanCheck(const std::string& release, uint64_t measured_mib, const PlanFit& fit,
                           uint64_t step_mib) {
  PlanCheckRow row;
  row.release = release;
  row.measured_mib = measured_mib;
  row.predicted_mib = fit.predicted_default_mib;
  row.headroom_mib = fit.default_headroom_mib;
  row.step_mib = step_mib;
  row.prediction_by_headroom = fit.prediction;
  return row;
}

// ---- reporting -------------------------------------------------------------------------

std::string Trim(const std::string& s) { return std::string(absl::StripAsciiWhitespace(s)); }

std::string CpuModel() {
  absl::StatusOr<std::string> info = ReadFile("/proc/cpuinfo");
  if (!info.ok()) return "unknown CPU";
  for (absl::string_view line : absl::StrSplit(*info, '\n')) {
    if (absl::ConsumePrefix(&line, "model name")) {
      const size_t colon = line.find(':');
      if (colon != absl::string_view::npos) return Trim(std::string(line.substr(colon + 1)));
    }
  }
  return "unknown CPU";
}

std::string FirstLineOf(const std::vector<std::string>& argv) {
  std::string out;
  RunCommand(argv, &out);
  return Trim(out.substr(0, out.find('\n')));
}

std::optional<double> Ratio(std::optional<double> ours, std::optional<double> base) {
  if (!ours || !base || *base <= 0) return std::nullopt;
  return *ours / *base;
}

std::string Json(std::optional<double> v, int digits = 3) {
  return v ? absl::StrFormat("%.*f", digits, *v) : "null";
}

struct Figures {
  std::vector<KernelLatencyRow> kernels;
  std::optional<double> latency_ratio, reservation_ratio, reservation_mib, initramfs_ratio,
      arm_ratio, sha_ni_vs_boringssl, sha_portable_vs_boringssl;
  // Saveoops with its own capture kernel against kdump.
  std::optional<double> tiny_latency_ratio, tiny_reservation_ratio, tiny_reservation_mib,
      tiny_initramfs_ratio, kdump_reservation_mib;
  Summary lat[kStackCount], kernel_phase[kStackCount], init_phase[kStackCount],
      tool_phase[kStackCount], final_arm[kStackCount];
  Summary arm_kexec, arm_saveoops;
  std::optional<double> sha_mbps_portable, sha_mbps_ni, sha_mbps_boringssl;
  // Every plan-vs-bisection row: the main kernel, Saveoops' own kernel, the
  // kernel-plans figure's kernels.
  std::vector<PlanCheckRow> plan_checks;
  // The headroom range that puts every Debian kernel within one step.
  std::optional<HeadroomRange> debian_headroom_range;
};

constexpr int kSv = static_cast<int>(Stack::kSaveoops);
constexpr int kKd = static_cast<int>(Stack::kKdump);
constexpr int kTi = static_cast<int>(Stack::kSaveoopsTiny);

Figures Compute(const Results& r) {
  Figures f;
  for (int s = 0; s < kStackCount; ++s) {
    std::vector<double> total, kern, init, tool, arm;
    for (const LatencyRun& run : r.latency) {
      if (static_cast<int>(run.stack) != s) continue;
      const RunTimeline& t = run.timeline;
      if (t.Latency()) total.push_back(*t.Latency());
      if (t.panic && t.capture_kernel) kern.push_back(*t.capture_kernel - *t.panic);
      if (t.capture_kernel && t.capture_init) init.push_back(*t.capture_init - *t.capture_kernel);
      if (t.capture_init && t.done) tool.push_back(*t.done - *t.capture_init);
      if (t.armed_us) arm.push_back(*t.armed_us / 1000.0);
    }
    f.lat[s] = Summarize(total);
    f.kernel_phase[s] = Summarize(kern);
    f.init_phase[s] = Summarize(init);
    f.tool_phase[s] = Summarize(tool);
    f.final_arm[s] = Summarize(arm);
  }
  if (f.lat[kSv].n && f.lat[kKd].n) f.latency_ratio = f.lat[kSv].median / f.lat[kKd].median;
  if (f.lat[kTi].n && f.lat[kKd].n) f.tiny_latency_ratio = f.lat[kTi].median / f.lat[kKd].median;
  if (!r.kernels.empty()) {
    if (f.lat[kSv].n || f.lat[kKd].n) {
      KernelLatencyRow main;
      main.release = r.release;
      if (f.lat[kSv].n) main.saveoops_s = f.lat[kSv].median;
      if (f.lat[kKd].n) main.kdump_s = f.lat[kKd].median;
      main.runs = static_cast<int>(std::max(f.lat[kSv].n, f.lat[kKd].n));
      f.kernels.push_back(main);
    }
    f.kernels.insert(f.kernels.end(), r.kernels.begin(), r.kernels.end());
  }
  auto mib = [&](int s) -> std::optional<double> {
    if (!r.reservation[s]) return std::nullopt;
    return static_cast<double>(r.reservation[s]->smallest_mib);
  };
  f.reservation_mib = mib(kSv);
  f.tiny_reservation_mib = mib(kTi);
  f.kdump_reservation_mib = mib(kKd);
  f.reservation_ratio = Ratio(f.reservation_mib, f.kdump_reservation_mib);
  f.tiny_reservation_ratio = Ratio(f.tiny_reservation_mib, f.kdump_reservation_mib);
  const size_t* ib = r.art.initramfs_bytes;
  if (r.capture_cpio_bytes && ib[kKd]) {
    f.initramfs_ratio = static_cast<double>(ib[kSv]) / ib[kKd];
    if (ib[kTi]) f.tiny_initramfs_ratio = static_cast<double>(ib[kTi]) / ib[kKd];
  }
  f.arm_kexec = Summarize(r.arm_kexec_ms);
  f.arm_saveoops = Summarize(r.arm_saveoops_ms);
  if (f.arm_kexec.n && f.arm_saveoops.n) f.arm_ratio = f.arm_saveoops.median / f.arm_kexec.median;
  for (const ShaResult& s : r.sha) {
    if (s.engine == "portable") f.sha_mbps_portable = s.best_mbps;
    if (s.engine == "sha-ni") f.sha_mbps_ni = s.best_mbps;
    if (s.engine == "boringssl") f.sha_mbps_boringssl = s.best_mbps;
  }
  f.sha_ni_vs_boringssl = Ratio(f.sha_mbps_ni, f.sha_mbps_boringssl);
  f.sha_portable_vs_boringssl = Ratio(f.sha_mbps_portable, f.sha_mbps_boringssl);
  std::vector<PlanCheckRow> debian;
  if (r.plan_check[kSv]) debian.push_back(*r.plan_check[kSv]);
  for (const KernelPlan& k : r.kernel_plans) debian.push_back(k.check);
  f.debian_headroom_range = HeadroomWithinStepForAll(debian);
  f.plan_checks = debian;
  // Saveoops' own kernel second, after the main Debian kernel.
  if (r.plan_check[kTi]) {
    f.plan_checks.insert(f.plan_checks.begin() + (f.plan_checks.empty() ? 0 : 1),
                         *r.plan_check[kTi]);
  }
  return f;
}

std::string ResultsJson(const Figures& f) {
  std::string json =
      absl::StrCat("{\n", "  \"latency_ratio\": ", Json(f.latency_ratio), ",\n",
                   "  \"reservation_ratio\": ", Json(f.reservation_ratio), ",\n",
                   "  \"reservation_mib\": ", Json(f.reservation_mib, 0), ",\n",
                   "  \"kdump_reservation_mib\": ", Json(f.kdump_reservation_mib, 0), ",\n",
                   "  \"tiny_reservation_mib\": ", Json(f.tiny_reservation_mib, 0), ",\n",
                   "  \"tiny_reservation_ratio\": ", Json(f.tiny_reservation_ratio), ",\n",
                   "  \"tiny_latency_ratio\": ", Json(f.tiny_latency_ratio), ",\n",
                   "  \"initramfs_ratio\": ", Json(f.initramfs_ratio), ",\n",
                   "  \"tiny_initramfs_ratio\": ", Json(f.tiny_initramfs_ratio), ",\n",
                   "  \"arm_ratio\": ", Json(f.arm_ratio), ",\n",
                   "  \"sha_ni_vs_boringssl\": ", Json(f.sha_ni_vs_boringssl), ",\n",
                   "  \"sha_portable_vs_boringssl\": ", Json(f.sha_portable_vs_boringssl));
  if (!f.plan_checks.empty()) absl::StrAppend(&json, ",\n", PlanChecksJson(f.plan_checks));
  if (!f.kernels.empty()) absl::StrAppend(&json, ",\n", KernelRowsJson(f.kernels));
  absl::StrAppend(&json, "\n}\n");
  return json;
}

std::string Spread(const Summary& s, double scale, int digits) {
  if (!s.n) return "n/a";
  return absl::StrFormat("%.*f (%.*f–%.*f, n=%d)", digits, s.median * scale, digits, s.min * scale,
                         digits, s.max * scale, s.n);
}

std::string Mib(size_t bytes) { return absl::StrFormat("%.2f", bytes / 1048576.0); }

std::string MibOrNa(size_t bytes) { return bytes ? Mib(bytes) : std::string("n/a"); }

std::string ProbeList(const ReservationResult& res) {
  std::vector<std::string> probes;
  for (const ProbeResult& p : res.probes) {
    probes.push_back(
        absl::StrCat(p.mib, "M ", p.captured ? "ok" : absl::StrCat("failed (", p.why, ")")));
  }
  return absl::StrJoin(probes, "; ");
}

std::string ResultsMarkdown(const Results& r, const Figures& f, const Inputs& in,
                            const BenchConfig& cfg, const std::string& flags) {
  const std::string date = absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone());
  std::string md;
  absl::StrAppend(&md, "# Saveoops vs kdump: benchmark results\n\n",
                  "Regenerated by `bazel run //bench:vs_kdump", flags.empty() ? "" : " -- " + flags,
                  "` on ", date, " (", absl::StrFormat("%.1f", r.elapsed_s / 60),
                  " min). Do not edit by hand.\n\n");
  absl::StrAppend(&md, "- Machine: ", CpuModel(), ", ", sysconf(_SC_NPROCESSORS_ONLN),
                  " cores (load average ", r.load_start, " at the start, ", r.load_end,
                  " at the end)\n", "- QEMU: ", FirstLineOf({"qemu-system-x86_64", "--version"}),
                  ", `-accel tcg -machine pc -cpu qemu64 -smp ", cfg.smp, " -m ", cfg.mem,
                  "`, virtio disk (16 MiB Saveoops store image, fresh per boot)\n",
                  "- First kernel (all stacks), and capture kernel of saveoops and kdump: Debian ",
                  in.release, "\n");
  if (!r.tiny_release.empty()) {
    absl::StrAppend(&md, "- Capture kernel of saveoops-tiny: Saveoops' own ", r.tiny_release, " (`",
                    r.tiny_kernel,
                    "`, built by tools/build_capture_kernel.sh from linux-source-6.1 and "
                    "kernel/capture.config; store drivers built in, no modules)\n");
  }
  absl::StrAppend(&md, "- Baseline: ", FirstLineOf({"/usr/sbin/kexec", "--version"}),
                  " (`kexec -p`, kexec_load), ",
                  FirstLineOf({"sh", "-c", "/usr/bin/makedumpfile -v 2>&1 | head -n 1"}),
                  " (`--dump-dmesg`, output written raw to the disk and fdatasync'ed)\n",
                  "- Every capture kernel boots with `", cfg.capture_cmdline,
                  "` (plus `elfcorehdr=`; Saveoops' bundles also have their `saveoops.*` "
                  "options)\n\n");

  auto ratio = [](std::optional<double> v) {
    return v ? absl::StrFormat("%.2f×", *v) : std::string("n/a");
  };
  auto res_text = [&](int s) {
    return r.reservation[s] ? absl::StrCat(r.reservation[s]->smallest_mib, " MiB")
                            : std::string("n/a");
  };
  absl::StrAppend(
      &md,
      "Columns: **saveoops** = Saveoops with the Debian kernel as capture kernel; **tiny** = "
      "Saveoops with its own capture kernel (`--capture-kernel=saveoops`); **kdump** = the "
      "baseline. Ratios are against kdump, from this one run.\n\n",
      "| # | figure | saveoops | tiny | kdump | saveoops ÷ kdump | target | met | tiny ÷ kdump "
      "| target | met |\n",
      "|---|---|---|---|---|---|---|---|---|---|---|\n");
  absl::StrAppend(&md, "| 1 | panic → record on disk, s (median, min–max) | ",
                  Spread(f.lat[kSv], 1, 2), " | ", Spread(f.lat[kTi], 1, 2), " | ",
                  Spread(f.lat[kKd], 1, 2), " | ", ratio(f.latency_ratio), " | ≤ 0.6× | ",
                  TargetMet(f.latency_ratio, 0.6, true), " | ", ratio(f.tiny_latency_ratio),
                  " | ≤ 0.25× | ", TargetMet(f.tiny_latency_ratio, 0.25, true), " |\n");
  std::string res_met = TargetMet(f.reservation_ratio, 0.5, true);
  if (f.reservation_mib) {
    absl::StrAppend(&res_met, "; ≤ 64 MiB: ", TargetMet(f.reservation_mib, 64, true));
  }
  std::string tiny_met = TargetMet(f.tiny_reservation_ratio, 0.35, true);
  if (f.tiny_reservation_mib) {
    absl::StrAppend(&tiny_met, "; ≤ 32 MiB: ", TargetMet(f.tiny_reservation_mib, 32, true),
                    "; moonshot ≤ 16 MiB: ", TargetMet(f.tiny_reservation_mib, 16, true));
  }
  absl::StrAppend(&md, "| 2 | smallest crashkernel= that captures (", r.step_mib,
                  " MiB grid, then ", r.fine_step_mib, " MiB; ", r.confirm,
                  " captures in a row) | ", res_text(kSv), " | ", res_text(kTi), " | ",
                  res_text(kKd), " | ", ratio(f.reservation_ratio), " | ≤ 0.5× and ≤ 64 MiB | ",
                  res_met, " | ", ratio(f.tiny_reservation_ratio),
                  " | ≤ 0.35× and ≤ 32 MiB (moonshot ≤ 16 MiB) | ", tiny_met, " |\n");
  const size_t* ib = r.art.initramfs_bytes;
  const bool have_sizes = r.capture_cpio_bytes != 0;
  absl::StrAppend(&md, "| 3 | capture initramfs, MiB | ", have_sizes ? MibOrNa(ib[kSv]) : "n/a",
                  " | ", have_sizes ? MibOrNa(ib[kTi]) : "n/a", " | ",
                  have_sizes ? MibOrNa(ib[kKd]) : "n/a", " | ", ratio(f.initramfs_ratio),
                  " | ≤ 0.25× | ", TargetMet(f.initramfs_ratio, 0.25, true), " | ",
                  ratio(f.tiny_initramfs_ratio), " | — | — |\n");
  const size_t* kf = r.art.kernel_file_bytes;
  const size_t* kp = r.art.kernel_piece_bytes;
  auto kratio = [&](const size_t* v, int s) -> std::optional<double> {
    if (!v[s] || !v[kKd]) return std::nullopt;
    return static_cast<double>(v[s]) / v[kKd];
  };
  absl::StrAppend(&md, "| 3b | capture kernel image (bzImage file), MiB | ", MibOrNa(kf[kSv]),
                  " | ", MibOrNa(kf[kTi]), " | ", MibOrNa(kf[kKd]), " | ", ratio(kratio(kf, kSv)),
                  " | — | — | ", ratio(kratio(kf, kTi)), " | — | — |\n");
  absl::StrAppend(&md, "| 3c | capture kernel's piece in the reservation, MiB | ", MibOrNa(kp[kSv]),
                  " | ", MibOrNa(kp[kTi]), " | ", MibOrNa(kp[kKd]), " | ", ratio(kratio(kp, kSv)),
                  " | — | — | ", ratio(kratio(kp, kTi)), " | — | — |\n");
  absl::StrAppend(&md, "| 4 | arm time in the guest, ms (median, min–max; Debian kernel) | ",
                  Spread(f.arm_saveoops, 1, 0), " | — | ", Spread(f.arm_kexec, 1, 0), " | ",
                  ratio(f.arm_ratio), " | ≤ 1× | ", TargetMet(f.arm_ratio, 1.0, true),
                  " | — | — | — |\n");
  absl::StrAppend(&md, "| 4b | the final arm before the panic, ms (median, min–max) | ",
                  Spread(f.final_arm[kSv], 1, 0), " | ", Spread(f.final_arm[kTi], 1, 0), " | ",
                  Spread(f.final_arm[kKd], 1, 0), " | — | — | — | — | — | — |\n");
  auto mbps = [](std::optional<double> v) {
    return v ? absl::StrFormat("%.0f MB/s", *v) : std::string("n/a");
  };
  absl::StrAppend(&md, "| 5a | SHA-256, purgatory code, SHA-NI engine (host, 64 MiB, best) | ",
                  mbps(f.sha_mbps_ni), " | (same) | BoringSSL ", mbps(f.sha_mbps_boringssl), " | ",
                  ratio(f.sha_ni_vs_boringssl), " | ≥ 0.8× | ",
                  TargetMet(f.sha_ni_vs_boringssl, 0.8, false), " | — | — | — |\n");
  absl::StrAppend(&md, "| 5b | SHA-256, purgatory code, portable engine | ",
                  mbps(f.sha_mbps_portable), " | (same) | BoringSSL ", mbps(f.sha_mbps_boringssl),
                  " | ", ratio(f.sha_portable_vs_boringssl), " | — | — | — | — | — |\n\n");
  absl::StrAppend(
      &md,
      "`bench/results.json` holds the ratios (Saveoops / kdump; ours / BoringSSL for SHA), "
      "`reservation_mib`, `tiny_reservation_mib`, `tiny_reservation_ratio`, `tiny_latency_ratio` "
      "and `plan_checks` (plan's prediction against the bisection per capture kernel).\n\n");

  // 1. Latency.
  std::vector<std::string> names;
  for (Stack s : r.stacks) names.push_back(StackName(s));
  absl::StrAppend(
      &md, "## 1. Panic → record on disk\n\n",
      "Host-side timestamps of serial lines: from the first-kernel line `Kernel panic - not "
      "syncing` to `saveoops-capture: record N written` (after the store's fdatasync) or "
      "`kdump-bench: dmesg synced` (after makedumpfile's output was written to the disk and "
      "fdatasync'ed). Each round boots every stack once, the order reversed every other round (",
      absl::StrJoin(names, ", "),
      ", then back), so a drift in the shared machine's speed hits every stack alike; "
      "crashkernel=",
      r.latency_crashkernel_mib, "M for all.\n\n![latency per run](latency.png)\n\n",
      "| phase (median s, min–max) | saveoops | tiny | kdump |\n|---|---|---|---|\n");
  const std::pair<const char*, const Summary*> phases[] = {
      {"panic → capture kernel banner (purgatory, capture kernel entry)", f.kernel_phase},
      {"banner → capture /init's first line (kernel boot)", f.init_phase},
      {"/init → log durable on disk (capture tool)", f.tool_phase},
      {"**total**", f.lat}};
  for (const auto& [name, sum] : phases) {
    absl::StrAppend(&md, "| ", name, " | ", Spread(sum[kSv], 1, 2), " | ", Spread(sum[kTi], 1, 2),
                    " | ", Spread(sum[kKd], 1, 2), " |\n");
  }
  absl::StrAppend(
      &md,
      "\n| round | stack | panic → on disk, s | host load (1 min) at boot |\n|---|---|---|---|\n");
  for (const LatencyRun& run : r.latency) {
    absl::StrAppend(
        &md, "| ", run.round + 1, " | ", StackName(run.stack), " | ",
        run.timeline.Latency() ? absl::StrFormat("%.3f", *run.timeline.Latency()) : "failed", " | ",
        run.load, " |\n");
  }
  absl::StrAppend(&md, "\n");
  if (!f.kernels.empty()) {
    absl::StrAppend(
        &md, "### Panic → on disk per kernel\n\n",
        "Median panic → on disk per stack with each kernel as first and capture kernel (Debian's "
        "packages, the 6.12 ones unpacked by tools/setup.sh into the kernel cache), the same "
        "QEMU settings and crashkernel=",
        r.latency_crashkernel_mib,
        "M, ABBA order per kernel, no arm-time samples; the first row is the figure above. "
        "Ratios are Saveoops / kdump within this run.\n\n",
        KernelRowsMarkdown(f.kernels), "\n");
  }

  // 2. Reservation.
  absl::StrAppend(
      &md, "## 2. Smallest crash reservation\n\n", "Bisection of `crashkernel=XM` on a ",
      r.step_mib, " MiB grid, then on a ", r.fine_step_mib,
      " MiB grid between the last failing grid point and the answer; a probe succeeds when the "
      "record (Saveoops) or the dmesg (kdump) holding `",
      kPanicLine, "` is on the disk in ", r.confirm,
      " boots in a row (the first failure ends the probe), so a reservation that captures only "
      "sometimes counts as too small and the edge does not move between runs. Both Saveoops "
      "stacks arm with `--headroom=0` here, so the planner places whatever fits and the boot "
      "shows what the capture really needs.\n\n");
  for (Stack s : kAllStacks) {
    const int i = static_cast<int>(s);
    if (!r.reservation[i]) continue;
    absl::StrAppend(&md, "- ", StackName(s), ": smallest ", r.reservation[i]->smallest_mib,
                    " MiB (bisected in [", r.reservation[i]->lo_mib, ", ", r.reservation[i]->hi_mib,
                    "] MiB); boots: ", ProbeList(*r.reservation[i]), "\n");
  }
  for (const KernelPlan& k : r.kernel_plans) {
    absl::StrAppend(&md, "- saveoops with ", k.name, " (", k.check.release,
                    ") as first and capture kernel: smallest ", k.reservation.smallest_mib,
                    " MiB (bisected in [", k.reservation.lo_mib, ", ", k.reservation.hi_mib,
                    "] MiB); boots: ", ProbeList(k.reservation), "\n");
  }
  if (!f.plan_checks.empty()) {
    absl::StrAppend(
        &md, "\n### `saveoops plan` against the bisection\n\n",
        "`saveoops plan --bundle=B --cpus=1 --memmap=<the 1 GiB QEMU map> --print=crashkernel-mib` "
        "with plan's default headroom for the bundle's capture kernel (",
        kDefaultRuntimeHeadroom >> 20, " MiB for a distribution kernel, ",
        kSaveoopsKernelRuntimeHeadroom >> 20,
        " MiB for Saveoops' own), against the smallest crashkernel= that captured. Plan must "
        "never predict below the measurement (a machine set up as it says would not capture), "
        "and at most one ",
        r.step_mib, " MiB step above it.\n\n", PlanChecksMarkdown(f.plan_checks), "\n");
    for (Stack s : {Stack::kSaveoops, Stack::kSaveoopsTiny}) {
      const int i = static_cast<int>(s);
      if (!r.plan[i] || !r.reservation[i]) continue;
      const PlanFit& p = *r.plan[i];
      const uint64_t m = r.reservation[i]->smallest_mib;
      absl::StrAppend(&md, "- ", StackName(s), ": placement alone (headroom 0) ",
                      p.predicted_zero_headroom_mib, " MiB, so the capture kernel needs about ",
                      m > p.predicted_zero_headroom_mib ? m - p.predicted_zero_headroom_mib : 0,
                      " MiB free beyond its pieces and the files it unpacks from its initramfs");
      if (p.safe_headroom_mib) {
        absl::StrAppend(&md, "; smallest headroom not below the measurement ", *p.safe_headroom_mib,
                        " MiB");
      }
      if (p.within_step_lo) {
        absl::StrAppend(&md, "; headrooms within one step at or above: ", *p.within_step_lo, "–",
                        *p.within_step_hi, " MiB");
      }
      absl::StrAppend(&md, "\n");
    }
    if (!r.kernel_plans.empty()) {
      absl::StrAppend(&md, "- every Debian kernel above at once: ",
                      f.debian_headroom_range
                          ? absl::StrCat("headrooms ", f.debian_headroom_range->lo, "–",
                                         f.debian_headroom_range->hi,
                                         " MiB put each within one step at or above")
                          : std::string("no single headroom puts each within one step at or above "
                                        "(plan's headroom is one figure for every distribution "
                                        "kernel; it must not be below any of them)"),
                      "\n");
    }
  }
  absl::StrAppend(&md, "\n");

  // 3. Initramfs and kernel.
  absl::StrAppend(
      &md, "## 3. Capture initramfs and capture kernel\n\n",
      "Uncompressed newc archives built by `initramfs/builder.h`. The Debian-kernel stacks carry "
      "the same modules (those of the guest's virtio disk: ",
      absl::StrJoin(kGuestDiskModules, ", "), " and dependencies, ", r.art.kdump.module_count,
      " files, ", Mib(r.art.kdump.module_bytes),
      " MiB); Saveoops' own kernel has its store drivers built in and no modules, so its "
      "initramfs is saveoops-capture alone.\n\n",
      "| part | saveoops | tiny | kdump |\n|---|---|---|---|\n",
      "| /init | saveoops-capture (static) ", Mib(r.art.capture_init_bytes),
      " MiB | saveoops-capture (static) ", Mib(r.art.capture_init_bytes),
      " MiB | kdump_init (static) ", Mib(r.art.kdump.init_bytes), " MiB |\n");
  size_t programs = 0;
  std::vector<std::string> tools;
  for (const auto& [path, size] : r.art.kdump.programs) {
    programs += size;
    tools.push_back(path.substr(path.rfind('/') + 1));
  }
  absl::StrAppend(&md, "| capture tool + shared libraries | (in /init) | (in /init) | ",
                  Mib(programs), " MiB (", absl::StrJoin(tools, ", "), ") |\n", "| modules | ",
                  Mib(r.art.kdump.module_bytes), " MiB | none | ", Mib(r.art.kdump.module_bytes),
                  " MiB |\n", "| **total** | ", MibOrNa(ib[kSv]), " MiB | ", MibOrNa(ib[kTi]),
                  " MiB | ", MibOrNa(ib[kKd]), " MiB |\n", "| capture kernel bzImage | ",
                  MibOrNa(kf[kSv]), " MiB | ", MibOrNa(kf[kTi]), " MiB | ", MibOrNa(kf[kKd]),
                  " MiB |\n", "| kernel piece in the reservation | ", MibOrNa(kp[kSv]),
                  " MiB (prepared image) | ", MibOrNa(kp[kTi]), " MiB | ", MibOrNa(kp[kKd]),
                  " MiB (bzImage init_size) |\n\n");

  // 4. Arm.
  absl::StrAppend(
      &md, "## 4. Arm time\n\n",
      "Inside the guest (CLOCK_MONOTONIC around fork → exit), the same capture kernel and the same "
      "initramfs (Saveoops' capture.cpio; `saveoops arm` reads them from the bundle and checks "
      "their SHA-256, `kexec -p` from files). ",
      r.arm_reps,
      " sample(s) of each tool in every saveoops and kdump latency boot, the order alternating; "
      "each sample is unloaded again (`kexec -p -u`, `saveoops disarm`). Row 4b is the one arm "
      "each latency boot makes before its panic, with its own stack's capture kernel.\n\n");

  // 5. SHA.
  absl::StrAppend(
      &md, "## 5. SHA-256 throughput\n\n",
      "`bench/sha_bench` (built with -c opt, i.e. -O2 like the purgatory) hashes one 64 MiB "
      "buffer; "
      "best of the rounds, MB = 10^6 bytes. The purgatory's SHA-256 is `common/sha256.cc` compiled "
      "for the host; BoringSSL is Debian's android-libboringssl.\n\n| engine | best MB/s | median "
      "MB/s |\n"
      "|---|---|---|\n");
  for (const ShaResult& s : r.sha) {
    absl::StrAppend(&md, "| ", s.engine, " | ", absl::StrFormat("%.0f", s.best_mbps), " | ",
                    absl::StrFormat("%.0f", s.median_mbps), " |\n");
  }
  return md;
}

// A QEMU -m size ("1G", "512M", "2048": MiB by default) as text: "1 GiB".
std::string QemuSizeText(const std::string& size) {
  if (size.empty()) return size;
  const char unit = size.back();
  if (unit == 'K' || unit == 'M' || unit == 'G') {
    return absl::StrCat(size.substr(0, size.size() - 1), " ", std::string(1, unit), "iB");
  }
  return size + " MiB";
}

absl::Status WriteChart(const Results& r, const Figures& f, const BenchConfig& cfg,
                        const std::string& out_dir) {
  // latency.tsv: round, then seconds per stack (saveoops, kdump, tiny).
  std::map<int, std::array<std::string, kStackCount>> rows;
  for (const LatencyRun& run : r.latency) {
    rows[run.round][static_cast<int>(run.stack)] =
        run.timeline.Latency() ? absl::StrFormat("%.3f", *run.timeline.Latency()) : "NaN";
  }
  std::string tsv =
      "# round\tsaveoops_s\tkdump_s\tsaveoops_tiny_s  (panic line -> log durable on disk, host "
      "serial timestamps)\n";
  for (const auto& [round, v] : rows) {
    absl::StrAppend(&tsv, round + 1);
    for (const std::string& x : v) absl::StrAppend(&tsv, "\t", x.empty() ? "NaN" : x);
    absl::StrAppend(&tsv, "\n");
  }
  const std::string tsv_path = out_dir + "/latency.tsv";
  if (absl::Status s = WriteFile(tsv_path, tsv); !s.ok()) return s;
  if (!Exists("/usr/bin/gnuplot")) {
    return absl::NotFoundError(
        "gnuplot is missing (tools/setup.sh installs gnuplot-nox): no latency.png");
  }
  const std::string script = absl::StrCat(
      "set terminal pngcairo size 900,450 font 'sans,10'\n", "set output '", out_dir,
      "/latency.png'\n",
      absl::StrFormat("set title \"Panic -> log durable on disk (QEMU TCG, %d vCPU, %s)\\n"
                      "median: Saveoops %.2f s, Saveoops own kernel %.2f s, kdump %.2f s "
                      "(%.2fx, %.2fx)\"\n",
                      cfg.smp, QemuSizeText(cfg.mem), f.lat[kSv].median, f.lat[kTi].median,
                      f.lat[kKd].median, f.latency_ratio.value_or(0),
                      f.tiny_latency_ratio.value_or(0)),
      "set ylabel 'seconds'\nset xlabel 'round (ABC CBA order)'\nset yrange [0:*]\nset grid "
      "ytics\n",
      "set style data histograms\nset style histogram clustered gap 1\n",
      "set style fill solid 0.8 border -1\nset boxwidth 0.9\n",
      "set key outside top center horizontal\n", "plot '", tsv_path,
      "' using 2:xtic(1) title 'Saveoops (Debian kernel)' lc rgb '#2a7ab0', '' using 4 title "
      "'Saveoops (own capture kernel)' lc rgb '#5aa02c', '' using 3 title "
      "'kdump (kexec-tools + makedumpfile)' lc rgb '#c0504d'\n");
  const std::string script_path = out_dir + "/.latency.gnuplot";
  if (absl::Status s = WriteFile(script_path, script); !s.ok()) return s;
  absl::Status s = MustRun({"/usr/bin/gnuplot", script_path});
  unlink(script_path.c_str());
  return s;
}

// ---- main -----------------------------------------------------------------------------

int Main(int argc, char** argv) {
  CommandLine cl(
      "vs_kdump [flags]",
      "Benchmarks Saveoops against kdump (kexec-tools `kexec -p` + makedumpfile --dump-dmesg)\n"
      "in QEMU (-accel tcg) with the installed Debian kernel, and Saveoops with its own capture\n"
      "kernel (stack saveoops-tiny, --tiny-kernel): panic-to-disk latency, smallest\n"
      "crashkernel= and `saveoops plan`'s prediction of it, capture initramfs and kernel size,\n"
      "arm time and SHA-256 throughput; panic-to-disk latency and the plan check again with\n"
      "each --kernels entry of the kernel cache (Debian 13's 6.12, Debian 11's 5.10). Writes\n"
      "results.json, RESULTS.md, latency.tsv and latency.png into --out-dir.\n"
      "Run it with `bazel run //bench:vs_kdump [-- flags]`; a full run takes ~10-15 min on 2 cores "
      "(more on a loaded machine).");
  cl.Switch("quick",
            "one latency boot per stack, 8 MiB bisection steps, one capture per probe "
            "(development)");
  cl.Flag("stacks", "saveoops,kdump,saveoops-tiny",
          "',' separated stacks to benchmark, in latency-round order: saveoops (Debian kernel), "
          "kdump, saveoops-tiny (Saveoops' own capture kernel)");
  cl.Flag("tiny-kernel", "saveoops",
          "saveoops-tiny's capture kernel: 'saveoops' (tools/build_capture_kernel.sh's cache, "
          "as --capture-kernel=saveoops finds it) or a bzImage path");
  cl.IntFlag("runs", "7", "latency boots per stack (rounds in ABC CBA order)", 1, 50);
  cl.IntFlag("arm-reps", "2", "arm-time samples per tool in each latency boot", 0, 20);
  cl.IntFlag("step", "2", "bisection step in MiB", 1, 64);
  cl.IntFlag("fine-step", "1", "bisection step in MiB near the edge, after the --step pass", 1, 64);
  cl.IntFlag("confirm", "2",
             "captures in a row for a bisection probe to count as success (a flaky edge reads as "
             "failing)",
             1, 10);
  cl.IntFlag("latency-crashkernel", "256", "crashkernel= (MiB) for the latency boots", 64, 512);
  cl.IntFlag("bisect-lo", "32",
             "lowest crashkernel= (MiB) the bisection probes (Debian-kernel stacks)", 16, 512);
  cl.IntFlag("bisect-lo-tiny", "8", "lowest crashkernel= (MiB) the saveoops-tiny bisection probes",
             1, 512);
  cl.IntFlag("sha-rounds", "7", "rounds of the SHA-256 benchmark", 1, 100);
  cl.Flag("figures", "latency,reservation,initramfs,sha,kernels,kernel-plans",
          "which figures to measure (arm time comes with latency; kernels: panic -> on disk per "
          "--kernels entry; kernel-plans: Saveoops' smallest crashkernel= per --kernels entry "
          "against `saveoops plan`)");
  cl.Flag("kernels", "trixie",
          "for the kernels figure: ',' separated kernel-cache entries (tools/setup.sh unpacks them "
          "into $SAVEOOPS_KERNEL_CACHE, default /var/cache/saveoops-kernels: trixie, "
          "trixie-cloud, trixie-rt, bullseye), each first and capture kernel (kernels and "
          "kernel-plans figures)");
  cl.IntFlag("kernel-runs", "3", "latency boots per stack and kernel for the kernels figure (ABBA)",
             1, 50);
  cl.Flag("mem", "1G", "guest memory (QEMU -m); the issue's figures use 1G");
  cl.IntFlag("smp", "1", "guest vCPUs (QEMU -smp); the issue's figures use 1", 1, 8);
  cl.Flag("kernel", "", "guest and capture kernel (default: newest /boot/vmlinuz-*)");
  cl.Flag("out-dir", "",
          "where results go (default: <workspace>/bench under bazel run for a full run; the "
          "work dir for --quick or a subset of --figures, so they never replace the committed "
          "results)");
  cl.Flag("work-dir", "",
          "scratch directory with serial logs (default: a new /tmp/saveoops-bench.*)");
  cl.Flag("capture-extra", "",
          "extra capture kernel arguments for both stacks, ',' separated (e.g. quiet)");
  cl.IntFlag("default-headroom", "",
             "a headroom (MiB) to predict the Debian kernels' reservation with instead of "
             "`saveoops plan`'s own default (calibration)",
             0, 1024);
  absl::StatusOr<bool> parsed = cl.Parse(argc, argv, 1);
  if (!parsed.ok()) {
    std::fprintf(stderr, "vs_kdump: %s\n", std::string(parsed.status().message()).c_str());
    return 2;
  }
  if (!*parsed) {
    std::fputs(cl.Help().c_str(), stdout);
    return 0;
  }
  const bool quick = cl.Enabled("quick");
  // The flags that shape the figures, for RESULTS.md (not where files go).
  std::vector<std::string> shaping;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view a = argv[i];
    if (!absl::StartsWith(a, "--work-dir") && !absl::StartsWith(a, "--out-dir")) {
      shaping.emplace_back(a);
    }
  }
  const std::string flags = absl::StrJoin(shaping, " ");
  // Parse checked each IntFlag against its range; GetInt fails only on a default outside it.
  auto int_flag = [&](const char* name) -> int64_t {
    absl::StatusOr<int64_t> v = cl.GetInt(name);
    if (!v.ok()) {
      std::fprintf(stderr, "vs_kdump: %s\n", std::string(v.status().message()).c_str());
      exit(2);
    }
    return *v;
  };
  const int runs = quick && !cl.IsSet("runs") ? 1 : static_cast<int>(int_flag("runs"));
  const int arm_reps = quick && !cl.IsSet("arm-reps") ? 1 : static_cast<int>(int_flag("arm-reps"));
  const int step = quick && !cl.IsSet("step") ? 8 : static_cast<int>(int_flag("step"));
  const int fine_step = std::min(step, static_cast<int>(int_flag("fine-step")));
  const int confirm = quick && !cl.IsSet("confirm") ? 1 : static_cast<int>(int_flag("confirm"));
  const int bisect_lo_tiny = static_cast<int>(int_flag("bisect-lo-tiny"));
  const int latency_ck = static_cast<int>(int_flag("latency-crashkernel"));
  const int bisect_lo = static_cast<int>(int_flag("bisect-lo"));
  const int sha_rounds =
      quick && !cl.IsSet("sha-rounds") ? 3 : static_cast<int>(int_flag("sha-rounds"));
  const std::optional<uint64_t> default_headroom =
      cl.Get("default-headroom").empty()
          ? std::nullopt
          : std::optional<uint64_t>(static_cast<uint64_t>(int_flag("default-headroom")));
  absl::StatusOr<std::vector<Stack>> stacks = ParseStackList(cl.Get("stacks"));
  if (!stacks.ok()) {
    std::fprintf(stderr, "vs_kdump: --stacks: %s\n",
                 std::string(stacks.status().message()).c_str());
    return 2;
  }
  auto benched = [&](Stack s) {
    return std::find(stacks->begin(), stacks->end(), s) != stacks->end();
  };
  const int kernel_runs =
      quick && !cl.IsSet("kernel-runs") ? 1 : static_cast<int>(int_flag("kernel-runs"));
  std::map<std::string, bool> want;
  for (absl::string_view f : absl::StrSplit(cl.Get("figures"), ',', absl::SkipEmpty())) {
    if (f != "latency" && f != "reservation" && f != "initramfs" && f != "sha" && f != "kernels" &&
        f != "kernel-plans") {
      std::fprintf(stderr, "vs_kdump: --figures: unknown figure '%s'\n", std::string(f).c_str());
      return 2;
    }
    want[std::string(f)] = true;
  }

  const bool full = !quick && want.size() == 6 && stacks->size() == kStackCount &&
                    !cl.IsSet("mem") && !cl.IsSet("smp");
  std::string out_dir = cl.Get("out-dir");
  const char* ws = getenv("BUILD_WORKSPACE_DIRECTORY");
  if (out_dir.empty() && full) {
    if (ws == nullptr) {
      std::fprintf(stderr, "vs_kdump: not under `bazel run`: give --out-dir\n");
      return 2;
    }
    out_dir = absl::StrCat(ws, "/bench");
  }
  BenchConfig cfg;
  cfg.work = cl.Get("work-dir");
  if (cfg.work.empty()) {
    char tmpl[] = "/tmp/saveoops-bench.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("vs_kdump: mkdtemp");
      return 1;
    }
    cfg.work = tmpl;
  } else {
    mkdir(cfg.work.c_str(), 0755);
  }
  if (out_dir.empty()) out_dir = cfg.work;

  cfg.capture_extra = cl.Get("capture-extra");
  cfg.capture_cmdline = KdumpAppend(cfg.capture_extra);
  cfg.mem = cl.Get("mem");
  cfg.smp = static_cast<int>(int_flag("smp"));
  const size_t digits = cfg.mem.find_first_not_of("0123456789");
  if (digits == 0 || (digits != std::string::npos &&
                      (digits + 1 != cfg.mem.size() ||
                       std::string("KMG").find(cfg.mem.back()) == std::string::npos))) {
    std::fprintf(stderr, "vs_kdump: --mem must look like 1G or 512M, got '%s'\n", cfg.mem.c_str());
    return 2;
  }
  if (cfg.capture_extra.find_first_of(" \"'") != std::string::npos) {
    std::fprintf(stderr, "vs_kdump: --capture-extra separates arguments with ',', not spaces\n");
    return 2;
  }
  const double t0 = Now();
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "vs_kdump: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  absl::StatusOr<Inputs> in = FindInputs(cl.Get("kernel"));
  if (!in.ok()) return fail(in.status());
  if (benched(Stack::kSaveoopsTiny)) {
    absl::StatusOr<std::string> tiny = CaptureKernelPathOf(cl.Get("tiny-kernel"));
    if (!tiny.ok()) return fail(tiny.status());
    if (!Exists(*tiny)) return fail(absl::NotFoundError(absl::StrCat("--tiny-kernel: no ", *tiny)));
    in->tiny_kernel = *tiny;
  }
  Progress(absl::StrCat("kernel ", in->kernel, "; work dir ", cfg.work, "; results to ", out_dir));
  absl::StatusOr<Artifacts> art = BuildArtifacts(*in, cfg.work, cfg.capture_extra);
  if (!art.ok()) return fail(art.status());

  Results r;
  r.art = *art;
  r.stacks = *stacks;
  r.fine_step_mib = fine_step;
  r.confirm = confirm;
  r.tiny_release = art->tiny_release;
  r.tiny_kernel = in->tiny_kernel;
  r.load_start = LoadAverage();
  r.arm_reps = arm_reps;
  r.step_mib = step;
  r.latency_crashkernel_mib = latency_ck;
  r.release = in->release;
  if (want["initramfs"]) {
    r.capture_cpio_bytes = FileSize(art->capture_cpio);
    r.kdump_cpio_bytes = FileSize(art->kdump_cpio);
    Progress(absl::StrFormat("initramfs: Saveoops %s MiB, saveoops-tiny %s MiB, kdump %s MiB",
                             Mib(r.capture_cpio_bytes), MibOrNa(art->initramfs_bytes[kTi]),
                             Mib(r.kdump_cpio_bytes)));
  }

  if (want["sha"]) {
    Progress(absl::StrCat("SHA-256 throughput on the host (64 MiB, ", sha_rounds, " rounds)"));
    std::string out;
    absl::Status s =
        MustRun({in->sha_bench, "--mib=64", absl::StrCat("--rounds=", sha_rounds)}, &out);
    if (!s.ok()) return fail(s);
    r.sha = ParseShaBenchOutput(out);
    for (const ShaResult& x : r.sha) {
      Progress(
          absl::StrFormat("  %-9s %8.0f MB/s (median %.0f)", x.engine, x.best_mbps, x.median_mbps));
    }
  }

  bool latency_ok[kStackCount] = {};
  if (want["latency"]) {
    Progress(absl::StrCat("latency + arm time: ", runs,
                          " boot(s) per stack, ABC CBA order, crashkernel=", latency_ck, "M"));
    absl::Status s = RunAbbaBoots(
        cfg, *in, *art, *stacks, runs, latency_ck, arm_reps, "latency",
        [&](int round, Stack stack, const BootOutcome& o) {
          latency_ok[static_cast<int>(stack)] = true;
          r.latency.push_back({round, stack, o.timeline, o.load});
          for (int64_t us : o.timeline.kexec_arm_us) r.arm_kexec_ms.push_back(us / 1000.0);
          for (int64_t us : o.timeline.saveoops_arm_us) r.arm_saveoops_ms.push_back(us / 1000.0);
          Progress(absl::StrFormat("  run %d %-13s panic -> on disk %.2f s (boot %.0f s)",
                                   round + 1, StackName(stack), *o.timeline.Latency(), o.wall));
        });
    if (!s.ok()) return fail(s);
  }

  // The kernels of the kernel cache, with their artifacts (built once for
  // both figures that use them).
  struct CacheEntry {
    std::string name, work;
    Inputs in;
    Artifacts art;
    bool latency_ok = false;
  };
  std::vector<CacheEntry> cache_kernels;
  if (want["kernels"] || want["kernel-plans"]) {
    for (absl::string_view name : absl::StrSplit(cl.Get("kernels"), ',', absl::SkipEmpty())) {
      absl::StatusOr<std::string> kernel = CacheKernel(std::string(name));
      if (!kernel.ok()) return fail(kernel.status());
      absl::StatusOr<Inputs> kin = FindInputs(*kernel);
      if (!kin.ok()) return fail(kin.status());
      CacheEntry e;
      e.name = std::string(name);
      e.work = absl::StrCat(cfg.work, "/kernel-", name);
      mkdir(e.work.c_str(), 0755);
      Progress(absl::StrCat("kernel ", name, ": ", kin->kernel, ", modules ", kin->modules_dir));
      absl::StatusOr<Artifacts> kart = BuildArtifacts(*kin, e.work, cfg.capture_extra);
      if (!kart.ok()) return fail(kart.status());
      e.in = *kin;
      e.art = *kart;
      cache_kernels.push_back(std::move(e));
    }
  }
  if (want["kernels"]) {
    for (CacheEntry& e : cache_kernels) {
      const std::string& name = e.name;
      const Inputs* kin = &e.in;
      const Artifacts* kart = &e.art;
      BenchConfig kcfg = cfg;
      kcfg.work = e.work;
      std::vector<double> lat[kStackCount];
      absl::Status s = RunAbbaBoots(
          kcfg, *kin, *kart, {Stack::kSaveoops, Stack::kKdump}, kernel_runs, latency_ck, 0,
          absl::StrCat("kernel-", name), [&](int round, Stack stack, const BootOutcome& o) {
            lat[static_cast<int>(stack)].push_back(*o.timeline.Latency());
            Progress(absl::StrFormat("  %s run %d %-8s panic -> on disk %.2f s (boot %.0f s)", name,
                                     round + 1, StackName(stack), *o.timeline.Latency(), o.wall));
          });
      if (!s.ok()) return fail(s);
      e.latency_ok = true;
      KernelLatencyRow row;
      row.release = kin->release;
      row.runs = kernel_runs;
      row.saveoops_s = Summarize(lat[0]).median;
      row.kdump_s = Summarize(lat[1]).median;
      Progress(absl::StrFormat("  %s: Saveoops %.2f s, kdump %.2f s (%.2fx)", kin->release,
                               *row.saveoops_s, *row.kdump_s, row.Ratio().value_or(0)));
      r.kernels.push_back(row);
    }
  }

  const uint64_t debian_headroom_mib = kDefaultRuntimeHeadroom >> 20;
  const uint64_t tiny_headroom_mib = kSaveoopsKernelRuntimeHeadroom >> 20;
  if (want["reservation"]) {
    Progress(absl::StrCat("smallest crashkernel=: bisection in [", bisect_lo, ", ", latency_ck,
                          "] MiB (saveoops-tiny from ", bisect_lo_tiny, "), step ", step,
                          " MiB then ", fine_step, " MiB, ", confirm, " capture(s) per probe"));
    for (Stack stack : *stacks) {
      const int i = static_cast<int>(stack);
      const uint64_t lo = stack == Stack::kSaveoopsTiny ? bisect_lo_tiny : bisect_lo;
      absl::StatusOr<ReservationResult> res =
          BisectReservation(cfg, *in, *art, stack, lo, latency_ck, step, fine_step, confirm,
                            latency_ok[i], "reservation");
      if (!res.ok()) return fail(res.status());
      Progress(
          absl::StrCat("  ", StackName(stack), ": smallest crashkernel=", res->smallest_mib, "M"));
      r.reservation[i] = *res;
      if (stack == Stack::kKdump) continue;
      const bool tiny = stack == Stack::kSaveoopsTiny;
      absl::StatusOr<PlanFit> fit = FitPlan(
          *in, tiny ? art->tiny_bundle : art->bundle, res->smallest_mib, step,
          tiny ? std::nullopt : default_headroom, tiny ? tiny_headroom_mib : debian_headroom_mib);
      if (!fit.ok()) return fail(fit.status());
      r.plan[i] = *fit;
      r.plan_check[i] =
          MakePlanCheck(tiny ? art->tiny_release : in->release, res->smallest_mib, *fit, step);
      Progress(
          absl::StrFormat("  saveoops plan (%s): %dM with the default %dM headroom, %dM with "
                          "none",
                          StackName(stack), fit->predicted_default_mib, fit->default_headroom_mib,
                          fit->predicted_zero_headroom_mib));
    }
  }

  if (want["kernel-plans"]) {
    for (CacheEntry& e : cache_kernels) {
      BenchConfig kcfg = cfg;
      kcfg.work = e.work;
      Progress(absl::StrCat("kernel ", e.name, ": Saveoops' smallest crashkernel="));
      absl::StatusOr<ReservationResult> res =
          BisectReservation(kcfg, e.in, e.art, Stack::kSaveoops, bisect_lo, latency_ck, step,
                            fine_step, confirm, e.latency_ok, absl::StrCat("plan-", e.name));
      if (!res.ok()) return fail(res.status());
      absl::StatusOr<PlanFit> fit = FitPlan(e.in, e.art.bundle, res->smallest_mib, step,
                                            default_headroom, debian_headroom_mib);
      if (!fit.ok()) return fail(fit.status());
      KernelPlan k;
      k.name = e.name;
      k.reservation = *res;
      k.check = MakePlanCheck(e.in.release, res->smallest_mib, *fit, step);
      Progress(absl::StrFormat("  %s: smallest %dM, saveoops plan predicts %dM (%s)", e.name,
                               res->smallest_mib, fit->predicted_default_mib,
                               k.check.WithinStepAtOrAbove() ? "within one step at or above"
                               : k.check.Below()             ? "BELOW the measurement"
                                                             : "more than one step above"));
      r.kernel_plans.push_back(std::move(k));
    }
  }

  r.elapsed_s = Now() - t0;
  r.load_end = LoadAverage();
  const Figures f = Compute(r);
  mkdir(out_dir.c_str(), 0755);
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"results.json", ResultsJson(f)},
           {"RESULTS.md", ResultsMarkdown(r, f, *in, cfg, flags)}}) {
    if (absl::Status s = WriteFile(out_dir + "/" + name, text); !s.ok()) return fail(s);
  }
  if (want["latency"]) {
    if (absl::Status s = WriteChart(r, f, cfg, out_dir); !s.ok()) {
      std::fprintf(stderr, "vs_kdump: chart: %s\n", std::string(s.message()).c_str());
    }
  }
  std::printf("%s", ResultsJson(f).c_str());
  Progress(absl::StrFormat("done in %.1f min: %s/RESULTS.md, results.json%s; serial logs in %s",
                           r.elapsed_s / 60, out_dir, want["latency"] ? ", latency.png" : "",
                           cfg.work));
  return 0;
}

}  // namespace
}  // namespace saveoops

int main(int argc, char** argv) { return saveoops::Main(argc, argv); }
