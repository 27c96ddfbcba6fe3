#include "capture/vmcore.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "capture/test_vmcore.h"
#include "common/elfcore.h"
#include "gtest/gtest.h"

namespace saveoops {
namespace {

std::vector<uint8_t> Bytes(absl::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

// Two notes and three PT_LOADs: [0x1000, 0x2000) and [0x2000, 0x2800)
// contiguous in both address spaces, [0x5000, 0x5100) apart with memsz
// twice its filesz.
BuiltVmcore SampleCore() {
  VmcoreImageBuilder b;
  b.AddNote("CORE", 1, Pattern(336, 1));
  b.AddVmcoreInfo("OSRELEASE=6.1.0-18-amd64\nPAGESIZE=4096\n");
  b.AddLoad(0x1000, 0xffff888000001000, Pattern(0x1000, 10));
  b.AddLoad(0x2000, 0xffff888000002000, Pattern(0x800, 20));
  b.AddLoad(0x5000, 0xffffffff81000000, Pattern(0x100, 30), 0x200);
  return b.Build();
}

TEST(VmcoreTest, ReadsNotesAndVmcoreInfo) {
  BuiltVmcore image = SampleCore();
  MemoryByteSource source(image.bytes);
  absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
  ASSERT_TRUE(core.ok()) << core.status();
  ASSERT_EQ(core->notes().size(), 2u);
  EXPECT_EQ(core->notes()[0].name, "CORE");
  EXPECT_EQ(core->notes()[0].type, 1u);
  EXPECT_EQ(core->notes()[0].desc, Pattern(336, 1));
  EXPECT_EQ(core->notes()[1].name, "VMCOREINFO");
  EXPECT_EQ(core->notes()[1].type, 0u);
  EXPECT_EQ(core->VmcoreInfo(),
            std::optional<std::string>("OSRELEASE=6.1.0-18-amd64\nPAGESIZE=4096\n"));
  ASSERT_EQ(core->segments().size(), 3u);
  EXPECT_EQ(core->segments()[2].paddr, 0x5000u);
  EXPECT_EQ(core->segments()[2].filesz, 0x100u);
  EXPECT_EQ(core->segments()[2].memsz, 0x200u);
}

TEST(VmcoreTest, NoVmcoreInfoNoteGivesNullopt) {
  VmcoreImageBuilder b;
  b.AddNote("CORE", 1, Pattern(16, 0));
  b.AddLoad(0, 0, Pattern(16, 0));
  BuiltVmcore image = b.Build();
  MemoryByteSource source(image.bytes);
  absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
  ASSERT_TRUE(core.ok()) << core.status();
  EXPECT_EQ(core->VmcoreInfo(), std::nullopt);
}

TEST(VmcoreTest, ReadPhysWithinAndAcrossContiguousSegments) {
  BuiltVmcore image = SampleCore();
  MemoryByteSource source(image.bytes);
  absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
  ASSERT_TRUE(core.ok()) << core.status();

  std::vector<uint8_t> out(16);
  ASSERT_TRUE(core->ReadPhys(0x1010, absl::MakeSpan(out)).ok());
  const std::vector<uint8_t> first = Pattern(0x1000, 10);
  std::vector<uint8_t> want(first.begin() + 0x10, first.begin() + 0x20);
  EXPECT_EQ(out, want);

  // 8 bytes from the end of the first segment, 8 from the second.
  ASSERT_TRUE(core->ReadPhys(0x1ff8, absl::MakeSpan(out)).ok());
  const std::vector<uint8_t> a = Pattern(0x1000, 10);
  const std::vector<uint8_t> b = Pattern(0x800, 20);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[i], a[0xff8 + i]) << i;
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[8 + i], b[i]) << i;
}

TEST(VmcoreTest, ReadVirtAcrossContiguousSegments) {
  BuiltVmcore image = SampleCore();
  MemoryByteSource source(image.bytes);
  absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
  ASSERT_TRUE(core.ok()) << core.status();
  std::vector<uint8_t> out(0x1800);
  ASSERT_TRUE(core->ReadVirt(0xffff888000001000, absl::MakeSpan(out)).ok());
  std::vector<uint8_t> want = Pattern(0x1000, 10);
  const std::vector<uint8_t> b = Pattern(0x800, 20);
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(out, want);
}

TEST(VmcoreTest, BytesPastFileszReadAsZero) {
  BuiltVmcore image = SampleCore();
  MemoryByteSource source(image.bytes);
  absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
  ASSERT_TRUE(core.ok()) << core.status();
  std::vector<uint8_t> out(0x20, 0xaa);
  ASSERT_TRUE(core->ReadPhys(0x50f0, absl::MakeSpan(out)).ok());
  const std::vector<uint8_t> c = Pattern(0x100, 30);
  for (int i = 0; i < 0x10; ++i) EXPECT_EQ(out[i], c[0xf0 + i]) << i;
  for (int i = 0x10; i < 0x20; ++i) EXPECT_EQ(out[i], 0) << i;
}

TEST(VmcoreTest, UnmappedReadsFailNamingTheAddress) {
  BuiltVmcore image = SampleCore();
  MemoryByteSource source(image.bytes);
  absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
  ASSERT_TRUE(core.ok()) << core.status();
  std::vector<uint8_t> out(16);
  absl::Status s = core->ReadPhys(0x3000, absl::MakeSpan(out));
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_NE(s.message().find("0x3000"), std::string::npos) << s;
  // Runs off the end of the second segment into the hole at 0x2800.
  s = core->ReadPhys(0x27f8, absl::MakeSpan(out));
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_NE(s.message().find("0x2800"), std::string::npos) << s;
  // Past memsz of the third segment.
  s = core->ReadPhys(0x51f8, absl::MakeSpan(out));
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  s = core->ReadVirt(0xffff888000000ff8, absl::MakeSpan(out));
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_NE(s.message().find("virtual"), std::string::npos) << s;
  // The very top of the address space must not wrap around.
  s = core->ReadVirt(0xfffffffffffffff8, absl::MakeSpan(out));
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
}

// One damaged field: `width` little-endian bytes at file offset `offset` of a
// SampleCore() image set to `value`, and a substring of the error it must
// give.
struct Damage {
  size_t offset;
  uint64_t value;
  int width;
  const char* want;
};

void ExpectRejected(const Damage& d) {
  BuiltVmcore image = SampleCore();
  for (int i = 0; i < d.width; ++i) {
    image.bytes[d.offset + i] = static_cast<uint8_t>(d.value >> (8 * i));
  }
  MemoryByteSource source(image.bytes);
  absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
  ASSERT_FALSE(core.ok()) << d.want;
  EXPECT_NE(core.status().message().find(d.want), std::string::npos)
      << core.status() << " (want '" << d.want << "')";
}

TEST(VmcoreTest, RejectsBadElfHeaderFieldsNamingThem) {
  const Damage cases[] = {
      {0, 0x7e, 1, "e_ident"},
      {3, 'G', 1, "e_ident"},
      {kEiClass, 1, 1, "EI_CLASS"},
      {kEiData, 2, 1, "EI_DATA"},
      {kEiVersion, 0, 1, "EI_VERSION"},
      {offsetof(Elf64Ehdr, e_type), 2, 2, "'e_type' is 2"},
      {offsetof(Elf64Ehdr, e_machine), 3, 2, "'e_machine' is 3"},
      {offsetof(Elf64Ehdr, e_version), 2, 4, "e_version"},
      {offsetof(Elf64Ehdr, e_ehsize), 52, 2, "e_ehsize"},
      {offsetof(Elf64Ehdr, e_phentsize), 32, 2, "e_phentsize"},
      {offsetof(Elf64Ehdr, e_phnum), 0, 2, "e_phnum"},
      {offsetof(Elf64Ehdr, e_phnum), 0xffff, 2, "PN_XNUM"},
      {offsetof(Elf64Ehdr, e_phnum), 0xfffe, 2, "e_phoff"},
      {offsetof(Elf64Ehdr, e_phoff), 0xfffffffffffffff0, 8, "e_phoff"},
  };
  for (const Damage& d : cases) ExpectRejected(d);
}

// File offset of program header `i` of a SampleCore() image.
size_t PhdrAt(size_t i) { return sizeof(Elf64Ehdr) + i * sizeof(Elf64Phdr); }

TEST(VmcoreTest, RejectsSegmentsOutsideTheFile) {
  const Damage cases[] = {
      // Program header 1 (the first PT_LOAD) claims more than the file has.
      {PhdrAt(1) + offsetof(Elf64Phdr, p_filesz), 0x100000, 8, "PT_LOAD (program header 1)"},
      {PhdrAt(1) + offsetof(Elf64Phdr, p_memsz), 0x10, 8, "more than p_memsz"},
      {PhdrAt(1) + offsetof(Elf64Phdr, p_paddr), 0xfffffffffffff800, 8, "overflows"},
      {PhdrAt(1) + offsetof(Elf64Phdr, p_vaddr), 0xfffffffffffff800, 8, "overflows"},
      {PhdrAt(0) + offsetof(Elf64Phdr, p_offset), 0xffffffffffffff00, 8, "PT_NOTE"},
  };
  for (const Damage& d : cases) ExpectRejected(d);
}

TEST(VmcoreTest, RejectsBadNotes) {
  const size_t first_note = PhdrAt(4);  // After the 4 program headers.
  const Damage cases[] = {
      {first_note + 4, Vmcore::kMaxNoteDescSize + 1, 4, "n_descsz"},
      {first_note + 4, 0x10000, 4, "runs past"},
      {first_note, 5000, 4, "n_namesz"},
  };
  for (const Damage& d : cases) ExpectRejected(d);
}

TEST(VmcoreTest, AllZeroNoteHeaderEndsTheNotes) {
  // A raw elfcorehdr keeps the kernel's zero terminator after each CPU's
  // notes and pads the segment; everything after it is ignored.
  VmcoreImageBuilder b;
  b.AddNote("CORE", 1, Pattern(8, 0));
  b.AddNote("", 0, {});  // Writes namesz=1; patched to zero below.
  b.AddLoad(0, 0, Pattern(16, 0));
  BuiltVmcore image = b.Build();
  const size_t second_note = PhdrAt(2) + 12 + 8 + 8;
  memset(&image.bytes[second_note], 0, 4);  // n_namesz = 0
  MemoryByteSource source(image.bytes);
  absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
  ASSERT_TRUE(core.ok()) << core.status();
  ASSERT_EQ(core->notes().size(), 1u);
  EXPECT_EQ(core->notes()[0].name, "CORE");
}

TEST(VmcoreTest, EveryTruncationIsAnErrorOrConsistent) {
  const BuiltVmcore image = SampleCore();
  for (size_t n = 0; n < image.bytes.size(); n += 7) {
    std::vector<uint8_t> prefix(image.bytes.begin(), image.bytes.begin() + n);
    MemoryByteSource source(prefix);
    absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
    // The last PT_LOAD's data ends the file, so every proper prefix cuts
    // something the headers describe.
    EXPECT_FALSE(core.ok()) << "prefix of " << n << " bytes";
  }
}

TEST(VmcoreTest, RandomByteFlipsNeverCrash) {
  const BuiltVmcore image = SampleCore();
  // The headers and notes: everything before the first PT_LOAD's data.
  const size_t header_bytes = image.load_offsets[0];
  std::mt19937_64 rng(0x5eed0001);
  int accepted = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> bytes = image.bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      bytes[rng() % header_bytes] ^= static_cast<uint8_t>(1 + rng() % 255);
    }
    MemoryByteSource source(bytes);
    absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
    if (!core.ok()) continue;
    ++accepted;
    for (const ElfNote& note : core->notes()) {
      EXPECT_LE(note.desc.size(), Vmcore::kMaxNoteDescSize);
    }
    (void)core->VmcoreInfo();
    std::vector<uint8_t> out(64);
    for (const VmcoreSegment& s : core->segments()) {
      (void)core->ReadPhys(s.paddr, absl::MakeSpan(out));
      (void)core->ReadVirt(s.vaddr + s.memsz - 1, absl::MakeSpan(out));
    }
  }
  // Flips in padding or descriptor bytes leave a valid core.
  EXPECT_GT(accepted, 0);
}

TEST(VmcoreTest, MemoryByteSourceReadsShortAtTheEnd) {
  const std::vector<uint8_t> data = Bytes("0123456789");
  MemoryByteSource source(data);
  EXPECT_EQ(source.size(), 10u);
  std::vector<uint8_t> out(4);
  EXPECT_EQ(*source.ReadAt(8, absl::MakeSpan(out)), 2u);
  EXPECT_EQ(out[0], '8');
  EXPECT_EQ(*source.ReadAt(10, absl::MakeSpan(out)), 0u);
  EXPECT_EQ(*source.ReadAt(UINT64_MAX, absl::MakeSpan(out)), 0u);
}

TEST(VmcoreTest, FileByteSourceReadsTheSameCore) {
  const BuiltVmcore image = SampleCore();
  const char* tmpdir = getenv("TEST_TMPDIR");
  std::string path = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/vmcore_testXXXXXX";
  const int fd = mkstemp(&path[0]);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, image.bytes.data(), image.bytes.size()),
            static_cast<ssize_t>(image.bytes.size()));
  close(fd);

  absl::StatusOr<std::unique_ptr<FileByteSource>> file = FileByteSource::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->size(), image.bytes.size());
  absl::StatusOr<Vmcore> core = Vmcore::Open(file->get());
  ASSERT_TRUE(core.ok()) << core.status();
  EXPECT_EQ(core->notes().size(), 2u);
  std::vector<uint8_t> out(0x10);
  ASSERT_TRUE(core->ReadPhys(0x2000, absl::MakeSpan(out)).ok());
  const std::vector<uint8_t> b = Pattern(0x800, 20);
  EXPECT_TRUE(std::equal(out.begin(), out.end(), b.begin()));
  std::vector<uint8_t> tail(8);
  EXPECT_EQ(*(*file)->ReadAt(image.bytes.size() - 3, absl::MakeSpan(tail)), 3u);
  EXPECT_EQ(*(*file)->ReadAt(UINT64_MAX - 2, absl::MakeSpan(tail)), 0u);
  unlink(path.c_str());

  absl::StatusOr<std::unique_ptr<FileByteSource>> missing = FileByteSource::Open(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
}

TEST(VmcoreTest, FileByteSourceOnAPipeHasUnknownSize) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    FileByteSource source(fds[0]);
    EXPECT_EQ(source.size(), ByteSource::kUnknownSize);
    std::vector<uint8_t> out(4);
    // pread on a pipe fails with ESPIPE: an error, not a crash.
    EXPECT_FALSE(source.ReadAt(0, absl::MakeSpan(out)).ok());
  }
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace saveoops

namespace saveoops {
namespace {

// /proc/kcore marks segments without a physical address (vmalloc, modules)
// with p_paddr = ~0 and a memsz that would overflow from there. `saveoops
// arm` reads kcore with this class, so such segments must be accepted for
// virtual reads and never used for physical ones.
TEST(VmcoreTest, KcoreSegmentsWithoutPhysicalAddress) {
  VmcoreImageBuilder b;
  b.AddVmcoreInfo("OSRELEASE=6.1.0\n");
  b.AddLoad(VmcoreSegment::kNoPhysicalAddress, 0xffffc90000000000ull,
            std::vector<uint8_t>(64, 0xab), 0x1fffffffffffull);
  b.AddLoad(0x1000, 0xffff888000001000ull, std::vector<uint8_t>(64, 0xcd));
  BuiltVmcore image = b.Build();
  MemoryByteSource source(image.bytes);
  absl::StatusOr<Vmcore> core = Vmcore::Open(&source);
  ASSERT_TRUE(core.ok()) << core.status();
  std::vector<uint8_t> out(16);
  ASSERT_TRUE(core->ReadVirt(0xffffc90000000000ull, absl::MakeSpan(out)).ok());
  EXPECT_EQ(out[0], 0xab);
  ASSERT_TRUE(core->ReadPhys(0x1000, absl::MakeSpan(out)).ok());
  EXPECT_EQ(out[0], 0xcd);
  // A physical read at an address the ~0 segment would "cover" fails.
  EXPECT_FALSE(core->ReadPhys(0xfffffffffffff000ull, absl::MakeSpan(out)).ok());
}

}  // namespace
}  // namespace saveoops
