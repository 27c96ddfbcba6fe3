// How much crash reservation a bundle needs: the sizes the planner places
// (common/planner.h CaptureSizes) for a bundle on a system, the run-time
// headroom the capture kernel needs besides its pieces, and the
// crashkernel= to recommend.
//
// Two callers know different things about the system:
//   - arming (BuildArmPlan, `saveoops plan`) reads the running kernel's
//     memory map and CPUs: CaptureSizesFor with the real counts;
//   - pack, at build time, and arming on a kernel booted without
//     crashkernel= (to say which crashkernel= to boot with) know nothing
//     yet: CaptureSizesForUnknownSystem, with generous counts named below.
//
// Example:
//   ASSIGN_OR_RETURN(CaptureKernel kernel, ParseCaptureKernel(bundle));
//   CaptureSizes sizes = CaptureSizesForUnknownSystem(bundle, kernel, kDefaultRuntimeHeadroom);
//   ASSIGN_OR_RETURN(uint64_t smallest, SmallestReservation(MakeCaptureRequest(sizes)));
//   RecommendedReservation(smallest);  // e.g. 88 MiB + 16 MiB margin -> 104 MiB
#ifndef SAVEOOPS_ARMING_SIZING_H_
#define SAVEOOPS_ARMING_SIZING_H_

#include <stddef.h>
#include <stdint.h>

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/bundle.h"
#include "common/bzimage.h"
#include "common/kernel_image.h"
#include "common/planner.h"

namespace saveoops {

// Free memory the capture kernel needs to boot and run saveoops-capture,
// besides its pieces (kernel, initramfs, boot data) and the files it
// unpacks from its initramfs (CaptureSizesFor adds those). Calibrated by
// bisection with the Debian kernels (`bazel run //bench:vs_kdump`, section
// 2, a probe counting only when it captures twice in a row): Debian 6.1's
// edge came out at 84, 86 and 88 MiB in single-probe runs (it moves with
// boot timing) with 61 MiB of pieces, so it needs up to 27 MiB free (25 MiB
// predicted 86 MiB, below the 88 measured: a machine set up so would not
// capture); 27 MiB predicts 88 MiB (the confirmed run measured 86). Debian
// 13's 6.12 needs only about 4 MiB (edge 63 MiB, plan 86) and Debian 11's
// 5.10 about 16 (edge 75 MiB, plan 84): one figure for every distribution
// kernel must cover the hungriest, so plan asks those for more than they
// need, never less. See README "Sizing the reservation".
inline constexpr uint64_t kDefaultRuntimeHeadroom = 27ull << 20;

// What the calibration measured for Debian 6.1 in the benchmark's 1 GiB
// guest (sizing_test checks the headroom against them): the planner's
// minimum with no headroom, and the largest bisected edge.
inline constexpr uint64_t kCalibrationDebian61PiecesMiB = 61;
inline constexpr uint64_t kCalibrationDebian61EdgeMiB = 88;

// The largest headroom `plan` and `arm` take (--headroom): more than any
// capture kernel runs in; a larger value is a typo, not a machine.
inline constexpr uint64_t kMaxRuntimeHeadroom = 4ull << 30;

// The most CPUs `plan --cpus` sizes crash notes for: x86-64's NR_CPUS
// ceiling with CONFIG_MAXSMP (arch/x86/Kconfig, NR_CPUS_RANGE_END).
inline constexpr int64_t kMaxCpus = 8192;

// Saveoops' own capture kernel (kernel/capture.config, built by
// tools/build_capture_kernel.sh) names its release "<version>-saveoops"
// (CONFIG_LOCALVERSION), so a bundle says which kind of kernel it carries.
inline constexpr char kSaveoopsKernelReleaseSuffix[] = "-saveoops";

// The same headroom for Saveoops' own kernel: no modules to load, no
// initcalls of drivers it does not have, one CPU. Calibrated by booting it
// in a 1 GiB QEMU guest with ever smaller crashkernel= (armed with
// --headroom=0, so only the kernel decides; 2 MiB steps, then 1 MiB): it
// captured at 24, 22 and 21 MiB and died in early boot at 20 MiB; 6 MiB
// predicts 21.3 MiB (crashkernel=22M), one step above the edge. README
// "Sizing the reservation".
inline constexpr uint64_t kSaveoopsKernelRuntimeHeadroom = 6ull << 20;

// Whether `kernel_version` (the bzImage's version string, "6.1.192-saveoops
// (root@host) #1 ...") is Saveoops' own capture kernel.
bool IsSaveoopsCaptureKernel(absl::string_view kernel_version);

// Safety margin added to the planner's minimum when recommending a
// crashkernel= (`saveoops plan`, pack's crashkernel.txt): the capture
// kernel's run-time needs vary a little with the devices found at boot.
inline constexpr uint64_t kCrashkernelMarginBytes = 16ull << 20;

// The crashkernel= size to recommend for a planned minimum of `smallest`:
// plus kCrashkernelMarginBytes, rounded up to a MiB.
inline uint64_t RecommendedReservation(uint64_t smallest) {
  return (smallest + kCrashkernelMarginBytes + (1 << 20) - 1) & ~uint64_t{(1 << 20) - 1};
}

// "elfcorehdr=0x" and 16 hex digits: the argument BuildArmPlan appends is
// fixed width, so the command line's length (and so the boot_params blob's
// size) is known before placement. The kernel's own loader bounds the same
// argument by MAX_ELFCOREHDR_STR_LEN, 30 = this plus a separator
// (arch/x86/kernel/kexec-bzimage64.c).
inline constexpr char kElfcorehdrArgPrefix[] = "elfcorehdr=0x";
inline constexpr size_t kElfcorehdrAddressDigits = 16;  // a u64 in hex
inline constexpr size_t kElfcorehdrArgLength =
    sizeof(kElfcorehdrArgPrefix) - 1 + kElfcorehdrAddressDigits;

// What sizing assumes about a system it cannot read (pack on a build host,
// or a kernel that has no reservation to plan in). Each errs high: a count
// too large costs a few KiB of reservation, one too small fails to arm.
//
// Regions in the first kernel's memory map (/proc/iomem top level). The
// capture kernel's e820 table copies its non-RAM regions
// (CaptureKernelMemoryMap); QEMU has about 10, PCs and servers 20 to 60.
inline constexpr size_t kAssumedFirstKernelRegions = 64;
// "System RAM" ranges, each a PT_LOAD of the ELF core header: QEMU has 2,
// PCs 3 to 6 (below 640 KiB, below the PCI hole, above 4 GiB, and holes
// the firmware punches).
inline constexpr size_t kAssumedRamRanges = 8;

// A bundle's capture kernel, parsed once for sizing and for the arm plan:
// the bzImage's setup header (command line size, initrd limits, and the
// kernel piece when it is staged as a bzImage) and, if the bundle carries
// one, the prepared kernel image that is staged instead.
struct CaptureKernel {
  BzImageInfo bzimage;
  // Views into bundle.capture_kernel_image: valid while the bundle is.
  std::optional<KernelImage> prepared;
};

// Parses bundle.capture_kernel and bundle.capture_kernel_image. Errors say
// which part is bad ("bundle's capture kernel: ...", "bundle: ...").
absl::StatusOr<CaptureKernel> ParseCaptureKernel(const BundleContents& bundle);

// The sizes the planner needs for `bundle` on a system with
// `first_kernel_regions` memory map regions, `crash_notes` CPUs with crash
// notes and `ram_ranges` System RAM ranges (without placement): used by
// `saveoops plan` and by BuildArmPlan. `kernel` is ParseCaptureKernel of
// the bundle.
CaptureSizes CaptureSizesFor(const BundleContents& bundle, const CaptureKernel& kernel,
                             size_t first_kernel_regions, size_t crash_notes, size_t ram_ranges,
                             uint64_t runtime_headroom);

// CaptureSizesFor on a system not known yet: kAssumedFirstKernelRegions,
// one crash note per CPU configured on the machine running this
// (sysconf(_SC_NPROCESSORS_CONF); at pack time, the build host's, usually
// at least the target's), kAssumedRamRanges.
CaptureSizes CaptureSizesForUnknownSystem(const BundleContents& bundle, const CaptureKernel& kernel,
                                          uint64_t runtime_headroom);

// Memory the kernel piece needs for a prepared image whose part (header +
// LZ4 block) is `image_part_size` bytes: the kernel's span, and room above
// the unpacked bytes for the image part, which is staged whole at the top of
// the piece so that unpacking never writes over it and its digest is the
// bundle's.
uint64_t PreparedKernelPieceSize(const KernelImage& image, uint64_t image_part_size);

// The run-time headroom to size `kernel` with when no one gave one:
// kSaveoopsKernelRuntimeHeadroom for Saveoops' own capture kernel, else
// kDefaultRuntimeHeadroom (calibrated with Debian's kernel).
uint64_t RuntimeHeadroomFor(const CaptureKernel& kernel);

// `bytes` rounded up to a whole kexec page (kPlannerPageSize).
inline uint64_t PageAlign(uint64_t bytes) {
  return (bytes + kPlannerPageSize - 1) & ~(kPlannerPageSize - 1);
}

}  // namespace saveoops

#endif  // SAVEOOPS_ARMING_SIZING_H_
