// The files the kexec backend installs on a target, shared by its two
// formats: the tree pack writes with install.sh (one bundle, built by pack
// for the kernel it was given) and the Debian package (one bundle per
// installed kernel, built on the target by /usr/lib/saveoops/update-bundles).
#ifndef SAVEOOPS_BACKENDS_KEXEC_KEXEC_FILES_H_
#define SAVEOOPS_BACKENDS_KEXEC_KEXEC_FILES_H_

#include <string>

namespace saveoops {

inline constexpr char kInstalledBinary[] = "/usr/sbin/saveoops";
// The tree's one bundle.
inline constexpr char kInstalledBundle[] = "/var/lib/saveoops/saveoops.bundle";
// The package's bundles: <dir>/<kernel release>.bundle.
inline constexpr char kInstalledBundleDir[] = "/var/lib/saveoops/bundles";

// Where the arm step finds its bundle.
enum class BundleLayout {
  kOne,        // kInstalledBundle, whatever kernel runs.
  kPerKernel,  // kInstalledBundleDir/<the running kernel's release>.bundle.
};

// saveoops-arm.service: arms at boot (before sysinit.target), disarms at
// shutdown; only on a kernel booted with crashkernel=.
std::string ArmUnit(BundleLayout layout);
// saveoops-collect.service: `saveoops collect` at every boot.
std::string CollectUnit();
// The journal catalog entry for the MESSAGE_ID of a collected panic.
std::string CatalogEntry();
// initramfs-tools hook: saveoops (and the bundle of the kernel the initrd is
// built for) into the initrd.
std::string InitramfsHook(BundleLayout layout);
// initramfs-tools init-bottom script: arms before the real init; never
// blocks boot.
std::string InitBottomScript(BundleLayout layout);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_KEXEC_KEXEC_FILES_H_
