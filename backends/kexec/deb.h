// The kexec backend's Debian package: `pack --backend=kexec --format=deb`.
//
// saveoops_<version>_amd64.deb carries what builds and arms a bundle on the
// target (saveoops, saveoops-capture, purgatory.bin, update-bundles), the
// systemd units, the journal catalog entry, the initramfs-tools hook and
// init-bottom script, /etc/saveoops/saveoops.conf (a conffile), the
// /etc/kernel/postinst.d and postrm.d hooks, and the maintainer scripts
// (backends/kexec/deb/). Nothing of the build host's kernel goes in: the
// target builds one bundle per installed kernel.
#ifndef SAVEOOPS_BACKENDS_KEXEC_DEB_H_
#define SAVEOOPS_BACKENDS_KEXEC_DEB_H_

#include <string>

#include "absl/status/statusor.h"
#include "backends/backend.h"

namespace saveoops {

struct DebSpec {
  std::string maintainer;  // "Name <address>", the control file's Maintainer.
  std::string store;       // store= of the shipped saveoops.conf.
};

// The package's file name: saveoops_<version>_amd64.deb.
std::string DebFileName();

// Builds the package with dpkg-deb into directory `ctx.out` (which exists and
// is trusted), through a private staging directory there; returns the .deb's
// path. A failure leaves no .deb of this version behind that was not there.
absl::StatusOr<std::string> WriteDebPackage(const PackContext& ctx, const DebSpec& spec);

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_KEXEC_DEB_H_
