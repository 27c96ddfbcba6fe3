#include "backends/kexec/deb.h"

#include <errno.h>
#include <openssl/md5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "arming/capture_bundle.h"
#include "backends/kexec/deb_scripts.h"
#include "backends/kexec/kexec_files.h"
#include "common/files.h"
#include "common/version.h"
#include "host/config.h"
#include "host/run_tool.h"

namespace saveoops {
namespace {

// One file of the package: its path in the installed system, its bytes and
// mode. Directories are made 0755 on the way.
struct DebFile {
  std::string path;
  std::string bytes;
  mode_t mode;
};

// gzip -9n: the best compression, no name, no time stamp (what Debian
// policy asks of /usr/share/doc and manual pages; reproducible).
absl::StatusOr<std::string> Gzip(const std::string& in, const std::string& what) {
  z_stream z = {};
  // windowBits 15 + 16: a gzip header and trailer.
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError(absl::StrCat("cannot compress ", what, ": deflateInit2 failed"));
  }
  absl::Cleanup end = [&] { deflateEnd(&z); };
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = in.size();
  z.next_out = reinterpret_cast<Bytef*>(&out[0]);
  z.avail_out = out.size();
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
    return absl::InternalError(absl::StrCat("cannot compress ", what, ": deflate failed"));
  }
  out.resize(z.total_out);
  return out;
}

std::string Md5Hex(const std::string& bytes) {
  uint8_t digest[MD5_DIGEST_LENGTH];
  MD5(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), digest);
  std::string hex;
  for (uint8_t b : digest) absl::StrAppendFormat(&hex, "%02x", b);
  return hex;
}

// Text for roff's no-fill mode: backslashes escaped, and a line that would
// read as a request (leading '.' or ') made plain.
std::string RoffLiteral(const std::string& text) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::string l = absl::StrReplaceAll(line, {{"\\", "\\e"}});
    if (!l.empty() && (l[0] == '.' || l[0] == '\'')) l = "\\&" + l;
    absl::StrAppend(&out, l, "\n");
  }
  return out;
}

// saveoops(8): the --help of saveoops and of each of its commands, so the
// manual says exactly what the binary says.
absl::StatusOr<std::string> ManualPage(const std::string& saveoops) {
  std::string top;
  if (absl::Status s = RunTool({saveoops, "--help"}, {}, &top); !s.ok()) return s;
  std::string page =
      absl::StrCat(".TH SAVEOOPS 8 \"\" \"saveoops ", kSaveoopsVersion,
                   "\" \"System Administration\"\n"
                   ".SH NAME\n"
                   "saveoops \\- capture the log of a panicking Linux kernel\n"
                   ".SH SYNOPSIS\n"
                   ".B saveoops\n"
                   ".I COMMAND\n"
                   "[\\fIflags\\fR]\n"
                   ".SH DESCRIPTION\n"
                   "Saveoops stages a small capture kernel in memory reserved at boot\n"
                   "(crashkernel=). When the kernel panics, a purgatory verifies the SHA-256 of\n"
                   "every staged piece and starts the capture kernel, which reads the dead\n"
                   "kernel's log and writes it to a crash-safe record store. At the next boot\n"
                   ".B saveoops collect\n"
                   "copies new records into /var/lib/saveoops/records and the journal.\n"
                   ".PP\n"
                   ".nf\n",
                   RoffLiteral(top), ".fi\n");
  // The commands are the indented first words under "commands:".
  bool in_commands = false;
  for (absl::string_view line : absl::StrSplit(top, '\n')) {
    if (line == "commands:") {
      in_commands = true;
      continue;
    }
    if (!in_commands || !absl::StartsWith(line, "  ")) continue;
    const std::string command(
        absl::StripAsciiWhitespace(line).substr(0, absl::StripAsciiWhitespace(line).find(' ')));
    std::string help;
    if (absl::Status s = RunTool({saveoops, command, "--help"}, {}, &help); !s.ok()) return s;
    absl::StrAppend(&page, ".SH ", absl::AsciiStrToUpper(command), "\n.nf\n", RoffLiteral(help),
                    ".fi\n");
  }
  absl::StrAppend(&page,
                  ".SH FILES\n"
                  ".TP\n/etc/saveoops/saveoops.conf\nsettings: store=, retention=, collect_dir=, "
                  "capture_action=\n"
                  ".TP\n/var/lib/saveoops/bundles/\\fIRELEASE\\fR.bundle\n"
                  "the capture bundle of each installed kernel "
                  "(/usr/lib/saveoops/update-bundles)\n"
                  ".TP\n/var/lib/saveoops/records/\ncollected records (dmesg.txt, record.json)\n"
                  ".TP\n/etc/default/grub.d/saveoops.cfg\nthe crashkernel= of `saveoops plan`\n"
                  ".SH SEE ALSO\n"
                  ".BR journalctl (1),\n"
                  ".BR kexec_load (2)\n");
  return page;
}

std::string ControlFile(const DebSpec& spec, uint64_t installed_kib) {
  return absl::StrCat(
      "Package: saveoops\n"
      "Version: ",
      kSaveoopsVersion,
      "\n"
      "Architecture: amd64\n"
      "Maintainer: ",
      spec.maintainer,
      "\n"
      "Installed-Size: ",
      installed_kib,
      "\n"
      "Section: admin\n"
      "Priority: optional\n"
      "Recommends: initramfs-tools\n"
      "Description: capture the log of a panicking Linux kernel\n"
      " Saveoops stages a small capture kernel in memory reserved at boot. When\n"
      " the kernel panics, a purgatory verifies the SHA-256 of every staged piece\n"
      " and starts the capture kernel, which reads the dead kernel's log out of\n"
      " its memory and writes it to a crash-safe record store (a partition, or a\n"
      " store file on an ext4 or xfs root file system). At the next boot the\n"
      " record is collected into /var/lib/saveoops/records and the journal.\n"
      " .\n"
      " The package builds a capture bundle for every installed kernel (again\n"
      " whenever a kernel package is installed or removed), creates the store\n"
      " file, and puts the crashkernel= it needs into GRUB's settings.\n");
}

std::string Changelog(const DebSpec& spec) {
  return absl::StrCat("saveoops (", kSaveoopsVersion,
                      ") unstable; urgency=medium\n"
                      "\n"
                      "  * Saveoops ",
                      kSaveoopsVersion,
                      ", packaged by pack --backend=kexec --format=deb.\n"
                      "\n"
                      " -- ",
                      spec.maintainer, "  ", kSaveoopsReleaseDate, "\n");
}

std::string CopyrightFile() {
  return "Saveoops: capture the log of a panicking Linux kernel.\n"
         "\n"
         "Copyright 2026 the Saveoops developers.\n"
         "\n"
         "This package was built from the Saveoops source tree with\n"
         "`pack --backend=kexec --format=deb`; its license is the license of that\n"
         "source tree.\n";
}

// What lintian flags by design, each with its reason (README, "The Debian
// package" lists them too).
std::string LintianOverrides() {
  return "# saveoops-capture is /init of the capture kernel's initramfs, which holds no\n"
         "# C library and no loader: it must be static.\n"
         "saveoops: statically-linked-binary [usr/lib/saveoops/saveoops-capture]\n"
         "# saveoops is one static build for every backend: pack's tree and images copy\n"
         "# it into initramfs images that have no library resolver. A security fix in\n"
         "# zlib or bzip2 (linked in for compressed kernels and modules) needs a rebuild\n"
         "# of this package.\n"
         "saveoops: statically-linked-binary [usr/sbin/saveoops]\n"
         "saveoops: embedded-library bzip2 [usr/sbin/saveoops]\n"
         "saveoops: embedded-library zlib [usr/sbin/saveoops]\n";
}

absl::Status MakeDirs(const std::string& root, const std::string& path) {
  std::string at = root;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    absl::StrAppend(&at, "/", part);
    if (mkdir(at.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(absl::StrFormat("cannot create %s: %s", at, strerror(errno)));
    }
    if (chmod(at.c_str(), 0755) != 0) {
      return absl::InternalError(absl::StrFormat("cannot chmod %s: %s", at, strerror(errno)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadInput(const std::string& path, const std::string& what) {
  return ReadTextFileBounded(path, kMaxBundleFileBytes, what);
}

}  // namespace

std::string DebFileName() { return absl::StrCat("saveoops_", kSaveoopsVersion, "_amd64.deb"); }

absl::StatusOr<std::string> WriteDebPackage(const PackContext& ctx, const DebSpec& spec) {
  ctx.progress("collecting the package's files");
  absl::StatusOr<std::string> saveoops = ReadInput(ctx.saveoops_binary_path, "saveoops binary");
  if (!saveoops.ok()) return saveoops.status();
  absl::StatusOr<std::string> capture =
      ReadInput(ctx.capture_binary_path, "saveoops-capture binary");
  if (!capture.ok()) return capture.status();
  absl::StatusOr<std::string> purgatory = ReadInput(ctx.purgatory_path, "purgatory");
  if (!purgatory.ok()) return purgatory.status();
  absl::StatusOr<std::string> manual = ManualPage(ctx.saveoops_binary_path);
  if (!manual.ok()) return manual.status();
  absl::StatusOr<std::string> manual_gz = Gzip(*manual, "the manual page");
  if (!manual_gz.ok()) return manual_gz.status();
  absl::StatusOr<std::string> changelog_gz = Gzip(Changelog(spec), "the changelog");
  if (!changelog_gz.ok()) return changelog_gz.status();

  const std::vector<DebFile> files = {
      {kInstalledBinary, *saveoops, 0755},
      {"/usr/lib/saveoops/saveoops-capture", *capture, 0755},
      {"/usr/lib/saveoops/purgatory.bin", *purgatory, 0644},
      {"/usr/lib/saveoops/update-bundles", kDeb_update_bundles, 0755},
      {"/lib/systemd/system/saveoops-arm.service", ArmUnit(BundleLayout::kPerKernel), 0644},
      {"/lib/systemd/system/saveoops-collect.service", CollectUnit(), 0644},
      {"/usr/lib/systemd/catalog/saveoops.catalog", CatalogEntry(), 0644},
      {"/usr/share/initramfs-tools/hooks/saveoops", InitramfsHook(BundleLayout::kPerKernel), 0755},
      {"/usr/share/initramfs-tools/scripts/init-bottom/saveoops",
       InitBottomScript(BundleLayout::kPerKernel), 0755},
      {"/etc/saveoops/saveoops.conf", DefaultSaveoopsConfigText(spec.store), 0644},
      // 00: before initramfs-tools' hook, whose initrd carries the bundle.
      {"/etc/kernel/postinst.d/00saveoops", kDeb_kernel_postinst, 0755},
      {"/etc/kernel/postrm.d/00saveoops", kDeb_kernel_postrm, 0755},
      {"/usr/share/doc/saveoops/copyright", CopyrightFile(), 0644},
      {"/usr/share/doc/saveoops/changelog.gz", *changelog_gz, 0644},
      {"/usr/share/man/man8/saveoops.8.gz", *manual_gz, 0644},
      {"/usr/share/lintian/overrides/saveoops", LintianOverrides(), 0644},
  };
  uint64_t installed_kib = 0;
  std::string md5sums, conffiles;
  for (const DebFile& f : files) {
    installed_kib += (f.bytes.size() + 1023) / 1024;
    absl::StrAppend(&md5sums, Md5Hex(f.bytes), "  ", f.path.substr(1), "\n");
    if (absl::StartsWith(f.path, "/etc/")) absl::StrAppend(&conffiles, f.path, "\n");
  }
  const std::vector<DebFile> control = {
      {"/DEBIAN/control", ControlFile(spec, installed_kib), 0644},
      {"/DEBIAN/md5sums", md5sums, 0644},
      {"/DEBIAN/conffiles", conffiles, 0644},
      // initramfs-tools rebuilds the newest kernel's initrd once dpkg is done.
      {"/DEBIAN/triggers", "activate-noawait update-initramfs\n", 0644},
      {"/DEBIAN/postinst", kDeb_postinst, 0755},
      {"/DEBIAN/prerm", kDeb_prerm, 0755},
      {"/DEBIAN/postrm", kDeb_postrm, 0755},
  };

  std::string stage = absl::StrCat(ctx.out, "/.saveoops-deb.XXXXXX");
  if (mkdtemp(&stage[0]) == nullptr) {
    return absl::InternalError(absl::StrFormat("cannot create %s: %s", stage, strerror(errno)));
  }
  absl::Cleanup remove_stage = [&] { (void)RemoveTree(stage); };
  const std::string root = stage + "/root";
  ctx.progress(absl::StrCat("staging ", files.size(), " files in ", root));
  if (absl::Status s = MakeDirs(stage, "root"); !s.ok()) return s;
  for (const std::vector<DebFile>* list : {&files, &control}) {
    for (const DebFile& f : *list) {
      if (absl::Status s = MakeDirs(root, DirectoryOf(f.path)); !s.ok()) return s;
      if (absl::Status s = WriteFileAtomic(root + f.path, f.bytes, f.mode); !s.ok()) return s;
    }
  }
  const std::string built = stage + "/saveoops.deb";
  ctx.progress("dpkg-deb --build");
  if (absl::Status s = RunTool({"dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, built});
      !s.ok()) {
    return s;
  }
  const std::string deb = absl::StrCat(ctx.out, "/", DebFileName());
  if (chmod(built.c_str(), 0644) != 0 || rename(built.c_str(), deb.c_str()) != 0) {
    return absl::InternalError(
        absl::StrFormat("cannot put %s in place as %s: %s", built, deb, strerror(errno)));
  }
  if (absl::Status s = FsyncDirectory(ctx.out); !s.ok()) return s;
  return deb;
}

}  // namespace saveoops
