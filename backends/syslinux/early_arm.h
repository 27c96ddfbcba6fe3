// The Syslinux backend's early arming: find the capture bundle Syslinux
// staged as a setup_data node (staging.h), verify every digest, and arm the
// crash kernel through the same code as `saveoops arm`
// (arming/arm.h ArmBundle: ReadCrashSystemInfo -> BuildArmPlan ->
// kexec_load, with the same kexec_file_load fallback under lockdown).
//
// saveoops-early-arm (early_arm_main.cc) runs this as the first userspace
// program (rdinit=) and then executes the initrd's /init; these functions
// hold everything it does that can be tested off a live kernel: every path
// is taken relative to a root directory.
#ifndef SAVEOOPS_BACKENDS_SYSLINUX_EARLY_ARM_H_
#define SAVEOOPS_BACKENDS_SYSLINUX_EARLY_ARM_H_

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "arming/arm.h"
#include "common/bundle.h"

namespace saveoops {

// Settings from the first kernel's command line. The kernel ignores
// "saveoops.*" words (a dot makes them module parameters of a module that
// does not exist, init/main.c unknown_bootoption()) and does not pass them
// to init, so they reach only us, through /proc/cmdline.
//   saveoops.init=PATH       the program to hand over to (default /init)
//   saveoops.early_arm=0     do not arm; just hand over
//   saveoops.arm_timeout=S   give up arming after S seconds (default 60)
//   saveoops.staging=failed  written by pack on syslinux.cfg's fallback entry,
//                            which Syslinux boots when it could not stage
//                            the bundle (boot_config.h)
struct EarlyArmOptions {
  std::string next_init = "/init";
  bool enabled = true;
  int timeout_seconds = 60;
  bool staging_failed = false;
  // Words that looked like ours but did not parse, for the log.
  std::vector<std::string> ignored;
};

EarlyArmOptions ParseEarlyArmOptions(absl::string_view cmdline);

// "0x5356424e\n" (arch/x86/kernel/ksysfs.c type_show(): "0x%x\n") -> the
// type. Strict: "0x", 1 to 8 hex digits, optional trailing newline.
absl::StatusOr<uint32_t> ParseSetupDataType(absl::string_view text);

// The directory the kernel lists setup_data nodes in, under `root`.
std::string SetupDataDir(const std::string& root);

// Largest node we read: a bundle is a kernel and a small initramfs, tens of
// MiB; anything far larger is not ours and must not exhaust early memory.
inline constexpr uint64_t kMaxStagedBundleBytes = uint64_t{1} << 30;

struct StagedBundle {
  int node = -1;  // N in setup_data/N
  std::vector<uint8_t> bytes;
};

// Scans SetupDataDir(root) in node order for the first node of type
// kBundleSetupDataType and reads its data. Errors say what was found
// instead ("setup_data nodes: 0 (type 0x1)"), or that the boot loader
// staged nothing at all, so a user can tell a missing blob.N= line from a
// kernel without setup_data in sysfs.
absl::StatusOr<StagedBundle> ReadStagedBundle(const std::string& root);

// ParseBundle() on the staged bytes. Errors name the node and the part:
//   "the bundle in setup_data node 0 (12.3 MiB) is damaged: bundle: part
//    'capture_kernel' SHA-256 mismatch: header says ..., data hashes to ..."
absl::StatusOr<BundleContents> VerifyStagedBundle(const StagedBundle& staged);

// Arms `bundle` on the running kernel (files under `root`): the capture
// kernel's console follows the first kernel's console= (as `saveoops arm`
// does). With dry_run, plans and returns without loading anything.
// `say` receives the plan's lines and notes. ArmBundle's result as is (it
// also records the layout for `saveoops status`).
absl::StatusOr<ArmOutcome> ArmStagedBundle(const BundleContents& bundle, const std::string& root,
                                           bool dry_run,
                                           const std::function<void(const std::string&)>& say);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_SYSLINUX_EARLY_ARM_H_
