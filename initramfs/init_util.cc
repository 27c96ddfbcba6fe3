#include "initramfs/init_util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <termios.h>
#include <unistd.h>

namespace saveoops {
namespace {

// finit_module(2) flag: the file is compressed and the kernel decompresses
// it (include/uapi/linux/module.h).
constexpr int kModuleInitCompressedFile = 4;

void WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere left to report to
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// The directory holding `path` ("/" for "/proc").
std::string Parent(const char* path) {
  std::string p = path;
  const size_t slash = p.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}

}  // namespace

std::string ReadFileOrEmpty(const char* path) {
  std::string out;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

void ConsoleSay(int fd, std::string_view prefix, std::string_view text, bool drain) {
  std::string line;
  line.reserve(prefix.size() + text.size() + 1);
  line.append(prefix.data(), prefix.size());
  line.append(text.data(), text.size());
  line += '\n';
  WriteAll(fd, line);
  if (drain) tcdrain(fd);
}

void UseConsole() {
  const int console = open("/dev/console", O_RDWR | O_CLOEXEC);
  if (console < 0) return;
  dup2(console, STDIN_FILENO);
  dup2(console, STDOUT_FILENO);
  dup2(console, STDERR_FILENO);
  if (console > STDERR_FILENO) close(console);
}

bool KmsgLog::Open() {
  if (fd_ < 0) fd_ = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
  return fd_ >= 0;
}

void KmsgLog::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool KmsgLog::Write(int level, std::string_view text) {
  if (fd_ < 0) return false;
  // One record per write(2).
  std::string rec = "<" + std::to_string(level) + ">" + prefix_;
  rec.append(text.data(), text.size() < kKmsgMaxText ? text.size() : kKmsgMaxText);
  rec += '\n';
  return write(fd_, rec.data(), rec.size()) == static_cast<ssize_t>(rec.size());
}

void KmsgLog::Say(int level, std::string_view text) {
  if (!Write(level, text)) ConsoleSay(STDERR_FILENO, prefix_, text);
}

bool IsMounted(const PseudoFs& fs) {
  struct stat target, parent;
  if (stat(fs.target, &target) != 0 || stat(Parent(fs.target).c_str(), &parent) != 0) {
    return false;
  }
  // A mount point is on another device than its directory's parent.
  if (target.st_dev == parent.st_dev) return false;
  if (fs.magic == 0) return true;
  struct statfs st;
  return statfs(fs.target, &st) == 0 && static_cast<long>(st.f_type) == fs.magic;
}

int PseudoMounts::Mount(const PseudoFs& fs, unsigned long flags) {
  if (IsMounted(fs)) return 0;
  mkdir(fs.target, 0755);
  if (mount(fs.source, fs.target, fs.type, flags, nullptr) == 0) {
    mounted_.push_back(fs.target);
    return 0;
  }
  return errno == EBUSY ? 0 : errno;
}

void PseudoMounts::UndoAll(bool detach,
                           const std::function<void(const char* target, int error)>& failed) {
  for (auto it = mounted_.rbegin(); it != mounted_.rend(); ++it) {
    if (umount2(it->c_str(), detach ? MNT_DETACH : 0) != 0 && failed) failed(it->c_str(), errno);
  }
  mounted_.clear();
}

ModuleCompression ModuleCompressionOf(const uint8_t* head, size_t size) {
  // xz: FD '7zXZ' 00 (tukaani.org xz-file-format 2.1.1.1); zstd: frame magic
  // 0xFD2FB528 little-endian (RFC 8878 3.1.1); gzip: 1F 8B (RFC 1952 2.3.1).
  if (size >= 4 && head[0] == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X') {
    return ModuleCompression::kXz;
  }
  if (size >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) {
    return ModuleCompression::kZstd;
  }
  if (size >= 2 && head[0] == 0x1f && head[1] == 0x8b) return ModuleCompression::kGzip;
  return ModuleCompression::kNone;
}

const char* ModuleCompressionName(ModuleCompression c) {
  switch (c) {
    case ModuleCompression::kNone:
      return "uncompressed";
    case ModuleCompression::kXz:
      return "xz";
    case ModuleCompression::kZstd:
      return "zstd";
    case ModuleCompression::kGzip:
      return "gzip";
  }
  return "unknown";
}

std::string LoadModuleFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "module " + path + ": " + strerror(errno);
  uint8_t head[4] = {};
  const ssize_t got = pread(fd, head, sizeof(head), 0);
  const ModuleCompression c = ModuleCompressionOf(head, got > 0 ? static_cast<size_t>(got) : 0);
  const int flags = c == ModuleCompression::kNone ? 0 : kModuleInitCompressedFile;
  std::string error;
  if (syscall(SYS_finit_module, fd, "", flags) != 0 && errno != EEXIST) {
    const int err = errno;
    error = "module " + path + ": " + strerror(err);
    // Kernels before 5.17 refuse the flag (EINVAL); without
    // CONFIG_MODULE_DECOMPRESS module_decompress() is EOPNOTSUPP.
    if (flags != 0 && (err == EINVAL || err == EOPNOTSUPP)) {
      error += std::string(" (the file is ") + ModuleCompressionName(c) +
               "-compressed: the kernel must decompress it, which needs Linux >= 5.17 with "
               "CONFIG_MODULE_DECOMPRESS)";
    }
  }
  close(fd);
  return error;
}

int ExecNextInit(const std::string& next_init, int argc, char** argv, char** envp,
                 const ExecInitHooks& hooks) {
  std::vector<std::string> candidates = {next_init};
  for (const char* path : kInitFallbacks) candidates.push_back(path);
  int last_error = ENOENT;
  for (const std::string& path : candidates) {
    if (path.empty()) continue;
    if (access(path.c_str(), X_OK) != 0) {
      last_error = errno;
      if (hooks.missing) hooks.missing(path, last_error);
      continue;
    }
    std::vector<char*> args = {const_cast<char*>(path.c_str())};
    for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    if (hooks.executing) hooks.executing(path);
    execve(path.c_str(), args.data(), envp);
    last_error = errno;
    if (hooks.failed) hooks.failed(path, last_error);
  }
  return last_error;
}

void SyncAndReboot(int how) {
  sync();
  reboot(how);
  for (;;) pause();
}

void SyncAndPowerOff() { SyncAndReboot(RB_POWER_OFF); }

}  // namespace saveoops
