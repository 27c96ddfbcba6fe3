#include "backends/kexec/kexec_files.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "store/journal.h"

namespace saveoops {

std::string ArmUnit(BundleLayout layout) {
  return absl::StrCat(
      "# Arms the Saveoops capture kernel at boot (kexec backend).\n"
      "[Unit]\n"
      "Description=Saveoops: stage the capture kernel for kernel panics\n"
      "Documentation=man:saveoops(8)\n"
      "DefaultDependencies=no\n"
      "After=local-fs.target\n"
      "Before=sysinit.target shutdown.target\n"
      "Conflicts=shutdown.target\n"
      "ConditionKernelCommandLine=crashkernel\n",
      layout == BundleLayout::kOne
          ? ""
          : absl::StrCat("ConditionPathExists=", kInstalledBundleDir, "/%v.bundle\n"),
      "\n"
      "[Service]\n"
      "Type=oneshot\n"
      "RemainAfterExit=yes\n"
      "ExecStart=",
      kInstalledBinary, " arm --bundle=",
      layout == BundleLayout::kOne ? std::string(kInstalledBundle)
                                   : absl::StrCat(kInstalledBundleDir, "/%v.bundle"),
      "\n", "ExecStop=", kInstalledBinary,
      " disarm\n"
      "\n"
      "[Install]\n"
      "WantedBy=sysinit.target\n");
}

// Collects at boot what the capture wrote (store= of the config).
std::string CollectUnit() {
  return absl::StrCat(
      "# Collects Saveoops records at boot: /var/lib/saveoops/records and the journal.\n"
      "[Unit]\n"
      "Description=Saveoops: collect captured kernel panic records\n"
      "Documentation=man:saveoops(8)\n"
      "After=local-fs.target\n"
      "RequiresMountsFor=/var/lib/saveoops\n"
      "\n"
      "[Service]\n"
      "Type=oneshot\n"
      "ExecStart=",
      kInstalledBinary,
      " collect\n"
      "\n"
      "[Install]\n"
      "WantedBy=multi-user.target\n");
}

// systemd catalog entry (journalctl -x, journalctl --catalog) for the
// MESSAGE_ID of a collected panic record.
std::string CatalogEntry() {
  return absl::StrCat(
      "# Saveoops: the journal entry `saveoops collect` writes for each captured panic.\n"
      "-- ",
      kSaveoopsPanicMessageId,
      "\n"
      "Subject: Kernel panic on boot @SAVEOOPS_BOOT_ID@ captured by Saveoops\n"
      "Defined-By: saveoops\n"
      "Documentation: man:saveoops(8)\n"
      "\n"
      "The kernel of boot @SAVEOOPS_BOOT_ID@ (release @KERNEL_RELEASE@) panicked:\n"
      "@PANIC_REASON@\n"
      "\n"
      "Saveoops' capture kernel saved its log to the record store (store\n"
      "@SAVEOOPS_STORE_UUID@, record @SAVEOOPS_SEQ@), and saveoops collect copied it to\n"
      "@SAVEOOPS_RECORD_DIR@ (dmesg.txt, record.json). The log is the SAVEOOPS_DMESG\n"
      "field of this entry.\n"
      "\n"
      "Panics with the same crash signature (@SAVEOOPS_SIGNATURE@: the panic reason\n"
      "and the first frames of the call trace) are the same bug: list them with\n"
      "journalctl SAVEOOPS_SIGNATURE=@SAVEOOPS_SIGNATURE@, or every panic with\n"
      "journalctl MESSAGE_ID=",
      kSaveoopsPanicMessageId, "\n");
}

std::string InitramfsHook(BundleLayout layout) {
  const std::string copy_bundle =
      layout == BundleLayout::kOne
          ? absl::StrCat("mkdir -p \"${DESTDIR}/var/lib/saveoops\"\n", "cp ", kInstalledBundle,
                         " \"${DESTDIR}", kInstalledBundle, "\"\n")
          // ${version}: the kernel mkinitramfs builds this initrd for.
          : absl::StrCat(
                "# shellcheck disable=SC2154 # mkinitramfs sets it\n"
                "bundle=",
                kInstalledBundleDir,
                "/${version}.bundle\n"
                "if [ -f \"$bundle\" ]; then\n"
                "  mkdir -p \"${DESTDIR}",
                kInstalledBundleDir,
                "\"\n"
                "  cp \"$bundle\" \"${DESTDIR}$bundle\"\n"
                "else\n"
                "  echo \"W: saveoops: no $bundle: this initrd does not arm; "
                "saveoops-arm.service still does (/usr/lib/saveoops/update-bundles "
                "${version} builds it)\" >&2\n"
                "fi\n");
  return absl::StrCat(
      "#!/bin/sh\n"
      "# initramfs-tools hook: puts saveoops and the capture bundle into the initrd.\n"
      "PREREQ=\"\"\n"
      "prereqs() { echo \"$PREREQ\"; }\n"
      "case \"$1\" in prereqs) prereqs; exit 0 ;; esac\n"
      "# shellcheck disable=SC1091 # initramfs-tools' own\n"
      ". /usr/share/initramfs-tools/hook-functions\n"
      "copy_exec ",
      kInstalledBinary, " /sbin/saveoops\n", copy_bundle);
}

std::string InitBottomScript(BundleLayout layout) {
  const std::string bundle = layout == BundleLayout::kOne
                                 ? std::string(kInstalledBundle)
                                 : absl::StrCat(kInstalledBundleDir, "/$(uname -r).bundle");
  return absl::StrCat(
      "#!/bin/sh\n"
      "# initramfs-tools init-bottom: arm before the real init runs. Never blocks\n"
      "# boot: a failure is logged and boot continues.\n"
      "PREREQ=\"\"\n"
      "prereqs() { echo \"$PREREQ\"; }\n"
      "case \"$1\" in prereqs) prereqs; exit 0 ;; esac\n"
      "grep -q crashkernel= /proc/cmdline || exit 0\n"
      "bundle=",
      bundle,
      "\n"
      "[ -f \"$bundle\" ] || exit 0\n"
      "/sbin/saveoops arm --bundle=\"$bundle\" >/dev/kmsg 2>&1 || "
      "echo \"saveoops: arming failed; boot continues unprotected\" >/dev/kmsg\n"
      "exit 0\n");
}

}  // namespace saveoops
