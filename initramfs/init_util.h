// What the programs Saveoops runs as the first process of an initramfs
// share: saveoops-capture (capture/capture_main.cc), saveoops-early-arm
// (backends/syslinux), saveoops-uefi-arm (backends/uefi), the e2e guest's
// init (e2e/guest_init.cc) and the benchmark's inits (bench/). No absl and
// no iostream: the capture binary is built for size.
//
// A PID-1 program reads like its steps:
//   PseudoMounts mounts;
//   mounts.Mount(kProcFs);  mounts.Mount(kSysFs);  mounts.Mount(kDevTmpFs);
//   UseConsole();
//   KmsgLog log("saveoops-x: ");
//   log.Open();
//   ... log.Say(kLogNotice, "armed") ...
//   mounts.UndoAll();
//   ExecNextInit("/init", argc, argv, environ);
#ifndef SAVEOOPS_INITRAMFS_INIT_UTIL_H_
#define SAVEOOPS_INITRAMFS_INIT_UTIL_H_

#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace saveoops {

// The whole file at `path` (a /proc file, a module list, a log), or "" if it
// cannot be opened.
std::string ReadFileOrEmpty(const char* path);

// ---- console and kernel log

// Kernel log levels (include/linux/kern_levels.h).
inline constexpr int kLogErr = 3;
inline constexpr int kLogNotice = 5;

// Longest text one /dev/kmsg record carries here: the kernel refuses a
// write longer than a record (PRINTKRB_RECORD_MAX, 1024 bytes with the
// "<N>" prefix, kernel/printk/printk.c devkmsg_write()).
inline constexpr size_t kKmsgMaxText = 900;

// Writes `prefix` `text` "\n" to `fd` in one write(2). With `drain`, waits
// until a tty has sent it (tcdrain): the kernel's printk goes to the same
// UART directly, and a kernel line can otherwise land inside ours.
void ConsoleSay(int fd, std::string_view prefix, std::string_view text, bool drain = false);

// Makes /dev/console the standard input, output and error (the kernel
// opens it for PID 1 only if the initramfs has a /dev/console node;
// devtmpfs has one).
void UseConsole();

// The kernel log (/dev/kmsg): lines show on the console (per loglevel), in
// dmesg, and in the very record a later panic captures. /dev/kmsg
// rate-limits user writes (printk_devkmsg=ratelimit: 10 per 5 s): log
// outcomes here, details on the console.
class KmsgLog {
 public:
  // `prefix` starts every line, e.g. "saveoops-uefi-arm: ".
  explicit KmsgLog(std::string prefix) : prefix_(std::move(prefix)) {}
  ~KmsgLog() { Close(); }
  KmsgLog(const KmsgLog&) = delete;
  KmsgLog& operator=(const KmsgLog&) = delete;

  // Opens /dev/kmsg (devtmpfs must be mounted); false if it cannot.
  bool Open();
  void Close();
  bool is_open() const { return fd_ >= 0; }

  // One record at `level`, `text` cut to kKmsgMaxText; false if /dev/kmsg
  // is not open or refused it.
  bool Write(int level, std::string_view text);
  // Write(), falling back to standard error (the console the kernel gave
  // PID 1) if the kernel log cannot take it.
  void Say(int level, std::string_view text);
  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
  int fd_ = -1;
};

// ---- pseudo file systems

struct PseudoFs {
  const char* source;
  const char* target;
  const char* type;
  // statfs f_type (include/uapi/linux/magic.h); 0: any file system
  // mounted on target counts.
  long magic;
};
inline constexpr PseudoFs kProcFs = {"proc", "/proc", "proc", 0x9fa0};
inline constexpr PseudoFs kSysFs = {"sysfs", "/sys", "sysfs", 0x62656572};
// devtmpfs reports tmpfs' or ramfs' magic, like the rootfs it may sit on:
// only "a mount on /dev" tells it apart.
inline constexpr PseudoFs kDevTmpFs = {"devtmpfs", "/dev", "devtmpfs", 0};
inline constexpr PseudoFs kEfivarFs = {"efivarfs", "/sys/firmware/efi/efivars", "efivarfs",
                                       static_cast<long>(0xde5e81e4)};

// True if a file system of fs.type (fs.magic) is mounted on fs.target.
bool IsMounted(const PseudoFs& fs);

// Mounts pseudo file systems and remembers which it mounted, so that the
// next init finds the tree as the kernel left it.
class PseudoMounts {
 public:
  // Creates fs.target and mounts fs there unless it is mounted already
  // (also when mount(2) says EBUSY: devtmpfs.mount=1 mounts /dev before
  // init runs). Returns 0, or the errno of the failed mount.
  int Mount(const PseudoFs& fs, unsigned long flags = 0);
  // Unmounts what Mount() mounted, last first (MNT_DETACH with `detach`).
  // `failed` hears of each unmount that failed, with its errno.
  void UndoAll(bool detach = false,
               const std::function<void(const char* target, int error)>& failed = nullptr);

 private:
  std::vector<std::string> mounted_;
};

// ---- kernel modules

enum class ModuleCompression { kNone, kXz, kZstd, kGzip };

// What the first bytes of a module file say it is compressed with (xz, zstd,
// gzip magics; anything else is taken as a plain ELF module).
ModuleCompression ModuleCompressionOf(const uint8_t* head, size_t size);
const char* ModuleCompressionName(ModuleCompression c);

// Loads the module file at `path` with finit_module(2). A compressed file is
// handed to the kernel to decompress (MODULE_INIT_COMPRESSED_FILE, Linux
// >= 5.17 with CONFIG_MODULE_DECOMPRESS); no decompressor is linked here. A
// module loaded already counts as loaded. Returns "" or a message naming
// the file.
std::string LoadModuleFile(const std::string& path);

// ---- handing over and stopping

// The kernel's own list when its init is missing (init/main.c,
// kernel_init()), tried after the init a program was told to run.
inline constexpr const char* kInitFallbacks[] = {"/sbin/init", "/etc/init", "/bin/init", "/bin/sh"};

struct ExecInitHooks {
  // `path` is missing or not executable (access(2) failed with `error`).
  std::function<void(const std::string& path, int error)> missing;
  // About to execve `path`.
  std::function<void(const std::string& path)> executing;
  // execve(`path`) failed with `error`.
  std::function<void(const std::string& path, int error)> failed;
};

// Executes `next_init`, else each of kInitFallbacks, as this process (PID 1
// stays PID 1), with argv[1, argc) and `envp` passed on. Returns only if
// none could be executed, with the last errno.
int ExecNextInit(const std::string& next_init, int argc, char** argv, char** envp,
                 const ExecInitHooks& hooks = {});

// sync(2), then reboot(2) with `how` (RB_AUTOBOOT, RB_POWER_OFF,
// RB_HALT_SYSTEM); never returns.
[[noreturn]] void SyncAndReboot(int how);
[[noreturn]] void SyncAndPowerOff();

}  // namespace saveoops

#endif  // SAVEOOPS_INITRAMFS_INIT_UTIL_H_
