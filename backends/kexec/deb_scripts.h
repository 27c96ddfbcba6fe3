// The Debian package's shell scripts, backends/kexec/deb/*, as compiled in
// by //backends/kexec:deb_scripts_cc.
#ifndef SAVEOOPS_BACKENDS_KEXEC_DEB_SCRIPTS_H_
#define SAVEOOPS_BACKENDS_KEXEC_DEB_SCRIPTS_H_

namespace saveoops {

extern const char kDeb_kernel_postinst[];  // /etc/kernel/postinst.d/00saveoops
extern const char kDeb_kernel_postrm[];    // /etc/kernel/postrm.d/00saveoops
extern const char kDeb_postinst[];         // DEBIAN/postinst
extern const char kDeb_postrm[];           // DEBIAN/postrm
extern const char kDeb_prerm[];            // DEBIAN/prerm
extern const char kDeb_update_bundles[];   // /usr/lib/saveoops/update-bundles

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_KEXEC_DEB_SCRIPTS_H_
