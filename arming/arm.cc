#include "arming/arm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kexec.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/boot_params.h"
#include "common/bootproto.h"
#include "common/bundle_format.h"
#include "common/cmdline.h"
#include "common/elfcore.h"
#include "common/kernel_image.h"
#include "common/sha256.h"
#include "purgatory/purgatory_abi.h"

namespace saveoops {
namespace {

constexpr uint64_t kPage = 4096;
// boot.rst, "64-bit Boot Protocol": the 64-bit entry is 0x200 past the
// protected-mode kernel's load address.
constexpr uint64_t kKernel64BitEntryOffset = kKernel64EntryOffset;
// "elfcorehdr=0x" + 16 hex digits: fixed width, so the command line's length
// (and so the boot_params blob's size) is known before placement.
constexpr char kElfcorehdrFormat[] = "elfcorehdr=0x%016x";
constexpr size_t kElfcorehdrArgLength = 11 + 2 + 16;

uint64_t PageAlign(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

// First-kernel RAM the dump should expose: all System RAM except the crash
// reservation, which is the capture kernel's own memory.
std::vector<PhysRange> DumpableRam(const CrashSystemInfo& system) {
  std::vector<PhysRange> out;
  for (const Range& ram : system.iomem.RangesOf(MemoryType::kRam)) {
    for (const Range& piece : Subtract({ram}, system.crash_reservation)) {
      if (!piece.empty()) out.push_back({piece.start, piece.size});
    }
  }
  return out;
}

absl::StatusOr<std::vector<uint8_t>> BuildCoreHeader(const CrashSystemInfo& system) {
  ElfCoreSpec spec;
  spec.cpu_crash_notes = system.cpu_crash_notes;
  spec.vmcoreinfo_note = system.vmcoreinfo_note;
  spec.kernel_text = system.kernel_image;
  spec.kernel_text_vaddr = system.kernel_image_vaddr != 0
                               ? system.kernel_image_vaddr
                               : kStartKernelMap + system.kernel_image.start;
  spec.ram = DumpableRam(system);
  spec.page_offset = system.page_offset;
  return BuildElfCoreHeader(spec);
}

std::string Hex(const Sha256Digest& d) {
  char buf[65];
  Sha256ToHex(d, buf);
  return buf;
}

std::string ErrnoText(int err) {
  switch (err) {
    case EPERM:
      return geteuid() != 0
                 ? "EPERM: arming needs root (CAP_SYS_BOOT)"
                 : "EPERM: refused although running as root; the kernel is locked "
                   "down (see /sys/kernel/security/lockdown) or kexec is disabled "
                   "(sysctl kernel.kexec_load_disabled)";
    case ENOSYS:
      return "ENOSYS: this kernel was built without kexec support (CONFIG_KEXEC)";
    case EBUSY:
      return "EBUSY: a crash kernel is in use or being loaded by someone else";
    case EADDRNOTAVAIL:
    case EINVAL:
      return absl::StrCat(strerrorname_np(err) ? strerrorname_np(err) : "EINVAL",
                          ": the kernel rejected the segment layout (outside the crash "
                          "reservation or overlapping)");
    case ENOMEM:
      return "ENOMEM: the crash reservation is too small for the segments";
    default:
      return absl::StrCat(strerrorname_np(err) ? strerrorname_np(err) : "errno ", ": ",
                          strerror(err));
  }
}

// The bundle's prepared kernel image, if it has one.
absl::StatusOr<std::optional<KernelImage>> PreparedKernel(const BundleContents& bundle) {
  if (bundle.capture_kernel_image.empty()) return std::optional<KernelImage>();
  absl::StatusOr<KernelImage> image = ParseKernelImage(bundle.capture_kernel_image);
  if (!image.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bundle: ", image.status().message()));
  }
  return std::optional<KernelImage>(*image);
}

// Memory the kernel piece needs for a prepared image: the kernel's span,
// and room above the unpacked bytes for the image part (header + LZ4
// block), which is staged whole at the top of the piece so that unpacking
// never writes over it and its digest is the bundle's.
uint64_t PreparedKernelPieceSize(const KernelImage& image, uint64_t part_size) {
  return std::max(PageAlign(image.span), PageAlign(image.image_size) + PageAlign(part_size));
}

}  // namespace

absl::StatusOr<CaptureSizes> CaptureSizesFor(const BundleContents& bundle,
                                             const BzImageInfo& kernel,
                                             size_t first_kernel_regions,
                                             size_t crash_notes, size_t ram_ranges,
                                             uint64_t runtime_headroom) {
  CaptureSizes s;
  s.purgatory_size = bundle.purgatory.size();
  // The capture map is at most the first kernel's regions, the reservation
  // split around the elfcorehdr, and the low 640 KiB: bound it generously.
  const size_t cmdline_len = bundle.capture_cmdline.size() + 1 + kElfcorehdrArgLength + 4096;
  s.boot_params_size = BootParamsBlobSize(std::min<size_t>(cmdline_len, kernel.cmdline_size),
                                          first_kernel_regions + 8);
  s.elfcorehdr_size = ElfCoreHeaderSize(crash_notes + ram_ranges + 2);
  s.backup_size = 0;  // Kernels >= 5.x keep low 1 MiB reserved with crashkernel=.
  absl::StatusOr<std::optional<KernelImage>> prepared = PreparedKernel(bundle);
  if (!prepared.ok()) return prepared.status();
  if (prepared->has_value()) {
    s.kernel_init_size = PreparedKernelPieceSize(**prepared, bundle.capture_kernel_image.size());
    s.kernel_payload_size = PageAlign(bundle.capture_kernel_image.size());
    s.kernel_alignment = (*prepared)->alignment;
  } else {
    s.kernel_init_size = kernel.init_size;
    s.kernel_payload_size = kernel.payload_size;
    s.kernel_alignment = kernel.kernel_alignment;
  }
  s.initrd_size = bundle.capture_initramfs.size();
  s.initrd_addr_max = kernel.initrd_addr_max;
  s.initrd_above_4g_ok = (kernel.xloadflags & kXlfCanBeLoadedAbove4G) != 0;
  // The initramfs exists twice while the capture kernel unpacks it: the
  // archive (a planned piece) and its files in the rootfs (free memory).
  s.runtime_headroom = runtime_headroom + PageAlign(bundle.capture_initramfs.size());
  return s;
}

absl::StatusOr<ArmPlan> BuildArmPlan(const BundleContents& bundle,
                                     const CrashSystemInfo& system,
                                     const ArmOptions& options) {
  absl::StatusOr<BzImageInfo> kernel = ParseBzImage(bundle.capture_kernel);
  if (!kernel.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bundle's capture kernel: ", kernel.status().message()));
  }
  absl::StatusOr<std::optional<KernelImage>> prepared = PreparedKernel(bundle);
  if (!prepared.ok()) return prepared.status();
  absl::StatusOr<std::vector<uint8_t>> core = BuildCoreHeader(system);
  if (!core.ok()) return core.status();

  const std::vector<PhysRange> ram = DumpableRam(system);
  absl::StatusOr<CaptureSizes> sizes =
      CaptureSizesFor(bundle, *kernel, system.iomem.regions().size(),
                      system.cpu_crash_notes.size(), ram.size(), options.runtime_headroom);
  if (!sizes.ok()) return sizes.status();
  absl::StatusOr<Plan> plan =
      PlanPlacement(MakeCaptureRequest(*sizes), system.crash_reservation);
  if (!plan.ok()) {
    absl::StatusOr<uint64_t> need = SmallestReservation(MakeCaptureRequest(*sizes));
    return absl::FailedPreconditionError(absl::StrCat(
        "the crash reservation ", absl::Hex(system.crash_reservation.start), "+",
        system.crash_reservation.size >> 20, " MiB is too small for this bundle: ",
        plan.status().message(),
        need.ok() ? absl::StrCat("; boot with ", CrashkernelArgument(*need)) : ""));
  }

  ArmPlan out;
  out.plan = *plan;
  out.capture_kernel_version = kernel->kernel_version;
  const Placement* p_purgatory = plan->Find("purgatory");
  const Placement* p_boot = plan->Find("boot_params");
  const Placement* p_core = plan->Find("elfcorehdr");
  const Placement* p_kernel = plan->Find("kernel");
  const Placement* p_initrd = plan->Find("initrd");
  if (!p_purgatory || !p_boot || !p_core || !p_kernel || !p_initrd) {
    return absl::InternalError("planner left out a capture piece");
  }

  // Command line: the bundle's, the caller's, and where the core header is.
  Cmdline line(kernel->cmdline_size);
  absl::Status fits = line.InsertWords(bundle.capture_cmdline);
  if (fits.ok()) fits = line.InsertWords(options.append);
  if (fits.ok()) fits = line.InsertWords(absl::StrFormat(kElfcorehdrFormat, p_core->range.start));
  if (!fits.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("capture command line: ", fits.message(),
                                                   " (the capture kernel's cmdline_size)"));
  }
  const std::string& cmdline = line.text();
  out.capture_cmdline = cmdline;

  MemoryMap capture_map =
      CaptureKernelMemoryMap(system.iomem, system.crash_reservation, *plan, true);
  out.capture_e820 = capture_map.ToE820();

  BootParamsSpec bp;
  bp.kernel = &*kernel;
  bp.cmdline = cmdline;
  bp.e820 = out.capture_e820;
  bp.initrd_addr = p_initrd->range.start;
  bp.initrd_size = bundle.capture_initramfs.size();
  bp.acpi_rsdp_addr = system.acpi_rsdp;
  bp.blob_addr = p_boot->range.start;
  absl::StatusOr<std::vector<uint8_t>> boot_params = BuildBootParams(bp);
  if (!boot_params.ok()) return boot_params.status();
  if (boot_params->size() > p_boot->range.size) {
    return absl::InternalError(absl::StrFormat(
        "boot_params blob is %d bytes but only %d were planned", boot_params->size(),
        p_boot->range.size));
  }

  // A prepared kernel's image part sits at the top of the kernel piece; the
  // purgatory unpacks its LZ4 block to the bottom (PreparedKernelPieceSize).
  uint64_t image_part_at = 0;
  if (prepared->has_value()) {
    if (p_kernel->range.size < PreparedKernelPieceSize(**prepared, bundle.capture_kernel_image.size())) {
      return absl::InternalError("planner gave the prepared kernel a smaller piece than it needs");
    }
    image_part_at = p_kernel->range.end() - PageAlign(bundle.capture_kernel_image.size());
  }

  // The segments the purgatory verifies, in region order, with their
  // digests. One that is a bundle part unchanged (`whole_part`) takes the
  // digest ParseBundle() checked: hashing it again costs a visible second
  // at boot.
  const Sha256Engine engine = Sha256BestEngine();
  std::vector<KexecSegment> verified;
  const auto stage = [&](std::string name, std::vector<uint8_t> bytes, uint64_t mem,
                         uint64_t memsz, uint32_t whole_part) {
    KexecSegment s{std::move(name), std::move(bytes), mem, memsz, {}};
    auto checked = bundle.verified_sha256.find(whole_part);
    s.sha256 = checked != bundle.verified_sha256.end()
                   ? checked->second
                   : Sha256Hash(s.bytes.data(), s.bytes.size(), engine);
    verified.push_back(std::move(s));
  };
  constexpr uint32_t kNotAPart = 0;
  stage("boot_params", *boot_params, p_boot->range.start, p_boot->range.size, kNotAPart);
  stage("elfcorehdr", *core, p_core->range.start, p_core->range.size, kNotAPart);
  if (prepared->has_value()) {
    stage("kernel", bundle.capture_kernel_image, image_part_at,
          p_kernel->range.end() - image_part_at, kBundlePartCaptureKernelImage);
  } else {
    stage("kernel",
          std::vector<uint8_t>(bundle.capture_kernel.begin() + kernel->payload_offset,
                               bundle.capture_kernel.end()),
          p_kernel->range.start, PageAlign(kernel->payload_size), kNotAPart);
  }
  stage("initrd", bundle.capture_initramfs, p_initrd->range.start,
        PageAlign(bundle.capture_initramfs.size()), kBundlePartCaptureInitramfs);

  // The purgatory image and its parameter block.
  std::vector<uint8_t> purgatory = bundle.purgatory;
  PurgatoryHeader header;
  if (purgatory.size() < sizeof(header)) {
    return absl::InvalidArgumentError("bundle's purgatory is smaller than its header");
  }
  std::memcpy(&header, purgatory.data(), sizeof(header));
  if (header.magic != kPurgatoryMagic || header.abi_version != kPurgatoryAbiVersion ||
      header.params_size != sizeof(PurgatoryParams) ||
      uint64_t{header.params_offset} + header.params_size > purgatory.size() ||
      header.entry_offset >= purgatory.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bundle's purgatory header is not ABI %d (magic %#x, version %d, params %d bytes "
        "at %d, entry %d, image %d bytes)",
        kPurgatoryAbiVersion, header.magic, header.abi_version, header.params_size,
        header.params_offset, header.entry_offset, purgatory.size()));
  }
  PurgatoryParams params{};
  params.region_count = static_cast<uint32_t>(verified.size());
  params.flags = options.purgatory_flags;
  for (size_t i = 0; i < verified.size(); ++i) {
    const KexecSegment& s = verified[i];
    params.regions[i].start = s.mem;
    params.regions[i].length = s.bytes.size();
    std::memcpy(params.regions[i].sha256, s.sha256.bytes, sizeof(s.sha256.bytes));
    out.verified_segments.push_back(s.name);
  }
  if (options.corrupt_digest_segment >= 0) {
    if (options.corrupt_digest_segment >= static_cast<int>(verified.size())) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--test-corrupt-digest=%d: there are only %d verified segments",
          options.corrupt_digest_segment, verified.size()));
    }
    params.regions[options.corrupt_digest_segment].sha256[0] ^= 0x80;
  }
  if (prepared->has_value()) {
    const KernelImage& image = **prepared;
    params.unpack_source = image_part_at + sizeof(KernelImageHeader);
    params.unpack_source_length = image.lz4.size();
    params.unpack_dest = p_kernel->range.start;
    params.unpack_dest_length = image.image_size;
    params.zero_length = image.span - image.image_size;
    params.entry_rip = p_kernel->range.start + image.entry_offset;
  } else {
    params.entry_rip = p_kernel->range.start + kKernel64BitEntryOffset;
  }
  params.entry_rsi = p_boot->range.start;
  params.entry_rsp = 0;
  params.serial_port = kPurgatoryDefaultSerialPort;
  std::memcpy(purgatory.data() + header.params_offset, &params, sizeof(params));

  out.entry = p_purgatory->range.start + header.entry_offset;
  out.segments = std::move(verified);
  const Sha256Digest purgatory_digest = Sha256Hash(purgatory.data(), purgatory.size(), engine);
  out.segments.push_back({"purgatory", std::move(purgatory), p_purgatory->range.start,
                          p_purgatory->range.size, purgatory_digest});
  if (prepared->has_value()) {
    // The memory the LZ4 block unpacks into, as a segment without bytes
    // (zero-filled by kexec_load): otherwise the kernel sees a hole in the
    // reservation and puts its own page tables for the jump there, which
    // unpacking would overwrite under the purgatory's feet.
    out.segments.push_back(
        {"kernel_space", {}, p_kernel->range.start, image_part_at - p_kernel->range.start, {}});
  }
  std::sort(out.segments.begin(), out.segments.end(),
            [](const KexecSegment& a, const KexecSegment& b) { return a.mem < b.mem; });
  for (const KexecSegment& s : out.segments) {
    if (s.bytes.size() > s.memsz || s.mem % kPage != 0 || s.memsz % kPage != 0 ||
        !system.crash_reservation.Contains(Range{s.mem, s.memsz})) {
      return absl::InternalError(absl::StrFormat(
          "segment %s [%#x, +%#x) with %d bytes is not a page-aligned piece of the "
          "reservation",
          s.name, s.mem, s.memsz, s.bytes.size()));
    }
  }
  return out;
}

std::string ArmPlan::ToString() const {
  std::string s = plan.ToString();
  absl::StrAppend(&s, "capture kernel: ", capture_kernel_version, "\n");
  absl::StrAppend(&s, "capture command line: ", capture_cmdline, "\n");
  absl::StrAppendFormat(&s, "entry (purgatory): %#x\n", entry);
  for (const KexecSegment& seg : segments) {
    absl::StrAppendFormat(&s, "segment %-12s %#012x +%#010x  %9d bytes  sha256 %s\n", seg.name,
                          seg.mem, seg.memsz, seg.bytes.size(), Hex(seg.sha256));
  }
  return s;
}

absl::Status LoadCrashKernel(const ArmPlan& plan) {
  std::vector<kexec_segment> segs;
  for (const KexecSegment& s : plan.segments) {
    kexec_segment k{};
    k.buf = s.bytes.data();
    k.bufsz = s.bytes.size();
    k.mem = reinterpret_cast<const void*>(s.mem);
    k.memsz = s.memsz;
    segs.push_back(k);
  }
  const unsigned long flags = KEXEC_ON_CRASH | KEXEC_ARCH_X86_64;
  if (syscall(SYS_kexec_load, plan.entry, segs.size(), segs.data(), flags) != 0) {
    const int err = errno;
    return absl::Status(err == EPERM ? absl::StatusCode::kPermissionDenied
                                     : absl::StatusCode::kFailedPrecondition,
                        absl::StrCat("kexec_load(KEXEC_ON_CRASH) failed: ", ErrnoText(err)));
  }
  return absl::OkStatus();
}

absl::Status LoadCrashKernelFile(const BundleContents& bundle, const std::string& cmdline) {
  auto memfd = [](const char* name, const std::vector<uint8_t>& bytes) -> int {
    int fd = static_cast<int>(syscall(SYS_memfd_create, name, MFD_CLOEXEC));
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = write(fd, bytes.data() + off, bytes.size() - off);
      if (n <= 0) {
        close(fd);
        return -1;
      }
      off += n;
    }
    return fd;
  };
  int kfd = memfd("saveoops-capture-kernel", bundle.capture_kernel);
  int ifd = memfd("saveoops-capture-initrd", bundle.capture_initramfs);
  if (kfd < 0 || ifd < 0) {
    if (kfd >= 0) close(kfd);
    if (ifd >= 0) close(ifd);
    return absl::InternalError(absl::StrCat("memfd_create: ", strerror(errno)));
  }
  const long rc = syscall(SYS_kexec_file_load, kfd, ifd, cmdline.size() + 1, cmdline.c_str(),
                          static_cast<unsigned long>(KEXEC_FILE_ON_CRASH));
  const int err = errno;
  close(kfd);
  close(ifd);
  if (rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("kexec_file_load(KEXEC_FILE_ON_CRASH) failed: ", ErrnoText(err),
                     err == EKEYREJECTED || err == EPERM
                         ? " (a locked-down kernel only loads signed capture kernels)"
                         : ""));
  }
  return absl::OkStatus();
}

absl::Status UnloadCrashKernel() {
  if (syscall(SYS_kexec_load, 0, 0, nullptr, KEXEC_ON_CRASH | KEXEC_ARCH_X86_64) == 0) {
    return absl::OkStatus();
  }
  const int err = errno;
  if (syscall(SYS_kexec_file_load, -1, -1, 0, nullptr,
              static_cast<unsigned long>(KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH)) == 0) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("unloading the crash kernel failed: ", ErrnoText(err)));
}

absl::StatusOr<bool> CrashKernelLoaded(const std::string& root) {
  const std::string path =
      (root == "/" ? std::string() : root) + "/sys/kernel/kexec_crash_loaded";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrFormat(
        "cannot open %s: %s (kernel without kexec, or /sys not mounted)", path,
        strerror(errno)));
  }
  char c = 0;
  const ssize_t n = read(fd, &c, 1);
  close(fd);
  if (n != 1) return absl::InternalError(absl::StrCat("cannot read ", path));
  return c == '1';
}

std::string FirstKernelConsoleArgs(const std::string& root, const std::string& capture_cmdline) {
  if (CmdlineValue(capture_cmdline, "console")) return "";
  const std::string path = (root == "/" ? std::string() : root) + "/proc/cmdline";
  std::string line;
  if (int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) line.append(buf, n);
    close(fd);
  }
  std::vector<std::string> consoles;
  for (const KernelParam& p : KernelParams(line)) {
    if (p.name == "console" && p.value) consoles.emplace_back(p.text);
  }
  return absl::StrJoin(consoles, " ");
}

absl::StatusOr<ArmOutcome> ArmBundle(const BundleContents& bundle, const ArmRequest& request) {
  absl::StatusOr<CrashSystemInfo> system = ReadCrashSystemInfo(request.root);
  if (!system.ok()) {
    if (absl::StrContains(system.status().message(), "Crash kernel")) {
      absl::StatusOr<BzImageInfo> k = ParseBzImage(bundle.capture_kernel);
      if (k.ok()) {
        absl::StatusOr<CaptureSizes> sizes =
            CaptureSizesFor(bundle, *k, 64, sysconf(_SC_NPROCESSORS_CONF), 8,
                            request.options.runtime_headroom);
        if (sizes.ok()) {
          absl::StatusOr<uint64_t> need = SmallestReservation(MakeCaptureRequest(*sizes));
          if (need.ok()) {
            return absl::FailedPreconditionError(absl::StrCat(
                system.status().message(), "; this bundle needs ", CrashkernelArgument(*need)));
          }
        }
      }
    }
    return system.status();
  }
  for (const std::string& note : system->notes) request.say(absl::StrCat("note: ", note));
  ArmOptions options = request.options;
  const std::string console = FirstKernelConsoleArgs(request.root, bundle.capture_cmdline);
  options.append =
      absl::StrCat(console, !console.empty() && !options.append.empty() ? " " : "", options.append);
  absl::StatusOr<ArmPlan> plan = BuildArmPlan(bundle, *system, options);
  if (!plan.ok()) return plan.status();
  ArmOutcome outcome;
  outcome.plan = *std::move(plan);
  if (request.dry_run) return outcome;
  absl::Status loaded = LoadCrashKernel(outcome.plan);
  if (!loaded.ok()) {
    // Lockdown refuses kexec_load with EPERM even for root.
    if (loaded.code() != absl::StatusCode::kPermissionDenied || geteuid() != 0 ||
        !request.allow_file_load_fallback) {
      return loaded;
    }
    request.say(absl::StrCat(loaded.message()));
    request.say(
        "falling back to kexec_file_load with the kernel's own purgatory (Saveoops' digest "
        "check does not run)");
    const std::string& cmd = outcome.plan.capture_cmdline;
    absl::Status file = LoadCrashKernelFile(bundle, cmd.substr(0, cmd.rfind(" elfcorehdr=")));
    if (!file.ok()) return file;
    outcome.used_file_load = true;
  }
  // Best effort: /run may not exist yet in early boot.
  const std::string base = request.root == "/" ? std::string() : request.root;
  mkdir((base + "/run/saveoops").c_str(), 0755);
  const std::string state = outcome.plan.ToString();
  if (int fd = open((base + kArmedStateFile).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      fd >= 0) {
    if (write(fd, state.data(), state.size()) != static_cast<ssize_t>(state.size())) {
      request.say("note: could not record the layout for `saveoops status`");
    }
    close(fd);
  }
  return outcome;
}

}  // namespace saveoops
