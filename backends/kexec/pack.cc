// The kexec backend's pack step: a directory a distro (or a user) installs to
// arm the capture kernel at every boot, two ways:
//   - systemd: saveoops-arm.service runs `saveoops arm` early in boot;
//   - initramfs-tools: a hook copies saveoops and the bundle into the initrd
//     and an init-bottom script arms before the root filesystem's /sbin/init,
//     so panics in early userspace are caught too.
// and collects at every boot: saveoops-collect.service runs `saveoops
// collect` (records into /var/lib/saveoops/records and the journal), with
// /etc/saveoops/saveoops.conf (installed only if there is none) naming the
// store, and a journal catalog entry for Saveoops' MESSAGE_ID.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "arming/capture_bundle.h"
#include "backends/backend.h"
#include "backends/kexec/deb.h"
#include "backends/kexec/kexec_files.h"
#include "common/files.h"
#include "host/config.h"
#include "host/flags.h"
#include "store/journal.h"

namespace saveoops {
namespace {

// Every file goes through AtomicFile: a temporary name created with
// O_EXCL|O_NOFOLLOW inside --out, renamed over the target, so a symlink
// planted at a target's name is replaced, never written through.
absl::Status WriteFile(const std::string& path, const std::string& bytes, mode_t mode) {
  return WriteFileAtomic(path, bytes, mode);
}

absl::Status CopyFile(const std::string& from, const std::string& what, const std::string& to,
                      mode_t mode) {
  StatusOr<std::string> bytes = ReadTextFileBounded(from, kMaxBundleFileBytes, what);
  if (!bytes.ok()) return bytes.status();
  return WriteFile(to, *bytes, mode);
}

absl::Status MakeDir(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return absl::AlreadyExistsError(
        absl::StrCat(path, " exists and is not a directory; choose another --out"));
  }
  if (mkdir(path.c_str(), 0755) == 0) {
    // 0755 whatever the umask: install.sh refuses group-writable trees.
    if (chmod(path.c_str(), 0755) != 0) {
      return absl::InternalError(absl::StrFormat("cannot chmod %s: %s", path, strerror(errno)));
    }
  } else if (errno != EEXIST) {
    return absl::InternalError(absl::StrFormat("cannot create %s: %s", path, strerror(errno)));
  }
  // An existing directory (a previous pack's) must still be ours alone.
  return CheckTrustedDirectory(path, "--out");
}

std::string InstallScript(uint64_t crashkernel_mib) {
  return absl::StrCat(
      "#!/bin/sh\n"
      "# Installs the Saveoops kexec backend on this machine (run as root).\n"
      "set -eu\n"
      "here=$(cd \"$(dirname \"$0\")\" && pwd)\n"
      "# What another user can change is not installed as root: refuse a\n"
      "# directory (or anything in it) writable by group or others, owned by\n"
      "# someone other than root or the caller, or a symlink.\n"
      "bad=$(find \"$here\" \\( -type l -o -perm /022 -o \\( ! -uid 0 ! -uid \"$(id -u)\" \\) \\) "
      "-print -quit)\n"
      "if [ -n \"$bad\" ]; then\n"
      "  echo \"saveoops install.sh: refusing to run: $bad is a symlink, writable by group or "
      "others, or owned by another user\" >&2\n"
      "  exit 1\n"
      "fi\n"
      "install -D -m 0755 \"$here/bin/saveoops\" ",
      kInstalledBinary, "\n", "install -D -m 0644 \"$here/saveoops.bundle\" ", kInstalledBundle,
      "\n",
      "install -D -m 0644 \"$here/systemd/saveoops-arm.service\" "
      "/etc/systemd/system/saveoops-arm.service\n"
      "install -D -m 0644 \"$here/systemd/saveoops-collect.service\" "
      "/etc/systemd/system/saveoops-collect.service\n"
      "# The settings are the user's once installed: never overwritten.\n"
      "if [ ! -e /etc/saveoops/saveoops.conf ]; then\n"
      "  install -D -m 0644 \"$here/saveoops.conf\" /etc/saveoops/saveoops.conf\n"
      "fi\n"
      "install -D -m 0644 \"$here/catalog/saveoops.catalog\" "
      "/usr/lib/systemd/catalog/saveoops.catalog\n"
      "if command -v journalctl >/dev/null; then journalctl --update-catalog || true; fi\n"
      "if [ -d /etc/initramfs-tools ]; then\n"
      "  install -D -m 0755 \"$here/initramfs-tools/hooks/saveoops\" "
      "/etc/initramfs-tools/hooks/saveoops\n"
      "  install -D -m 0755 \"$here/initramfs-tools/scripts/init-bottom/saveoops\" "
      "/etc/initramfs-tools/scripts/init-bottom/saveoops\n"
      "  update-initramfs -u\n"
      "fi\n"
      "if command -v systemctl >/dev/null; then\n"
      "  systemctl enable saveoops-arm.service saveoops-collect.service\n"
      "fi\n"
      "grep -q '^store=' /etc/saveoops/saveoops.conf || echo \"saveoops: set store= in "
      "/etc/saveoops/saveoops.conf (the store to arm with and collect from).\"\n"
      "echo \"saveoops: installed. Add crashkernel=",
      crashkernel_mib,
      "M to the kernel command line (e.g. GRUB_CMDLINE_LINUX in /etc/default/grub, then "
      "update-grub) and reboot.\"\n");
}

// The saveoops.conf both formats ship, naming `store`. It must read back
// as written: a store path with a newline or that is not absolute would make
// every arm and collect fail.
absl::StatusOr<std::string> ConfigTextFor(const std::string& store) {
  std::string config = DefaultSaveoopsConfigText(store);
  absl::StatusOr<SaveoopsConfig> parsed = ParseSaveoopsConfig(config, "saveoops.conf");
  if (!parsed.ok() || parsed->store != store) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--store=", store, ": not a path saveoops.conf can hold (absolute, one line)"));
  }
  return config;
}

class KexecBackend : public Backend {
 public:
  std::string name() const override { return "kexec"; }
  std::string description() const override {
    return "files + systemd unit + initramfs-tools hook that arm at boot with kexec_load";
  }
  std::string default_out() const override { return "saveoops-kexec"; }
  void DeclareFlags(CommandLine& cl) const override {
    cl.Flag("store", "",
            "kexec: the store= of the saveoops.conf written (a device or store file path on the "
            "target; default: left for the user to set; --format=deb: /var/lib/saveoops/store, "
            "a store file the package creates)");
    cl.Flag("format", "tree",
            "kexec: tree (files + install.sh, with a bundle built here for --kernel) or deb (a "
            "Debian package, saveoops_VERSION_amd64.deb in --out, that builds a bundle for "
            "each kernel of the target)");
    cl.Flag("deb-maintainer", "Saveoops developers <saveoops@saveoops.invalid>",
            "kexec --format=deb: the package's Maintainer");
  }

  // The tree is built whole in a staging directory beside --out and only
  // then takes --out's place, so a pack that fails midway (a full disk, a
  // missing input) leaves no half-filled directory that install.sh would
  // install, and a previous pack's tree stays as it was.
  absl::Status Pack(const PackContext& ctx, const CommandLine& cl) const override {
    if (cl.Get("format") == "deb") return PackDeb(ctx, cl);
    if (cl.Get("format") != "tree") {
      return absl::InvalidArgumentError(
          absl::StrCat("--format=", cl.Get("format"), ": must be tree or deb"));
    }
    struct stat st;
    if (lstat(ctx.out.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      return absl::AlreadyExistsError(
          absl::StrCat(ctx.out, " exists and is not a directory; choose another --out"));
    }
    // --out's directory passed pack's CheckTrustedDirectory: nobody else
    // can plant or replace names beside it.
    std::string stage = ctx.out + ".tmp-XXXXXX";
    if (mkdtemp(&stage[0]) == nullptr) {
      return absl::InternalError(absl::StrFormat("cannot create %s: %s", stage, strerror(errno)));
    }
    // mkdtemp makes it 0700; the tree is 0755 like the directories below.
    if (chmod(stage.c_str(), 0755) != 0) {
      const int err = errno;
      rmdir(stage.c_str());
      return absl::InternalError(absl::StrFormat("cannot chmod %s: %s", stage, strerror(err)));
    }
    bool published = false;
    absl::Cleanup remove_stage = [&] {
      if (!published) (void)RemoveTree(stage);
    };
    if (absl::Status s = WriteTree(ctx, cl, stage); !s.ok()) return s;
    if (absl::Status s = Publish(stage, ctx.out); !s.ok()) return s;
    published = true;
    const uint64_t mib = ctx.crashkernel_bytes >> 20;
    ctx.progress(absl::StrCat("install with: sudo ", ctx.out,
                              "/install.sh; boot with crashkernel=", mib, "M"));
    return absl::OkStatus();
  }

 private:
  static absl::Status PackDeb(const PackContext& ctx, const CommandLine& cl) {
    DebSpec spec;
    spec.maintainer = cl.Get("deb-maintainer");
    spec.store = cl.Get("store").empty() ? "/var/lib/saveoops/store" : cl.Get("store");
    if (absl::Status s = ConfigTextFor(spec.store).status(); !s.ok()) return s;
    if (spec.maintainer.find('\n') != std::string::npos ||
        spec.maintainer.find('<') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("--deb-maintainer=", spec.maintainer,
                                                     ": must be one line, \"Name <address>\""));
    }
    if (absl::Status s = MakeDir(ctx.out); !s.ok()) return s;
    absl::StatusOr<std::string> deb = WriteDebPackage(ctx, spec);
    if (!deb.ok()) return deb.status();
    ctx.progress(absl::StrCat("install with: sudo apt install ", *deb,
                              " (it builds a bundle per installed kernel and sets crashkernel= "
                              "for GRUB), then reboot"));
    return absl::OkStatus();
  }

  // Puts the finished `stage` at `out`: a plain rename when there is no
  // `out`, else an atomic exchange with the previous tree, which is then
  // removed. Either way `out` is at every moment a whole tree.
  static absl::Status Publish(const std::string& stage, const std::string& out) {
    if (rename(stage.c_str(), out.c_str()) != 0) {
      if (errno != EEXIST && errno != ENOTEMPTY) {
        return absl::InternalError(
            absl::StrFormat("cannot rename %s to %s: %s", stage, out, strerror(errno)));
      }
      if (renameat2(AT_FDCWD, stage.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) != 0) {
        return absl::InternalError(
            absl::StrFormat("cannot put %s in place of %s: %s", stage, out, strerror(errno)));
      }
      // `stage` now names the previous tree.
      if (absl::Status s = RemoveTree(stage); !s.ok()) {
        std::fprintf(stderr, "pack: note: the previous %s is left as %s: %s\n", out.c_str(),
                     stage.c_str(), std::string(s.message()).c_str());
      }
    }
    return FsyncDirectory(DirectoryOf(out));
  }

  static absl::Status WriteTree(const PackContext& ctx, const CommandLine& cl,
                                const std::string& out) {
    for (const std::string& d :
         {out, out + "/bin", out + "/systemd", out + "/catalog", out + "/initramfs-tools",
          out + "/initramfs-tools/hooks", out + "/initramfs-tools/scripts",
          out + "/initramfs-tools/scripts/init-bottom"}) {
      if (absl::Status s = MakeDir(d); !s.ok()) return s;
    }
    ctx.progress("copying saveoops and the bundle");
    if (absl::Status s =
            CopyFile(ctx.saveoops_binary_path, "saveoops binary", out + "/bin/saveoops", 0755);
        !s.ok())
      return s;
    if (absl::Status s = CopyFile(ctx.bundle_path, "bundle", out + "/saveoops.bundle", 0644);
        !s.ok())
      return s;
    absl::StatusOr<std::string> config = ConfigTextFor(cl.Get("store"));
    if (!config.ok()) return config.status();
    ctx.progress("writing the systemd units, saveoops.conf, the catalog and initramfs-tools hook");
    const uint64_t mib = ctx.crashkernel_bytes >> 20;
    const std::pair<std::string, std::pair<std::string, mode_t>> files[] = {
        {"/systemd/saveoops-arm.service", {ArmUnit(BundleLayout::kOne), 0644}},
        {"/systemd/saveoops-collect.service", {CollectUnit(), 0644}},
        {"/catalog/saveoops.catalog", {CatalogEntry(), 0644}},
        {"/saveoops.conf", {*config, 0644}},
        {"/initramfs-tools/hooks/saveoops", {InitramfsHook(BundleLayout::kOne), 0755}},
        {"/initramfs-tools/scripts/init-bottom/saveoops",
         {InitBottomScript(BundleLayout::kOne), 0755}},
        {"/install.sh", {InstallScript(mib), 0755}},
        {"/crashkernel.txt", {absl::StrCat("crashkernel=", mib, "M\n"), 0644}},
    };
    for (const auto& [path, content] : files) {
      if (absl::Status s = WriteFile(out + path, content.first, content.second); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
};

const bool kRegistered = RegisterBackend(std::make_unique<KexecBackend>());

}  // namespace
}  // namespace saveoops
