// Arming on a fake /proc + /sys tree: what `saveoops arm` reads, what it
// builds, and the errors a user sees when the system is not ready.
#include "arming/arm.h"

#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "arming/sysinfo.h"
#include "common/bootproto.h"
#include "common/bundle_format.h"
#include "common/elfcore.h"
#include "common/kernel_image.h"
#include "common/kernel_image_prepare.h"
#include "common/sha256.h"
#include "gtest/gtest.h"
#include "initramfs/cpio.h"
#include "purgatory/purgatory_abi.h"
#include "store/store_map.h"

namespace saveoops {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<uint8_t> ReadBytes(const std::string& path) {
  const std::string s = ReadText(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}

void WriteText(const std::string& path, const std::string& text) {
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] == '/') mkdir(path.substr(0, i).c_str(), 0755);
  }
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

constexpr char kIomem[] = "common/testdata/iomem_qemu_bios_1g_crashkernel_256m.txt";

// A fake root as a 1 GiB QEMU guest with crashkernel=256M shows it.
std::string MakeRoot(const std::string& name, const std::string& iomem, int cpus) {
  const std::string root = absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
  WriteText(root + "/proc/iomem", iomem);
  WriteText(root + "/proc/sys/kernel/osrelease", "6.1.0-56-amd64\n");
  WriteText(root + "/proc/cmdline", "console=ttyS0,115200 crashkernel=256M quiet\n");
  // kernel/crash_core.c: "%pa %x\n" — address with 0x, size in hex.
  WriteText(root + "/sys/kernel/vmcoreinfo", "0x0000000001e6f000 1024\n");
  for (int c = 0; c < cpus; ++c) {
    // drivers/base/cpu.c: crash_notes is "%llx\n", crash_notes_size "%zu\n".
    WriteText(absl::StrCat(root, "/sys/devices/system/cpu/cpu", c, "/crash_notes"),
              absl::StrCat(absl::Hex(0x3fc13e00 + c * 0x1000), "\n"));
    WriteText(absl::StrCat(root, "/sys/devices/system/cpu/cpu", c, "/crash_notes_size"), "400\n");
  }
  WriteText(root + "/sys/devices/system/cpu/online", "0\n");
  return root;
}

BundleContents TestBundle() {
  glob_t g{};
  EXPECT_EQ(glob("/boot/vmlinuz-*", 0, nullptr, &g), 0) << "linux-image-amd64 must be installed";
  BundleContents b;
  if (g.gl_pathc > 0) b.capture_kernel = ReadBytes(g.gl_pathv[g.gl_pathc - 1]);
  globfree(&g);
  b.capture_initramfs.assign(3 << 20, 0x5a);
  b.purgatory = ReadBytes("purgatory/purgatory.bin");
  b.capture_cmdline = "nokaslr nr_cpus=1";
  return b;
}

TEST(Arm, PreparedKernelIsUnpackedByThePurgatoryAtTheKernelPiece) {
  const std::string root = MakeRoot("prepared", ReadText(kIomem), 1);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_TRUE(info.ok()) << info.status();
  BundleContents bundle = TestBundle();
  absl::StatusOr<std::vector<uint8_t>> part = PrepareKernelImage(bundle.capture_kernel);
  ASSERT_TRUE(part.ok()) << part.status();
  bundle.capture_kernel_image = *part;
  absl::StatusOr<KernelImage> image = ParseKernelImage(bundle.capture_kernel_image);
  ASSERT_TRUE(image.ok());
  absl::StatusOr<ArmPlan> plan = BuildArmPlan(bundle, *info, ArmOptions());
  ASSERT_TRUE(plan.ok()) << plan.status();

  const Range* piece = &plan->plan.kernel;
  ASSERT_FALSE(piece->empty());
  EXPECT_EQ(piece->start % (2u << 20), 0u);
  EXPECT_GE(piece->size, image->span);
  // Less memory than the bzImage's decompressor asks for.
  absl::StatusOr<BzImageInfo> k = ParseBzImage(bundle.capture_kernel);
  ASSERT_TRUE(k.ok());
  EXPECT_LT(piece->size, k->init_size);

  const KexecSegment* kernel = nullptr;
  const KexecSegment* purgatory = nullptr;
  const KexecSegment* space = nullptr;
  for (const KexecSegment& s : plan->segments) {
    if (s.name == "kernel") kernel = &s;
    if (s.name == "purgatory") purgatory = &s;
    if (s.name == "kernel_space") space = &s;
  }
  ASSERT_TRUE(kernel && purgatory && space);
  // The whole piece is staged (the unpack target as a zero-filled segment),
  // so kexec_load finds no free hole there for its own page tables.
  EXPECT_EQ(space->mem, piece->start);
  EXPECT_TRUE(space->bytes.empty());
  EXPECT_EQ(space->mem + space->memsz, kernel->mem);
  EXPECT_EQ(plan->segments.size(), 6u);
  for (size_t i = 1; i < plan->segments.size(); ++i) {
    EXPECT_LE(plan->segments[i - 1].mem + plan->segments[i - 1].memsz, plan->segments[i].mem);
  }
  // The staged bytes are the image part (header + LZ4 block), at the top of
  // the piece, clear of the bytes it unpacks to.
  EXPECT_TRUE(kernel->bytes == bundle.capture_kernel_image);
  EXPECT_EQ(kernel->mem + kernel->memsz, piece->end());
  EXPECT_GE(kernel->mem, piece->start + image->image_size);

  PurgatoryHeader h;
  std::memcpy(&h, purgatory->bytes.data(), sizeof(h));
  PurgatoryParams p;
  std::memcpy(&p, purgatory->bytes.data() + h.params_offset, sizeof(p));
  EXPECT_EQ(p.unpack_source, kernel->mem + sizeof(KernelImageHeader));
  EXPECT_EQ(p.unpack_source_length, image->lz4.size());
  EXPECT_EQ(p.unpack_dest, piece->start);
  EXPECT_EQ(p.unpack_dest_length, image->image_size);
  EXPECT_EQ(p.unpack_dest + p.unpack_dest_length + p.zero_length, piece->start + image->span);
  EXPECT_EQ(p.entry_rip, piece->start + image->entry_offset);

  // Parts staged whole keep the digest the bundle reader checked (here a
  // marker digest proves no second hash was taken); others are hashed.
  Sha256Digest marker{};
  marker.bytes[0] = 0xab;
  bundle.verified_sha256[kBundlePartCaptureInitramfs] = marker;
  bundle.verified_sha256[kBundlePartCaptureKernelImage] = marker;
  absl::StatusOr<ArmPlan> reused = BuildArmPlan(bundle, *info, ArmOptions());
  ASSERT_TRUE(reused.ok()) << reused.status();
  for (const KexecSegment& s : reused->segments) {
    if (s.name == "initrd" || s.name == "kernel") {
      EXPECT_EQ(s.sha256.bytes[0], 0xab) << s.name;
    } else if (s.name == "boot_params") {
      EXPECT_NE(std::memcmp(s.sha256.bytes, marker.bytes, 32), 0);
    }
  }
  bundle.verified_sha256.clear();

  // Without the image the same bundle stages the bzImage as before.
  bundle.capture_kernel_image.clear();
  absl::StatusOr<ArmPlan> plain = BuildArmPlan(bundle, *info, ArmOptions());
  ASSERT_TRUE(plain.ok()) << plain.status();
  for (const KexecSegment& s : plain->segments) {
    if (s.name != "purgatory") continue;
    std::memcpy(&p, s.bytes.data() + h.params_offset, sizeof(p));
    EXPECT_EQ(p.unpack_source_length, 0u);
  }

  // A damaged image header is named.
  bundle.capture_kernel_image = *part;
  bundle.capture_kernel_image[0] = 'X';
  absl::StatusOr<ArmPlan> bad = BuildArmPlan(bundle, *info, ArmOptions());
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "bundle: kernel image: bad magic"))
      << bad.status();
}

TEST(SysInfo, ReadsFakeRoot) {
  const std::string root = MakeRoot("ok", ReadText(kIomem), 2);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->crash_reservation.start, 0x2f000000u);
  EXPECT_EQ(info->crash_reservation.size, 256u << 20);
  ASSERT_EQ(info->cpu_crash_notes.size(), 2u);
  EXPECT_EQ(info->cpu_crash_notes[1].start, 0x3fc14e00u);
  EXPECT_EQ(info->cpu_crash_notes[1].size, 400u);
  EXPECT_EQ(info->vmcoreinfo_note.start, 0x1e6f000u);
  EXPECT_EQ(info->vmcoreinfo_note.size, 0x1024u);
  EXPECT_GT(info->kernel_image.size, 0u);
  EXPECT_EQ(info->kernel_release, "6.1.0-56-amd64");
  // No /proc/kcore in the fake tree: the fallback is reported, not hidden.
  EXPECT_FALSE(info->page_offset_from_kcore);
  EXPECT_EQ(info->page_offset, kDefaultPageOffset);
  bool noted = false;
  for (const auto& n : info->notes) noted |= absl::StrContains(n, "kcore");
  EXPECT_TRUE(noted);
}

TEST(SysInfo, NoReservationSaysCrashkernel) {
  std::string iomem = ReadText(kIomem);
  const size_t at = iomem.find("  2f000000-3effffff : Crash kernel\n");
  ASSERT_NE(at, std::string::npos);
  iomem.erase(at, strlen("  2f000000-3effffff : Crash kernel\n"));
  const std::string root = MakeRoot("nores", iomem, 1);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(absl::StrContains(info.status().message(), "crashkernel=")) << info.status();
  // A typed outcome, not a message to match.
  EXPECT_TRUE(IsNoCrashReservation(info.status())) << info.status();

  // ArmBundle answers it with what this bundle needs, and says so by type.
  ArmRequest request;
  request.root = root;
  request.dry_run = true;
  absl::StatusOr<ArmOutcome> armed = ArmBundle(TestBundle(), request);
  ASSERT_FALSE(armed.ok());
  EXPECT_TRUE(IsNoCrashReservation(armed.status())) << armed.status();
  EXPECT_TRUE(absl::StrContains(armed.status().message(), "this bundle needs crashkernel="))
      << armed.status();
}

TEST(SysInfo, OtherErrorsAreNotNoCrashReservation) {
  const std::string root = MakeRoot("nonotes2", ReadText(kIomem), 0);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_FALSE(info.ok());
  EXPECT_FALSE(IsNoCrashReservation(info.status()));
  EXPECT_FALSE(IsNoCrashReservation(absl::NotFoundError("no 'Crash kernel' range")));
  EXPECT_TRUE(IsNoCrashReservation(NoCrashReservationError("x")));
}

TEST(SysInfo, AcpiRsdpFromTheZeroPage) {
  const std::string root = MakeRoot("rsdp", ReadText(kIomem), 1);
  std::string zero_page(sizeof(BootParams), '\0');
  const uint64_t rsdp = 0xf5a40;
  std::memcpy(&zero_page[offsetof(BootParams, acpi_rsdp_addr)], &rsdp, sizeof(rsdp));
  WriteText(root + "/sys/kernel/boot_params/data", zero_page);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->acpi_rsdp, rsdp);
}

TEST(Arm, DryRunRecordsNothing) {
  const std::string root = MakeRoot("dryrun", ReadText(kIomem), 1);
  ArmRequest request;
  request.root = root;
  request.dry_run = true;
  absl::StatusOr<ArmOutcome> armed = ArmBundle(TestBundle(), request);
  ASSERT_TRUE(armed.ok()) << armed.status();
  EXPECT_TRUE(armed->armed_state_path.empty());
  EXPECT_FALSE(armed->used_file_load);
  struct stat st;
  EXPECT_NE(stat((root + kArmedStateFile).c_str(), &st), 0);
  // The first kernel's console= reached the capture command line.
  EXPECT_TRUE(absl::StrContains(armed->plan.capture_cmdline, "console=ttyS0,115200"))
      << armed->plan.capture_cmdline;
}

TEST(SysInfo, NoCrashNotesSaysKernelSupport) {
  const std::string root = MakeRoot("nonotes", ReadText(kIomem), 0);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(absl::StrContains(info.status().message(), "crash_notes")) << info.status();
}

TEST(SysInfo, MalformedVmcoreinfoNamesFile) {
  const std::string root = MakeRoot("badvmci", ReadText(kIomem), 1);
  WriteText(root + "/sys/kernel/vmcoreinfo", "zz 12\n");
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(absl::StrContains(info.status().message(), "/sys/kernel/vmcoreinfo"))
      << info.status();
}

TEST(Arm, PlanStagesVerifiedSegmentsInsideReservation) {
  const std::string root = MakeRoot("plan", ReadText(kIomem), 2);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_TRUE(info.ok()) << info.status();
  const BundleContents bundle = TestBundle();
  ArmOptions options;
  options.append = "console=ttyS0";
  absl::StatusOr<ArmPlan> plan = BuildArmPlan(bundle, *info, options);
  ASSERT_TRUE(plan.ok()) << plan.status();

  // Segments: page aligned, inside the reservation, not overlapping.
  ASSERT_EQ(plan->segments.size(), 5u);
  for (size_t i = 0; i < plan->segments.size(); ++i) {
    const KexecSegment& s = plan->segments[i];
    EXPECT_EQ(s.mem % 4096, 0u) << s.name;
    EXPECT_TRUE(info->crash_reservation.Contains(Range{s.mem, s.memsz})) << s.name;
    EXPECT_LE(s.bytes.size(), s.memsz) << s.name;
    if (i > 0) {
      const KexecSegment& p = plan->segments[i - 1];
      EXPECT_LE(p.mem + p.memsz, s.mem) << p.name << " overlaps " << s.name;
    }
  }
  const KexecSegment* purgatory = nullptr;
  const KexecSegment* kernel = nullptr;
  const KexecSegment* boot = nullptr;
  const KexecSegment* core = nullptr;
  for (const KexecSegment& s : plan->segments) {
    if (s.name == "purgatory") purgatory = &s;
    if (s.name == "kernel") kernel = &s;
    if (s.name == "boot_params") boot = &s;
    if (s.name == "elfcorehdr") core = &s;
  }
  ASSERT_TRUE(purgatory && kernel && boot && core);

  // The kernel honours its alignment and gets init_size room.
  absl::StatusOr<BzImageInfo> k = ParseBzImage(bundle.capture_kernel);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(kernel->mem % k->kernel_alignment, 0u);

  // Purgatory: entry inside its image, parameter block describing the
  // other segments with their true digests and the 64-bit entry.
  PurgatoryHeader h;
  std::memcpy(&h, purgatory->bytes.data(), sizeof(h));
  EXPECT_EQ(plan->entry, purgatory->mem + h.entry_offset);
  PurgatoryParams p;
  std::memcpy(&p, purgatory->bytes.data() + h.params_offset, sizeof(p));
  ASSERT_EQ(p.region_count, 4u);
  for (uint32_t i = 0; i < p.region_count; ++i) {
    const KexecSegment* seg = nullptr;
    for (const KexecSegment& s : plan->segments) {
      if (s.mem == p.regions[i].start) seg = &s;
    }
    ASSERT_NE(seg, nullptr) << "region " << i << " names no segment";
    EXPECT_EQ(p.regions[i].length, seg->bytes.size());
    const Sha256Digest d =
        Sha256Hash(seg->bytes.data(), seg->bytes.size(), Sha256Engine::kPortable);
    EXPECT_EQ(std::memcmp(d.bytes, p.regions[i].sha256, 32), 0) << seg->name;
  }
  EXPECT_EQ(p.entry_rip, kernel->mem + 0x200);
  EXPECT_EQ(p.entry_rsi, boot->mem);

  // boot_params: the command line carries elfcorehdr= at the core header,
  // and the initrd fields point at the initrd segment.
  EXPECT_TRUE(absl::StrContains(
      plan->capture_cmdline, absl::StrCat("elfcorehdr=0x", absl::Hex(core->mem, absl::kZeroPad16))))
      << plan->capture_cmdline;
  EXPECT_TRUE(absl::StrContains(plan->capture_cmdline, "console=ttyS0"));
  BootParams bp;
  std::memcpy(&bp, boot->bytes.data(), sizeof(bp));
  EXPECT_GT(bp.e820_entries, 0);

  // The core header is a valid ELF core with one note per CPU + VMCOREINFO.
  absl::StatusOr<ElfCoreInfo> elf = ParseElfCoreHeader(core->bytes);
  ASSERT_TRUE(elf.ok()) << elf.status();
  EXPECT_EQ(elf->note_count, 3u);
  // No dumped RAM range overlaps the reservation (it is the capture
  // kernel's own memory).
  for (const ElfCoreProgramHeader& ph : elf->phdrs) {
    if (ph.type != kPtLoad || ph.vaddr >= kStartKernelMap) continue;
    EXPECT_FALSE(info->crash_reservation.Overlaps(Range{ph.paddr, ph.memsz}))
        << absl::StrCat(absl::Hex(ph.paddr));
  }
}

TEST(Arm, CorruptDigestFlagChangesOnlyThatDigest) {
  const std::string root = MakeRoot("corrupt", ReadText(kIomem), 1);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_TRUE(info.ok());
  const BundleContents bundle = TestBundle();
  ArmOptions good, bad;
  bad.corrupt_digest_segment = 2;
  absl::StatusOr<ArmPlan> a = BuildArmPlan(bundle, *info, good);
  absl::StatusOr<ArmPlan> b = BuildArmPlan(bundle, *info, bad);
  ASSERT_TRUE(a.ok() && b.ok());
  auto params = [](const ArmPlan& plan) {
    for (const KexecSegment& s : plan.segments) {
      if (s.name != "purgatory") continue;
      PurgatoryHeader h;
      std::memcpy(&h, s.bytes.data(), sizeof(h));
      PurgatoryParams p;
      std::memcpy(&p, s.bytes.data() + h.params_offset, sizeof(p));
      return p;
    }
    return PurgatoryParams{};
  };
  const PurgatoryParams pa = params(*a), pb = params(*b);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(std::memcmp(pa.regions[i].sha256, pb.regions[i].sha256, 32) == 0, i != 2) << i;
  }
  bad.corrupt_digest_segment = 9;
  EXPECT_FALSE(BuildArmPlan(bundle, *info, bad).ok());
}

// What `bundle verify` checks is what arming checks: a prepared kernel
// image or a purgatory that arm refuses is refused, naming the part.
TEST(Arm, CheckBundleStructureRefusesWhatArmRefuses) {
  const std::string root = MakeRoot("structure", ReadText(kIomem), 1);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_TRUE(info.ok());
  const BundleContents good = TestBundle();
  EXPECT_TRUE(CheckBundleStructure(good).ok()) << CheckBundleStructure(good);
  BundleContents bad_image = good;
  bad_image.capture_kernel_image.assign(4096, 0x5a);
  BundleContents bad_purgatory = good;
  bad_purgatory.purgatory.assign(4096, 0x5a);
  for (const BundleContents* b : {&bad_image, &bad_purgatory}) {
    const absl::Status checked = CheckBundleStructure(*b);
    ASSERT_FALSE(checked.ok());
    absl::StatusOr<ArmPlan> armed = BuildArmPlan(*b, *info, ArmOptions());
    ASSERT_FALSE(armed.ok());
    EXPECT_EQ(checked.message(), armed.status().message());
  }
  EXPECT_TRUE(absl::StrContains(CheckBundleStructure(bad_image).message(), "SVKIMAGE"))
      << CheckBundleStructure(bad_image);
}

TEST(Arm, TooSmallReservationSaysWhatFits) {
  std::string iomem = ReadText(kIomem);
  const std::string old_line = "  2f000000-3effffff : Crash kernel";
  const size_t at = iomem.find(old_line);
  ASSERT_NE(at, std::string::npos);
  iomem.replace(at, old_line.size(), "  3d000000-3effffff : Crash kernel");  // 32 MiB
  const std::string root = MakeRoot("small", iomem, 1);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_TRUE(info.ok()) << info.status();
  absl::StatusOr<ArmPlan> plan = BuildArmPlan(TestBundle(), *info, ArmOptions{});
  ASSERT_FALSE(plan.ok());
  EXPECT_TRUE(absl::StrContains(plan.status().message(), "too small")) << plan.status();
  EXPECT_TRUE(absl::StrContains(plan.status().message(), "boot with crashkernel="))
      << plan.status();
}

TEST(Arm, RejectsForeignPurgatory) {
  const std::string root = MakeRoot("badpurg", ReadText(kIomem), 1);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_TRUE(info.ok());
  BundleContents bundle = TestBundle();
  bundle.purgatory[0] ^= 0xff;  // magic
  absl::StatusOr<ArmPlan> plan = BuildArmPlan(bundle, *info, ArmOptions{});
  ASSERT_FALSE(plan.ok());
  EXPECT_TRUE(absl::StrContains(plan.status().message(), "purgatory")) << plan.status();
}

TEST(Arm, RejectsNonBzImageCaptureKernel) {
  const std::string root = MakeRoot("badkernel", ReadText(kIomem), 1);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_TRUE(info.ok());
  BundleContents bundle = TestBundle();
  bundle.capture_kernel.resize(4096);
  absl::StatusOr<ArmPlan> plan = BuildArmPlan(bundle, *info, ArmOptions{});
  ASSERT_FALSE(plan.ok());
  EXPECT_TRUE(absl::StrContains(plan.status().message(), "capture kernel")) << plan.status();
}

}  // namespace
}  // namespace saveoops

namespace saveoops {
namespace {

TEST(Arm, StoreMapRidesInTheVerifiedInitrd) {
  const std::string root = MakeRoot("storemap", ReadText(kIomem), 2);
  absl::StatusOr<CrashSystemInfo> info = ReadCrashSystemInfo(root);
  ASSERT_TRUE(info.ok()) << info.status();
  BundleContents bundle = TestBundle();
  bundle.capture_initramfs.push_back(0x5a);  // not a multiple of 4
  const std::vector<uint8_t> original = bundle.capture_initramfs;
  // A digest ParseBundle() would have checked for the unchanged part: it
  // must not be reused for the initramfs with the map.
  bundle.verified_sha256[kBundlePartCaptureInitramfs] =
      Sha256Hash(original.data(), original.size(), Sha256BestEngine());
  StoreMap map;
  for (size_t i = 0; i < map.store_uuid.size(); ++i) map.store_uuid[i] = static_cast<uint8_t>(i);
  absl::StatusOr<BundleContents> mapped = WithStoreMap(bundle, map);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  absl::StatusOr<ArmPlan> plan = BuildArmPlan(*mapped, *info, ArmOptions());
  ASSERT_TRUE(plan.ok()) << plan.status();

  const KexecSegment* initrd = nullptr;
  const KexecSegment* boot = nullptr;
  for (const KexecSegment& s : plan->segments) {
    if (s.name == "initrd") initrd = &s;
    if (s.name == "boot_params") boot = &s;
  }
  ASSERT_NE(initrd, nullptr);
  ASSERT_NE(boot, nullptr);
  ASSERT_GT(initrd->bytes.size(), original.size());
  EXPECT_TRUE(std::equal(original.begin(), original.end(), initrd->bytes.begin()));
  // The digest the purgatory checks covers every byte, the map included.
  const Sha256Digest whole =
      Sha256Hash(initrd->bytes.data(), initrd->bytes.size(), Sha256BestEngine());
  EXPECT_EQ(std::memcmp(initrd->sha256.bytes, whole.bytes, sizeof(whole.bytes)), 0);
  // The appended archive starts on a 4-byte boundary after zero padding
  // and holds the map.
  const size_t at = (original.size() + 3) / 4 * 4;
  for (size_t i = original.size(); i < at; ++i) EXPECT_EQ(initrd->bytes[i], 0) << i;
  absl::StatusOr<std::vector<CpioEntry>> entries =
      ParseCpio(absl::MakeConstSpan(initrd->bytes).subspan(at));
  ASSERT_TRUE(entries.ok()) << entries.status();
  const CpioEntry* file = nullptr;
  for (const CpioEntry& e : *entries) {
    if (e.name == "saveoops/store.map") file = &e;
  }
  ASSERT_NE(file, nullptr);
  StatusOr<StoreMap> back = ParseStoreMap(file->data.data(), file->data.size());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->store_uuid, map.store_uuid);
  // boot_params tells the capture kernel the whole initramfs size.
  uint32_t ramdisk_size = 0;
  std::memcpy(&ramdisk_size, boot->bytes.data() + 0x21c, sizeof(ramdisk_size));
  EXPECT_EQ(ramdisk_size, initrd->bytes.size());
}

}  // namespace
}  // namespace saveoops
