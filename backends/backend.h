// The one interface every Saveoops backend implements for //tools:pack.
//
// pack does the common work once — the capture initramfs, the bundle, the
// planner's crashkernel= figure — and hands it to the backend named by
// --backend, which turns it into its own artifact (a directory of files and
// hooks for kexec, a BIOS-bootable disk image for syslinux, a GPT image with
// an ESP for uefi). Backends register themselves at static-initialisation
// time (their cc_library is alwayslink), so pack knows only this header.
#ifndef SAVEOOPS_BACKENDS_BACKEND_H_
#define SAVEOOPS_BACKENDS_BACKEND_H_

#include <stdint.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/bundle.h"
#include "host/flags.h"
#include "host/machine.h"

namespace saveoops {

// Everything pack prepared, shared by all backends.
struct PackContext {
  // The first kernel (the one users boot) and its initrd; may be empty for
  // backends that arm at run time only.
  std::string first_kernel_path;
  std::string first_initrd_path;
  // Extra first-kernel command line (--append).
  std::string first_append;
  // The capture bundle, already verified, and where pack wrote it.
  BundleContents bundle;
  std::string bundle_path;
  // The static saveoops binary (arm, status, show...) to ship, and what it
  // needs to build bundles on a target (the Debian package does).
  std::string saveoops_binary_path;
  std::string capture_binary_path;
  std::string purgatory_path;
  // Reservation for crashkernel=: the planner's smallest figure plus
  // kCrashkernelMarginBytes (arming/sizing.h), rounded up to a MiB.
  uint64_t crashkernel_bytes = 0;
  // The output path (--out), as given or the backend's default.
  std::string out;
  // Reports one progress line ("[3/6] writing FAT partition...").
  std::function<void(const std::string&)> progress;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // "kexec", "syslinux", "uefi".
  virtual std::string name() const = 0;
  // One line for `pack --help`.
  virtual std::string description() const = 0;
  // The --out default when the user gives none.
  virtual std::string default_out() const = 0;
  // Backend-specific flags, declared on pack's command line.
  virtual void DeclareFlags(CommandLine& cl) const {}
  // Builds the artifact. Errors name the bad input.
  virtual absl::Status Pack(const PackContext& context, const CommandLine& cl) const = 0;
};

// Registers a backend; called from a static initialiser in each backend.
bool RegisterBackend(std::unique_ptr<Backend> backend);
// The registered backends, by name order.
std::vector<const Backend*> Backends();
const Backend* FindBackend(const std::string& name);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_BACKEND_H_
