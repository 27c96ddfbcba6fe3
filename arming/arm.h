// Staging a capture kernel: from a verified bundle and what the running
// kernel reports (CrashSystemInfo, sysinfo.h) to the kexec segments
// (BuildArmPlan), and the whole arming sequence (ArmBundle). Every backend
// arms through this code: `saveoops arm` (kexec backend) and the early-boot
// arming programs of the Syslinux and UEFI backends. Sizing is sizing.h, the
// system calls kexec_syscalls.h.
//
// BuildArmPlan, like the kernel's own loader (kernel/kexec_file.c,
// arch/x86/kernel/kexec-bzimage64.c), places every piece first and then
// fills each one knowing the others' addresses:
//   parse the capture kernel and the purgatory   -> CaptureKernel, PurgatoryImage
//   build the ELF core header                    (elfcorehdr)
//   place the pieces in the reservation          -> Plan (plan.kernel, plan.initrd, ...)
//   the command line, with elfcorehdr=           (boot_params' command line)
//   the capture kernel's memory map and zero page (boot_params)
//   the verified segments and their digests      (boot_params, elfcorehdr, kernel, initrd)
//   the purgatory's parameter block and image    (purgatory)
#ifndef SAVEOOPS_ARMING_ARM_H_
#define SAVEOOPS_ARMING_ARM_H_

#include <stdint.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "arming/kexec_syscalls.h"
#include "arming/sizing.h"
#include "arming/sysinfo.h"
#include "common/bundle.h"
#include "common/memmap.h"
#include "common/planner.h"
#include "store/store_map.h"

namespace saveoops {

struct ArmOptions {
  // Appended to the bundle's capture command line.
  std::string append;
  // Test only: hand the purgatory a wrong digest for this staged segment
  // (index into ArmPlan::verified_segments), to prove it refuses. -1: off.
  int corrupt_digest_segment = -1;
  // PurgatoryParams.flags (kPurgatoryFlag*).
  uint32_t purgatory_flags = 0;
  // Free memory the capture kernel needs besides its pieces; unset:
  // RuntimeHeadroomFor(the bundle's capture kernel).
  std::optional<uint64_t> runtime_headroom;
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

// Plans placement inside the crash reservation and builds every segment:
// boot_params (with elfcorehdr= on the command line), the ELF core header,
// the kernel, the initramfs, and the purgatory with its parameter block.
absl::StatusOr<ArmPlan> BuildArmPlan(const BundleContents& bundle, const CrashSystemInfo& system,
                                     const ArmOptions& options);

// The bundle with `map` added to its capture initramfs: a second newc
// archive holding kStoreMapPath, appended on a 4-byte boundary (the kernel
// unpacks archives back to back). The initramfs is no longer the bundle
// part ParseBundle() checked, so its digest is dropped from
// verified_sha256: BuildArmPlan hashes the new bytes, and the purgatory
// verifies the map with the rest of the initrd segment. boot_params'
// initrd_size and kexec_file_load's initrd follow from the new bytes.
absl::StatusOr<BundleContents> WithStoreMap(const BundleContents& bundle, const StoreMap& map);

// For a pack that formats the store itself (the Syslinux and UEFI images hold
// theirs): the bundle file `bundle_path` with `map` added (WithStoreMap),
// written to `out_path`. The early-arm programs stage that bundle as it is,
// so the capture kernel they arm writes only to the image's own store.
absl::Status WriteBundleFileWithStoreMap(const std::string& bundle_path, const StoreMap& map,
                                         const std::string& out_path);

// Every check of a bundle's contents that arming makes before it plans:
// the capture kernel's bzImage header and prepared kernel image
// (ParseCaptureKernel) and the purgatory's ABI header. `saveoops bundle
// verify` runs it, so a bundle it passes is one arm does not refuse for
// its contents (digests are ParseBundle's job).
absl::Status CheckBundleStructure(const BundleContents& bundle);

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
// (lockdown), and record the layout for `saveoops status` (the only writer
// of kArmedStateFile).
struct ArmRequest {
  std::string root = "/";
  ArmOptions options;
  bool dry_run = false;
  bool allow_file_load_fallback = true;
  // The store the capture may write (WithStoreMap); unset: the capture
  // takes the first store it finds and says it is unverified.
  std::optional<StoreMap> store_map;
  // Notes and fallbacks, one line each; few, because early-boot callers
  // write them to /dev/kmsg, which rate-limits user messages. The layout is
  // in ArmOutcome::plan.ToString() for callers that want to print it.
  std::function<void(const std::string&)> say = [](const std::string&) {};
};

// What ArmBundle did; the one result every backend's arming returns.
struct ArmOutcome {
  ArmPlan plan;
  // The kernel refused kexec_load and kexec_file_load was used instead.
  bool used_file_load = false;
  // Where the layout was recorded (kArmedStateFile under the root); empty
  // for a dry run or if it could not be written (said through `say`).
  std::string armed_state_path;
};

// A kernel without a crash reservation fails with IsNoCrashReservation()
// (sysinfo.h) true and the crashkernel= the bundle needs in the message.
absl::StatusOr<ArmOutcome> ArmBundle(const BundleContents& bundle, const ArmRequest& request);

}  // namespace saveoops

#endif  // SAVEOOPS_ARMING_ARM_H_
