#include "backends/syslinux/fat.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "arming/capture_bundle.h"
#include "common/files.h"

namespace saveoops {
namespace {

constexpr uint64_t kSector = 512;
// FAT16 stays economical up to here (32 KiB clusters at 2 GiB is its limit).
constexpr uint64_t kFat32From = uint64_t{1} << 30;

std::string ImageAt(const FatPartition& part) {
  return absl::StrCat(part.image, "@@", part.offset);
}

}  // namespace

absl::StatusOr<std::string> RunTool(const std::vector<std::string>& argv, const std::string& what) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(what, ": tool path must be absolute"));
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat(what, ": pipe: ", strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // A fixed environment: nothing from the user's shell (an MTOOLSRC drive
  // letter mapping, a locale) changes what the tools write.
  const char* env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", "MTOOLS_SKIP_CHECK=1", "HOME=/nonexistent",
                       nullptr};
  pid_t pid = 0;
  const int rc =
      posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), const_cast<char**>(env));
  posix_spawn_file_actions_destroy(&actions);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": cannot run ", argv[0], ": ", strerror(rc)));
  }
  std::string output;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(pipefd[0], buf, sizeof(buf));
    if (n > 0) {
      output.append(buf, n);
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return absl::InternalError(absl::StrCat(what, ": waitpid: ", strerror(errno)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string how = WIFEXITED(status) ? absl::StrCat("exit code ", WEXITSTATUS(status))
                                              : absl::StrCat("signal ", WTERMSIG(status));
    return absl::InternalError(absl::StrCat(what, ": `", absl::StrJoin(argv, " "), "` failed (",
                                            how, ")", output.empty() ? "" : ": ",
                                            absl::StripTrailingAsciiWhitespace(output)));
  }
  return output;
}

absl::Status CheckFatTools(const FatTools& tools) {
  const std::pair<const std::string*, const char*> needed[] = {
      {&tools.mformat, "mtools"}, {&tools.mcopy, "mtools"}, {&tools.syslinux, "syslinux"}};
  for (const auto& [path, package] : needed) {
    if (access(path->c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          *path, " not found: install the Debian package '", package, "' (tools/setup.sh does)"));
    }
  }
  return absl::OkStatus();
}

absl::Status FormatFat(const FatTools& tools, const FatPartition& part) {
  if (part.offset % kSector != 0 || part.size % kSector != 0) {
    return absl::InvalidArgumentError("FAT partition offset and size must be whole sectors");
  }
  std::vector<std::string> argv = {
      tools.mformat, "-i", ImageAt(part), "-T", absl::StrCat(part.size / kSector),   "-h",
      "255",         "-s", "63",          "-H", absl::StrCat(part.offset / kSector), "-v",
      "SAVEOOPS"};
  if (part.size >= kFat32From) argv.push_back("-F");
  argv.push_back("::");
  absl::StatusOr<std::string> out = RunTool(argv, "formatting the FAT partition");
  return out.status();
}

absl::StatusOr<std::string> ReadFatType(const FatPartition& part) {
  UniqueFd fd(open(part.image.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  std::string sector(kSector, '\0');
  if (!fd.valid() ||
      !PreadFull(fd.get(), &sector[0], sector.size(), part.offset, part.image).ok()) {
    return absl::DataLossError(absl::StrCat("cannot read the FAT boot sector of ", part.image,
                                            " at offset ", part.offset));
  }
  for (size_t at : {size_t{54}, size_t{82}}) {
    const std::string type = sector.substr(at, 5);
    if (type == "FAT12" || type == "FAT16" || type == "FAT32") return type;
  }
  return absl::DataLossError(absl::StrCat("no FAT file system type string in the boot sector of ",
                                          part.image, " at offset ", part.offset));
}

absl::Status InstallSyslinux(const FatTools& tools, const FatPartition& part) {
  return RunTool({tools.syslinux, "--install", "--offset", absl::StrCat(part.offset), part.image},
                 "installing Syslinux")
      .status();
}

absl::Status CopyIntoFat(const FatTools& tools, const FatPartition& part,
                         const std::string& host_path, const std::string& fat_name) {
  absl::StatusOr<std::string> out =
      RunTool({tools.mcopy, "-o", "-i", ImageAt(part), host_path, "::" + fat_name},
              absl::StrCat("copying ", host_path, " to the FAT partition as ", fat_name));
  if (!out.ok() && out.status().message().find("Disk full") != absl::string_view::npos) {
    return absl::ResourceExhaustedError(
        absl::StrCat("no room on the image: the FAT partition (", part.size >> 20,
                     " MiB) is full while copying ", host_path, "; raise --fat-size"));
  }
  return out.status();
}

absl::StatusOr<std::string> ReadFromFat(const FatTools& tools, const FatPartition& part,
                                        const std::string& fat_name) {
  char tmpl[] = "/tmp/saveoops-fat.XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) return absl::InternalError(absl::StrCat("mkstemp: ", strerror(errno)));
  close(fd);
  absl::StatusOr<std::string> out =
      RunTool({tools.mcopy, "-o", "-n", "-i", ImageAt(part), "::" + fat_name, tmpl},
              absl::StrCat("reading ", fat_name, " from the FAT partition"));
  std::string bytes;
  if (out.ok()) {
    StatusOr<std::string> read = ReadTextFileBounded(tmpl, kMaxBundleFileBytes, fat_name);
    unlink(tmpl);
    if (!read.ok()) return read.status();
    return *std::move(read);
  }
  unlink(tmpl);
  return out.status();
}

}  // namespace saveoops
