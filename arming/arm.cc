#include "arming/arm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/boot_params.h"
#include "common/bootproto.h"
#include "common/bundle_format.h"
#include "common/cmdline.h"
#include "common/elfcore.h"
#include "common/files.h"
#include "common/kernel_image.h"
#include "common/sha256.h"
#include "initramfs/cpio.h"
#include "purgatory/purgatory_abi.h"
#include "purgatory/purgatory_image.h"

namespace saveoops {
namespace {

// The argument that tells the capture kernel where the ELF core header is
// (kernel/crash_dump.c, setup_elfcorehdr()), fixed width (sizing.h).
constexpr char kElfcorehdrFormat[] = "elfcorehdr=0x%016x";
static_assert(sizeof("elfcorehdr=0x0123456789abcdef") - 1 == kElfcorehdrArgLength,
              "kElfcorehdrFormat prints kElfcorehdrArgLength characters");

// Segments the purgatory verifies that are not a bundle part staged whole,
// so they have no digest from ParseBundle() to reuse.
constexpr uint32_t kNotABundlePart = 0;

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

std::string Hex(const Sha256Digest& d) {
  char buf[65];
  Sha256ToHex(d, buf);
  return buf;
}

// The bundle's purgatory, checked against this loader's ABI before anything
// is planned for it.
absl::StatusOr<PurgatoryImage> CheckPurgatory(const BundleContents& bundle) {
  PurgatoryImage image;
  const PurgatoryImageError e =
      ParsePurgatoryImage(bundle.purgatory.data(), bundle.purgatory.size(), &image);
  if (e == PurgatoryImageError::kOk) return image;
  const PurgatoryHeader& h = image.header;
  return absl::InvalidArgumentError(absl::StrFormat(
      "bundle's purgatory header is not ABI %d: %s (magic %#x, version %d, params %d bytes "
      "at %d, entry %d, image %d bytes)",
      kPurgatoryAbiVersion, PurgatoryImageErrorName(e), h.magic, h.abi_version, h.params_size,
      h.params_offset, h.entry_offset, bundle.purgatory.size()));
}

// The dead kernel's memory as the capture kernel's /proc/vmcore shows it.
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

// Where each piece goes inside the reservation; a reservation too small
// names the crashkernel= that fits.
absl::StatusOr<Plan> PlaceCapturePieces(const BundleContents& bundle, const CaptureKernel& kernel,
                                        const CrashSystemInfo& system, const ArmOptions& options) {
  const CaptureSizes sizes = CaptureSizesFor(
      bundle, kernel, system.iomem.regions().size(), system.cpu_crash_notes.size(),
      DumpableRam(system).size(), options.runtime_headroom.value_or(RuntimeHeadroomFor(kernel)));
  absl::StatusOr<Plan> plan = PlanPlacement(MakeCaptureRequest(sizes), system.crash_reservation);
  if (plan.ok()) return plan;
  absl::StatusOr<uint64_t> need = SmallestReservation(MakeCaptureRequest(sizes));
  return absl::FailedPreconditionError(
      absl::StrCat("the crash reservation ", absl::Hex(system.crash_reservation.start), "+",
                   system.crash_reservation.size >> 20,
                   " MiB is too small for this bundle: ", plan.status().message(),
                   need.ok() ? absl::StrCat("; boot with ", CrashkernelArgument(*need)) : ""));
}

// Command line: the bundle's, the caller's, and where the core header is.
absl::StatusOr<std::string> CaptureCommandLine(const BundleContents& bundle,
                                               const ArmOptions& options, const BzImageInfo& kernel,
                                               const Range& elfcorehdr) {
  Cmdline line(kernel.cmdline_size);
  absl::Status fits = line.InsertWords(bundle.capture_cmdline);
  if (fits.ok()) fits = line.InsertWords(options.append);
  if (fits.ok()) fits = line.InsertWords(absl::StrFormat(kElfcorehdrFormat, elfcorehdr.start));
  if (!fits.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("capture command line: ", fits.message(),
                                                   " (the capture kernel's cmdline_size)"));
  }
  return line.text();
}

// The zero page, e820 table and command line the capture kernel boots with,
// as one blob in the boot_params piece (common/boot_params.h).
absl::StatusOr<std::vector<uint8_t>> BuildCaptureBootParams(const BundleContents& bundle,
                                                            const CrashSystemInfo& system,
                                                            const BzImageInfo& kernel,
                                                            const Plan& plan, const ArmPlan& out) {
  BootParamsSpec bp;
  bp.kernel = &kernel;
  bp.cmdline = out.capture_cmdline;
  bp.e820 = out.capture_e820;
  bp.initrd_addr = plan.initrd.start;
  bp.initrd_size = bundle.capture_initramfs.size();
  bp.acpi_rsdp_addr = system.acpi_rsdp;
  bp.blob_addr = plan.boot_params.start;
  absl::StatusOr<std::vector<uint8_t>> blob = BuildBootParams(bp);
  if (!blob.ok()) return blob.status();
  if (blob->size() > plan.boot_params.size) {
    return absl::InternalError(
        absl::StrFormat("boot_params blob is %d bytes but only %d were planned", blob->size(),
                        plan.boot_params.size));
  }
  return blob;
}

// Where a prepared kernel's image part goes: the top of the kernel piece;
// the purgatory unpacks its LZ4 block to the bottom (PreparedKernelPieceSize).
absl::StatusOr<uint64_t> PreparedKernelPartAt(const BundleContents& bundle,
                                              const KernelImage& image, const Plan& plan) {
  const uint64_t part_size = bundle.capture_kernel_image.size();
  if (plan.kernel.size < PreparedKernelPieceSize(image, part_size)) {
    return absl::InternalError("planner gave the prepared kernel a smaller piece than it needs");
  }
  return plan.kernel.end() - PageAlign(part_size);
}

// The segments the purgatory verifies, in its region order (boot_params,
// elfcorehdr, kernel, initrd), with their digests. One that is a bundle
// part unchanged takes the digest ParseBundle() checked: hashing it again
// costs a visible second at boot.
std::vector<KexecSegment> VerifiedSegments(const BundleContents& bundle,
                                           const CaptureKernel& kernel, const Plan& plan,
                                           std::vector<uint8_t> boot_params,
                                           std::vector<uint8_t> core_header, uint64_t image_part_at,
                                           Sha256Engine engine) {
  std::vector<KexecSegment> verified;
  const auto stage = [&](std::string name, std::vector<uint8_t> bytes, uint64_t mem, uint64_t memsz,
                         uint32_t whole_part) {
    KexecSegment s{std::move(name), std::move(bytes), mem, memsz, {}};
    auto checked = bundle.verified_sha256.find(whole_part);
    s.sha256 = checked != bundle.verified_sha256.end()
                   ? checked->second
                   : Sha256Hash(s.bytes.data(), s.bytes.size(), engine);
    verified.push_back(std::move(s));
  };
  stage("boot_params", std::move(boot_params), plan.boot_params.start, plan.boot_params.size,
        kNotABundlePart);
  stage("elfcorehdr", std::move(core_header), plan.elfcorehdr.start, plan.elfcorehdr.size,
        kNotABundlePart);
  if (kernel.prepared.has_value()) {
    stage("kernel", bundle.capture_kernel_image, image_part_at, plan.kernel.end() - image_part_at,
          kBundlePartCaptureKernelImage);
  } else {
    const BzImageInfo& bz = kernel.bzimage;
    stage("kernel",
          std::vector<uint8_t>(bundle.capture_kernel.begin() + bz.payload_offset,
                               bundle.capture_kernel.end()),
          plan.kernel.start, PageAlign(bz.payload_size), kNotABundlePart);
  }
  stage("initrd", bundle.capture_initramfs, plan.initrd.start,
        PageAlign(bundle.capture_initramfs.size()), kBundlePartCaptureInitramfs);
  return verified;
}

// The purgatory's parameter block: what to verify, what to unpack, and the
// capture kernel's 64-bit entry registers (boot.rst, "64-bit Boot Protocol").
absl::StatusOr<PurgatoryParams> PurgatoryParamsFor(const std::vector<KexecSegment>& verified,
                                                   const CaptureKernel& kernel, const Plan& plan,
                                                   uint64_t image_part_at,
                                                   const ArmOptions& options) {
  if (verified.size() > kPurgatoryMaxRegions) {
    return absl::InternalError(absl::StrFormat("%d segments to verify; the purgatory takes %d",
                                               verified.size(), kPurgatoryMaxRegions));
  }
  PurgatoryParams params{};
  params.region_count = static_cast<uint32_t>(verified.size());
  params.flags = options.purgatory_flags;
  for (size_t i = 0; i < verified.size(); ++i) {
    const KexecSegment& s = verified[i];
    params.regions[i].start = s.mem;
    params.regions[i].length = s.bytes.size();
    std::memcpy(params.regions[i].sha256, s.sha256.bytes, sizeof(s.sha256.bytes));
  }
  if (kernel.prepared.has_value()) {
    const KernelImage& image = *kernel.prepared;
    params.unpack_source = image_part_at + sizeof(KernelImageHeader);
    params.unpack_source_length = image.lz4.size();
    params.unpack_dest = plan.kernel.start;
    params.unpack_dest_length = image.image_size;
    params.zero_length = image.span - image.image_size;
    params.entry_rip = plan.kernel.start + image.entry_offset;
  } else {
    params.entry_rip = plan.kernel.start + kKernel64EntryOffset;
  }
  params.entry_rsi = plan.boot_params.start;
  params.entry_rsp = 0;
  params.serial_port = kPurgatoryDefaultSerialPort;
  return params;
}

// Test only (ArmOptions::corrupt_digest_segment): a wrong digest for one
// region, to prove the purgatory refuses.
absl::Status CorruptDigestForTest(const ArmOptions& options, PurgatoryParams* params) {
  if (options.corrupt_digest_segment < 0) return absl::OkStatus();
  if (options.corrupt_digest_segment >= static_cast<int>(params->region_count)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--test-corrupt-digest=%d: there are only %d verified segments",
                        options.corrupt_digest_segment, params->region_count));
  }
  params->regions[options.corrupt_digest_segment].sha256[0] ^= 0x80;
  return absl::OkStatus();
}

// The purgatory image with its parameter block filled in, as a segment.
KexecSegment PurgatorySegment(const BundleContents& bundle, const PurgatoryImage& image,
                              const PurgatoryParams& params, const Plan& plan,
                              Sha256Engine engine) {
  std::vector<uint8_t> bytes = bundle.purgatory;
  std::memcpy(bytes.data() + image.params_offset, &params, sizeof(params));
  const Sha256Digest digest = Sha256Hash(bytes.data(), bytes.size(), engine);
  return {"purgatory", std::move(bytes), plan.purgatory.start, plan.purgatory.size, digest};
}

// The memory a prepared kernel's LZ4 block unpacks into, as a segment
// without bytes (zero-filled by kexec_load): otherwise the kernel sees a
// hole in the reservation and puts its own page tables for the jump there,
// which unpacking would overwrite under the purgatory's feet.
KexecSegment UnpackSpaceSegment(const Plan& plan, uint64_t image_part_at) {
  return {"kernel_space", {}, plan.kernel.start, image_part_at - plan.kernel.start, {}};
}

// kexec_load's own rules (kernel/kexec_core.c, sanity_check_segment_list()):
// page-aligned, whole pages, inside the crash reservation.
absl::Status CheckSegments(const std::vector<KexecSegment>& segments, const Range& reservation) {
  for (const KexecSegment& s : segments) {
    if (s.bytes.size() > s.memsz || s.mem % kPlannerPageSize != 0 ||
        s.memsz % kPlannerPageSize != 0 || !reservation.Contains(Range{s.mem, s.memsz})) {
      return absl::InternalError(
          absl::StrFormat("segment %s [%#x, +%#x) with %d bytes is not a page-aligned piece of the "
                          "reservation",
                          s.name, s.mem, s.memsz, s.bytes.size()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ArmPlan> BuildArmPlan(const BundleContents& bundle, const CrashSystemInfo& system,
                                     const ArmOptions& options) {
  absl::StatusOr<CaptureKernel> kernel = ParseCaptureKernel(bundle);
  if (!kernel.ok()) return kernel.status();
  absl::StatusOr<PurgatoryImage> purgatory = CheckPurgatory(bundle);
  if (!purgatory.ok()) return purgatory.status();
  absl::StatusOr<std::vector<uint8_t>> core = BuildCoreHeader(system);
  if (!core.ok()) return core.status();
  absl::StatusOr<Plan> plan = PlaceCapturePieces(bundle, *kernel, system, options);
  if (!plan.ok()) return plan.status();

  ArmPlan out;
  out.plan = *plan;
  out.capture_kernel_version = kernel->bzimage.kernel_version;
  absl::StatusOr<std::string> cmdline =
      CaptureCommandLine(bundle, options, kernel->bzimage, plan->elfcorehdr);
  if (!cmdline.ok()) return cmdline.status();
  out.capture_cmdline = *std::move(cmdline);
  out.capture_e820 =
      CaptureKernelMemoryMap(system.iomem, system.crash_reservation, *plan, true).ToE820();
  absl::StatusOr<std::vector<uint8_t>> boot_params =
      BuildCaptureBootParams(bundle, system, kernel->bzimage, *plan, out);
  if (!boot_params.ok()) return boot_params.status();
  absl::StatusOr<uint64_t> image_part_at =
      kernel->prepared.has_value() ? PreparedKernelPartAt(bundle, *kernel->prepared, *plan)
                                   : absl::StatusOr<uint64_t>(0);
  if (!image_part_at.ok()) return image_part_at.status();

  const Sha256Engine engine = Sha256BestEngine();
  std::vector<KexecSegment> verified = VerifiedSegments(
      bundle, *kernel, *plan, *std::move(boot_params), *std::move(core), *image_part_at, engine);
  absl::StatusOr<PurgatoryParams> params =
      PurgatoryParamsFor(verified, *kernel, *plan, *image_part_at, options);
  if (!params.ok()) return params.status();
  if (absl::Status s = CorruptDigestForTest(options, &*params); !s.ok()) return s;

  for (const KexecSegment& s : verified) out.verified_segments.push_back(s.name);
  out.entry = plan->purgatory.start + purgatory->entry_offset;
  out.segments = std::move(verified);
  out.segments.push_back(PurgatorySegment(bundle, *purgatory, *params, *plan, engine));
  if (kernel->prepared.has_value()) {
    out.segments.push_back(UnpackSpaceSegment(*plan, *image_part_at));
  }
  std::sort(out.segments.begin(), out.segments.end(),
            [](const KexecSegment& a, const KexecSegment& b) { return a.mem < b.mem; });
  if (absl::Status s = CheckSegments(out.segments, system.crash_reservation); !s.ok()) return s;
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

namespace {

// ReadCrashSystemInfo's error, and for a kernel without a reservation the
// crashkernel= this bundle needs on a system like this one.
absl::Status WithNeededReservation(const BundleContents& bundle, const ArmRequest& request,
                                   const absl::Status& error) {
  if (!IsNoCrashReservation(error)) return error;
  absl::StatusOr<CaptureKernel> kernel = ParseCaptureKernel(bundle);
  if (!kernel.ok()) return error;
  const CaptureSizes sizes = CaptureSizesForUnknownSystem(
      bundle, *kernel, request.options.runtime_headroom.value_or(RuntimeHeadroomFor(*kernel)));
  absl::StatusOr<uint64_t> need = SmallestReservation(MakeCaptureRequest(sizes));
  if (!need.ok()) return error;
  return NoCrashReservationError(
      absl::StrCat(error.message(), "; this bundle needs ", CrashkernelArgument(*need)));
}

// kexec_load, or where the kernel refuses it to root (lockdown: EPERM; IMA
// under Secure Boot: EACCES),
// kexec_file_load with the kernel's own purgatory.
absl::Status LoadPlan(const BundleContents& bundle, const ArmRequest& request,
                      ArmOutcome* outcome) {
  absl::Status loaded = KexecLoadOnCrash(outcome->plan.entry, outcome->plan.segments);
  if (loaded.ok()) return loaded;
  if (loaded.code() != absl::StatusCode::kPermissionDenied || geteuid() != 0 ||
      !request.allow_file_load_fallback) {
    return loaded;
  }
  request.say(absl::StrCat(loaded.message()));
  request.say(
      "falling back to kexec_file_load with the kernel's own purgatory (Saveoops' digest "
      "check does not run)");
  // The kernel adds its own elfcorehdr= (arch/x86/kernel/kexec-bzimage64.c).
  const std::string& cmd = outcome->plan.capture_cmdline;
  absl::Status file = KexecFileLoadOnCrash(bundle.capture_kernel, bundle.capture_initramfs,
                                           cmd.substr(0, cmd.rfind(" elfcorehdr=")));
  if (!file.ok()) return file;
  outcome->used_file_load = true;
  return absl::OkStatus();
}

// The layout for `saveoops status`, at kArmedStateFile under the root. Best
// effort: in early boot /run may not exist yet (it is created), and a
// distro init that mounts a fresh tmpfs on /run hides the file later;
// status then still reports "armed" from /sys/kernel/kexec_crash_loaded.
void RecordArmedState(const ArmRequest& request, ArmOutcome* outcome) {
  const std::string base = request.root == "/" ? std::string() : request.root;
  mkdir((base + "/run").c_str(), 0755);
  mkdir((base + "/run/saveoops").c_str(), 0755);
  const std::string path = base + kArmedStateFile;
  absl::Status written = WriteFileAtomic(path, outcome->plan.ToString(), 0644);
  if (!written.ok()) {
    request.say(absl::StrCat("note: could not record the layout for `saveoops status`: ",
                             written.message()));
    return;
  }
  outcome->armed_state_path = path;
}

}  // namespace

absl::Status CheckBundleStructure(const BundleContents& bundle) {
  absl::StatusOr<CaptureKernel> kernel = ParseCaptureKernel(bundle);
  if (!kernel.ok()) return kernel.status();
  return CheckPurgatory(bundle).status();
}

absl::StatusOr<BundleContents> WithStoreMap(const BundleContents& bundle, const StoreMap& map) {
  CpioWriter writer;
  const std::vector<uint8_t> bytes = SerializeStoreMap(map);
  if (absl::Status s = writer.AddFile(kStoreMapPath, absl::MakeConstSpan(bytes), 0444); !s.ok()) {
    return s;
  }
  const std::vector<uint8_t> archive = writer.Finish();
  BundleContents out = bundle;
  std::vector<uint8_t>& initrd = out.capture_initramfs;
  initrd.resize((initrd.size() + 3) / 4 * 4, 0);
  initrd.insert(initrd.end(), archive.begin(), archive.end());
  out.verified_sha256.erase(kBundlePartCaptureInitramfs);
  return out;
}

absl::Status WriteBundleFileWithStoreMap(const std::string& bundle_path, const StoreMap& map,
                                         const std::string& out_path) {
  absl::StatusOr<BundleContents> bundle = ReadBundleFile(bundle_path);
  if (!bundle.ok()) return bundle.status();
  absl::StatusOr<BundleContents> mapped = WithStoreMap(*bundle, map);
  if (!mapped.ok()) return mapped.status();
  return WriteBundleFile(out_path, *mapped);
}

absl::StatusOr<ArmOutcome> ArmBundle(const BundleContents& original, const ArmRequest& request) {
  absl::StatusOr<BundleContents> mapped;
  if (request.store_map) {
    mapped = WithStoreMap(original, *request.store_map);
    if (!mapped.ok()) return mapped.status();
  }
  const BundleContents& bundle = request.store_map ? *mapped : original;
  absl::StatusOr<CrashSystemInfo> system = ReadCrashSystemInfo(request.root);
  if (!system.ok()) return WithNeededReservation(bundle, request, system.status());
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
  if (absl::Status loaded = LoadPlan(bundle, request, &outcome); !loaded.ok()) return loaded;
  RecordArmedState(request, &outcome);
  return outcome;
}

}  // namespace saveoops
