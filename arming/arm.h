// Staging a capture kernel: from a verified bundle and what the running
// kernel reports (CrashSystemInfo) to the kexec segments, and the syscalls
// that load, inspect and unload them. Every backend arms through this code:
// `saveoops arm` (kexec backend) and the early-boot arming programs of the
// Syslinux and UEFI backends.
#ifndef SAVEOOPS_ARMING_ARM_H_
#define SAVEOOPS_ARMING_ARM_H_

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "arming/sysinfo.h"
#include "common/bundle.h"
#include "common/bzimage.h"
#include "common/planner.h"
#include "common/sha256.h"

namespace saveoops {

// Free memory the capture kernel needs to boot and run saveoops-capture,
// besides its pieces (kernel, initramfs, boot data) and the files it
// unpacks from its initramfs (CaptureSizesFor adds those). Calibrated by
// bisection with the Debian 6.1 kernel (`bazel run //bench:vs_kdump`,
// section 2): the smallest working crashkernel= came out at 84 and at 86 MiB
// in two runs (the edge moves with boot timing); 25 MiB predicts 86 MiB,
// within one 2 MiB step of both. See README "Sizing the reservation".
inline constexpr uint64_t kDefaultRuntimeHeadroom = 25ull << 20;

// Safety margin added to the planner's minimum when recommending a
// crashkernel= (`saveoops plan`, pack's crashkernel.txt): the capture
// kernel's run-time needs vary a little with the devices found at boot.
inline constexpr uint64_t kCrashkernelMarginBytes = 16ull << 20;

// The crashkernel= size to recommend for a planned minimum of `smallest`:
// plus kCrashkernelMarginBytes, rounded up to a MiB.
inline uint64_t RecommendedReservation(uint64_t smallest) {
  return (smallest + kCrashkernelMarginBytes + (1 << 20) - 1) & ~uint64_t{(1 << 20) - 1};
}

struct ArmOptions {
  // Appended to the bundle's capture command line.
  std::string append;
  // Test only: hand the purgatory a wrong digest for this staged segment
  // (index into ArmPlan::verified_segments), to prove it refuses. -1: off.
  int corrupt_digest_segment = -1;
  // PurgatoryParams.flags (kPurgatoryFlag*).
  uint32_t purgatory_flags = 0;
  uint64_t runtime_headroom = kDefaultRuntimeHeadroom;
};

// One kexec segment (struct kexec_segment): bytes copied to `mem`, the rest
// of `memsz` zero-filled by the kernel.
struct KexecSegment {
  std::string name;
  std::vector<uint8_t> bytes;
  uint64_t mem = 0;
  uint64_t memsz = 0;
  // SHA-256 of `bytes`, computed once by BuildArmPlan (hashing megabytes
  // again for every printout costs visible time at boot).
  Sha256Digest sha256{};
};

struct ArmPlan {
  Plan plan;
  // In ascending address order; purgatory included.
  std::vector<KexecSegment> segments;
  // Names of the segments the purgatory verifies, in its region order.
  std::vector<std::string> verified_segments;
  uint64_t entry = 0;  // purgatory entry, physical
  std::string capture_cmdline;
  std::string capture_kernel_version;
  std::vector<BootE820Entry> capture_e820;

  // A human-readable summary (layout, command line, digests).
  std::string ToString() const;
};

// The sizes the planner needs for `bundle` on this system (without
// placement): used by `saveoops plan` and by BuildArmPlan.
absl::StatusOr<CaptureSizes> CaptureSizesFor(const BundleContents& bundle,
                                             const BzImageInfo& kernel,
                                             size_t first_kernel_regions,
                                             size_t crash_notes, size_t ram_ranges,
                                             uint64_t runtime_headroom);

// Plans placement inside the crash reservation and builds every segment:
// boot_params (with elfcorehdr= on the command line), the ELF core header,
// the kernel, the initramfs, and the purgatory with its parameter block.
absl::StatusOr<ArmPlan> BuildArmPlan(const BundleContents& bundle,
                                     const CrashSystemInfo& system,
                                     const ArmOptions& options);

// Loads the plan with kexec_load(KEXEC_ON_CRASH). Errors say why in terms a
// user can act on (not root, lockdown, reservation, kernel support).
absl::Status LoadCrashKernel(const ArmPlan& plan);

// The fallback when kexec_load is refused (lockdown): kexec_file_load with
// the kernel's own purgatory. The kernel then builds boot_params and the
// ELF core header itself; Saveoops' purgatory does not run.
absl::Status LoadCrashKernelFile(const BundleContents& bundle, const std::string& cmdline);

// Unloads the crash kernel.
absl::Status UnloadCrashKernel();

// /sys/kernel/kexec_crash_loaded.
absl::StatusOr<bool> CrashKernelLoaded(const std::string& root = "/");

// Where arming records the layout for `saveoops status` (under the root).
inline constexpr char kArmedStateFile[] = "/run/saveoops/armed";

// The console= arguments of the running kernel's command line (under
// `root`), unless `capture_cmdline` already has its own console=: the
// capture kernel talks where the first kernel does.
std::string FirstKernelConsoleArgs(const std::string& root, const std::string& capture_cmdline);

// The whole arming sequence every backend runs once it holds a verified
// bundle: read the system (a missing reservation names the crashkernel= the
// bundle needs), plan with the first kernel's console= added, load with
// kexec_load, fall back to kexec_file_load where the kernel refuses it
// (lockdown), and record the layout for `saveoops status`.
struct ArmRequest {
  std::string root = "/";
  ArmOptions options;
  bool dry_run = false;
  bool allow_file_load_fallback = true;
  // Notes and fallbacks, one line each; few, because early-boot callers
  // write them to /dev/kmsg, which rate-limits user messages. The layout is
  // in ArmOutcome::plan.ToString() for callers that want to print it.
  std::function<void(const std::string&)> say = [](const std::string&) {};
};

struct ArmOutcome {
  ArmPlan plan;
  // The kernel refused kexec_load and kexec_file_load was used instead.
  bool used_file_load = false;
};

absl::StatusOr<ArmOutcome> ArmBundle(const BundleContents& bundle, const ArmRequest& request);

}  // namespace saveoops

#endif  // SAVEOOPS_ARMING_ARM_H_
