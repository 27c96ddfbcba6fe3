#include "initramfs/cpio.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "initramfs/test_tempdir.h"

namespace saveoops {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<uint8_t> Bytes(absl::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::string Str(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

std::vector<std::string> Names(const std::vector<CpioEntry>& entries) {
  std::vector<std::string> names;
  for (const CpioEntry& e : entries) names.push_back(e.name);
  return names;
}

// A header built field by field, for feeding the reader exactly what a test
// needs (including things CpioWriter refuses to write).
std::string Header(uint32_t mode, uint32_t filesize, uint32_t namesize,
                   absl::string_view magic = "070701", uint32_t chksum = 0) {
  return absl::StrFormat("%s%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", magic, 1, mode,
                         0, 0, 1, 0, filesize, 0, 0, 0, 0, namesize, chksum);
}

std::string Pad4(std::string s) {
  s.resize((s.size() + 3) & ~size_t{3}, '\0');
  return s;
}

// One raw member: header, name + NUL, padding, data, padding.
std::string Member(absl::string_view name, uint32_t mode, absl::string_view data,
                   absl::string_view magic = "070701", uint32_t chksum = 0) {
  std::string m = Header(mode, data.size(), name.size() + 1, magic, chksum);
  absl::StrAppend(&m, name);
  m.push_back('\0');
  m = Pad4(m);
  absl::StrAppend(&m, data);
  return Pad4(m);
}

std::string Trailer() { return Member("TRAILER!!!", 0, ""); }

absl::StatusOr<std::vector<CpioEntry>> ParseString(const std::string& s) {
  return ParseCpio(absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

TEST(CpioWriterTest, RoundTripsEveryKindOfEntry) {
  CpioWriter w;
  ASSERT_TRUE(w.AddDirectory("/proc", 0555).ok());
  ASSERT_TRUE(w.AddFile("/init",
                        Bytes("\x7f"
                              "ELF binary"),
                        0755)
                  .ok());
  ASSERT_TRUE(w.AddCharDevice("/dev/console", 0600, 5, 1).ok());
  ASSERT_TRUE(w.AddSymlink("/bin/sh", "/init").ok());
  ASSERT_TRUE(w.AddFile("etc/saveoops/modules", "a.ko\nb.ko\n", 0644).ok());
  const std::vector<uint8_t> archive = w.Finish();
  EXPECT_EQ(archive.size() % 4, 0u);

  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(archive);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  // Parents appear right before their first child, leading '/' removed.
  EXPECT_THAT(Names(*parsed), ElementsAre("proc", "init", "dev", "dev/console", "bin", "bin/sh",
                                          "etc", "etc/saveoops", "etc/saveoops/modules"));
  const std::vector<CpioEntry>& e = *parsed;
  EXPECT_EQ(e[0].mode, 040555u);
  EXPECT_EQ(e[0].nlink, 2u);
  EXPECT_EQ(e[1].mode, 0100755u);
  EXPECT_EQ(Str(e[1].data),
            "\x7f"
            "ELF binary");
  EXPECT_EQ(e[1].nlink, 1u);
  EXPECT_EQ(e[2].mode, 040755u);  // implicit parent
  EXPECT_EQ(e[3].mode, 020600u);
  EXPECT_EQ(e[3].rdev_major, 5u);
  EXPECT_EQ(e[3].rdev_minor, 1u);
  EXPECT_TRUE(e[3].data.empty());
  EXPECT_EQ(e[5].mode, 0120777u);
  EXPECT_EQ(Str(e[5].data), "/init");
  EXPECT_EQ(Str(e[8].data), "a.ko\nb.ko\n");
  for (size_t i = 0; i < e.size(); ++i) {
    EXPECT_EQ(e[i].ino, i + 1) << e[i].name;
    EXPECT_EQ(e[i].mtime, 0u);
    EXPECT_EQ(e[i].uid, 0u);
    EXPECT_EQ(e[i].gid, 0u);
    EXPECT_EQ(e[i].header_offset % 4, 0u);
  }
}

TEST(CpioWriterTest, OutputIsByteExact) {
  CpioWriter w;
  ASSERT_TRUE(w.AddFile("/a", "xyz", 0644).ok());
  // Header of "a": ino 1, mode 0100644, nlink 1, filesize 3, namesize 2;
  // 110 + 2 = 112 is already aligned; "xyz" padded with one zero.
  const std::string expected =
      "070701"
      "00000001"
      "000081a4"
      "00000000"
      "00000000"
      "00000001"
      "00000000"
      "00000003"
      "00000000"
      "00000000"
      "00000000"
      "00000000"
      "00000002"
      "00000000"
      "a" +
      std::string(1, '\0') + "xyz" + std::string(1, '\0') +
      "070701"
      "00000000"
      "00000000"
      "00000000"
      "00000000"
      "00000001"
      "00000000"
      "00000000"
      "00000000"
      "00000000"
      "00000000"
      "00000000"
      "0000000b"
      "00000000"
      "TRAILER!!!" +
      std::string(4, '\0');  // NUL + 3 bytes: 110 + 11 -> 124
  EXPECT_EQ(Str(w.Finish()), expected);
  // Finish() does not consume the writer.
  EXPECT_EQ(Str(w.Finish()), expected);
}

TEST(CpioWriterTest, EmptyArchiveIsJustTheTrailer) {
  CpioWriter w;
  const std::vector<uint8_t> archive = w.Finish();
  EXPECT_EQ(archive.size(), 124u);  // 110 + 11 -> 124
  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(archive);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->empty());
}

TEST(CpioWriterTest, RejectsDuplicatesButAdoptsImplicitDirectories) {
  CpioWriter w;
  ASSERT_TRUE(w.AddFile("/etc/x/y", "", 0644).ok());
  // "etc/x" was created implicitly; naming it now sets its mode.
  ASSERT_TRUE(w.AddDirectory("etc/x", 0700).ok());
  absl::Status again = w.AddDirectory("/etc/x", 0700);
  EXPECT_EQ(again.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(again.message(), HasSubstr("'/etc/x'"));
  EXPECT_THAT(again.message(), HasSubstr("already added"));
  EXPECT_FALSE(w.AddFile("/etc/x/y", "", 0644).ok());
  EXPECT_FALSE(w.AddFile("etc/x/y", "", 0644).ok());  // same path without '/'
  EXPECT_FALSE(w.AddSymlink("/etc/x/y", "z").ok());
  EXPECT_FALSE(w.AddFile("/etc", "", 0644).ok());  // implicit dir, not a file
  absl::Status under_file = w.AddFile("/etc/x/y/z", "", 0644);
  EXPECT_THAT(under_file.message(), HasSubstr("not a directory"));

  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(w.Finish());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(Names(*parsed), ElementsAre("etc", "etc/x", "etc/x/y"));
  EXPECT_EQ((*parsed)[1].mode, 040700u);
}

TEST(CpioWriterTest, RejectsBadPathsAndModes) {
  for (const std::string& bad :
       {std::string(""), std::string("/"), std::string("//a"), std::string("a//b"),
        std::string("a/"), std::string("a/./b"), std::string("../a"), std::string("a/.."),
        std::string("."), std::string("TRAILER!!!"), std::string("/TRAILER!!!"),
        std::string("a\0b", 3), std::string(4096, 'x')}) {
    CpioWriter w;
    absl::Status s = w.AddFile(bad, "", 0644);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "path '" << bad << "'";
    EXPECT_EQ(w.entry_count(), 0u) << bad;
  }
  CpioWriter w;
  EXPECT_TRUE(w.AddFile(std::string(4095, 'x'), "", 0644).ok());
  EXPECT_THAT(w.AddFile("/m", "", 0100644).message(), HasSubstr("0100644"));
  EXPECT_FALSE(w.AddDirectory("/d", 010000).ok());
  EXPECT_FALSE(w.AddSymlink("/l", "").ok());
  EXPECT_FALSE(w.AddSymlink("/l", std::string(4096, 't')).ok());
  EXPECT_FALSE(w.AddSymlink("/l", std::string("a\0b", 3)).ok());
  EXPECT_TRUE(w.AddSymlink("/l", std::string(4095, 't')).ok());
  EXPECT_TRUE(w.AddFile("/setuid", "", 04755).ok());
}

TEST(CpioReaderTest, AcceptsEmptyAndAllZeroInput) {
  for (size_t n : {0, 1, 4, 512}) {
    absl::StatusOr<std::vector<CpioEntry>> parsed = ParseString(std::string(n, '\0'));
    ASSERT_TRUE(parsed.ok()) << n << ": " << parsed.status();
    EXPECT_TRUE(parsed->empty());
  }
}

TEST(CpioReaderTest, AcceptsConcatenatedArchivesWithZeroPadding) {
  CpioWriter a;
  ASSERT_TRUE(a.AddFile("/one", "1", 0644).ok());
  CpioWriter b;
  ASSERT_TRUE(b.AddFile("/two", "22", 0600).ok());
  std::string joined = Str(a.Finish()) + std::string(512, '\0') + Str(b.Finish()) +
                       std::string(4, '\0') + Str(a.Finish()) + std::string(3, '\0');
  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseString(joined);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(Names(*parsed), ElementsAre("one", "two", "one"));
  EXPECT_EQ(Str((*parsed)[1].data), "22");
  EXPECT_EQ((*parsed)[1].header_offset, Str(a.Finish()).size() + 512);
}

TEST(CpioReaderTest, RejectsUnalignedArchiveAfterPadding) {
  CpioWriter a;
  ASSERT_TRUE(a.AddFile("/one", "1", 0644).ok());
  const std::string first = Str(a.Finish());
  const std::string joined = first + std::string(2, '\0') + first;
  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseString(joined);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(),
              HasSubstr(absl::StrFormat("cpio entry 2 at offset 0x%x", first.size() + 2)));
  EXPECT_THAT(parsed.status().message(), HasSubstr("4-byte boundary"));
}

TEST(CpioReaderTest, RejectsBadMagicNamingCompression) {
  struct Case {
    std::string bytes;
    std::string want;
  } cases[] = {
      {std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8), "gzip"},
      {std::string("\xfd"
                   "7zXZ\0\0\0",
                   8),
       "xz"},
      {std::string("\x28\xb5\x2f\xfd\x00\x00\x00\x00", 8), "zstd"},
      {"BZh91AY&", "bzip2"},
      {"070707" + std::string(200, '0'), "odc"},
      {"070703" + std::string(200, '0'), "bad magic '070703'"},
      {"hello", "truncated header"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<CpioEntry>> parsed = ParseString(c.bytes);
    ASSERT_FALSE(parsed.ok()) << c.want;
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.want));
    EXPECT_THAT(parsed.status().message(), HasSubstr("cpio entry 0 at offset 0x0"));
  }
}

TEST(CpioReaderTest, RejectsNonHexInEveryField) {
  const std::string good = Member("f", 0100644, "data") + Trailer();
  ASSERT_TRUE(ParseString(good).ok());
  const char* fields[] = {"c_ino",   "c_mode",     "c_uid",   "c_gid", "c_nlink",
                          "c_mtime", "c_filesize", "c_maj",   "c_min", "c_rmaj",
                          "c_rmin",  "c_namesize", "c_chksum"};
  for (int field = 0; field < 13; ++field) {
    for (char junk : {'g', ' ', '+', 'x', '\0', '-'}) {
      std::string bad = good;
      bad[6 + 8 * field + 3] = junk;
      absl::StatusOr<std::vector<CpioEntry>> parsed = ParseString(bad);
      ASSERT_FALSE(parsed.ok()) << fields[field] << " with '" << junk << "'";
      EXPECT_THAT(parsed.status().message(),
                  HasSubstr(absl::StrCat("field '", fields[field], "'")));
    }
  }
}

TEST(CpioReaderTest, AcceptsUpperCaseHex) {
  std::string m = Member("f", 0100644, std::string(0xab, 'x'));
  absl::StatusOr<std::vector<CpioEntry>> parsed =
      ParseString(absl::AsciiStrToUpper(m.substr(0, 110)) + m.substr(110) + Trailer());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)[0].data.size(), 0xabu);
}

TEST(CpioReaderTest, RejectsBadNames) {
  // namesize 0.
  std::string zero = Header(0100644, 0, 0) + std::string(2, '\0') + Trailer();
  EXPECT_THAT(ParseString(zero).status().message(), HasSubstr("'c_namesize' is 0"));
  // namesize above PATH_MAX.
  std::string huge = Header(0100644, 0, 4097) + std::string(5000, 'a');
  EXPECT_THAT(ParseString(huge).status().message(), HasSubstr("'c_namesize' is 4097"));
  // Name not NUL-terminated: namesize 2 covers "ab".
  std::string no_nul = Pad4(Header(0100644, 0, 2) + "ab") + Trailer();
  EXPECT_THAT(ParseString(no_nul).status().message(), HasSubstr("not NUL-terminated"));
  // NUL inside the name.
  std::string inner = Pad4(Header(0100644, 0, 4) + std::string("a\0b\0", 4)) + Trailer();
  EXPECT_THAT(ParseString(inner).status().message(), HasSubstr("NUL before its end"));
  // Empty name.
  std::string empty = Pad4(Header(0100644, 0, 1) + std::string(1, '\0')) + Trailer();
  EXPECT_THAT(ParseString(empty).status().message(), HasSubstr("empty name"));
  // Name running past the end.
  std::string cut = Header(0100644, 0, 100) + "abc";
  EXPECT_THAT(ParseString(cut).status().message(), HasSubstr("truncated name"));
}

TEST(CpioReaderTest, RejectsOverflowingAndTruncatedData) {
  for (uint32_t filesize : {0xffffffffu, 0xfffffffcu, 0x80000000u, 5u}) {
    std::string m = Pad4(Header(0100644, filesize, 2) + std::string("f\0", 2));
    m += "abcd";
    absl::StatusOr<std::vector<CpioEntry>> parsed = ParseString(m);
    ASSERT_FALSE(parsed.ok()) << filesize;
    EXPECT_THAT(parsed.status().message(), HasSubstr("truncated data of 'f'"));
    EXPECT_THAT(parsed.status().message(),
                HasSubstr(absl::StrFormat("c_filesize is %d", filesize)));
  }
}

TEST(CpioReaderTest, RejectsEveryTruncation) {
  CpioWriter w;
  ASSERT_TRUE(w.AddFile("/init", "#!binary", 0755).ok());
  ASSERT_TRUE(w.AddCharDevice("/dev/console", 0600, 5, 1).ok());
  ASSERT_TRUE(w.AddSymlink("/sbin/init", "/init").ok());
  const std::string full = Str(w.Finish());
  ASSERT_TRUE(ParseString(full).ok());
  for (size_t n = 1; n < full.size(); ++n) {
    EXPECT_FALSE(ParseString(full.substr(0, n)).ok()) << "prefix " << n;
  }
  // Cut right after an entry: the archive lacks its trailer.
  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseString(Member("a", 0100644, "x"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("without a 'TRAILER!!!'"));
}

TEST(CpioReaderTest, ErrorsNameEntryIndexAndOffset) {
  const std::string a = Member("a", 040755, "");
  const std::string b = Member("a/b", 0100644, "bb");
  std::string c = Member("a/c", 0100644, "cc");
  c[6 + 8 * 1] = 'q';  // c_mode
  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseString(a + b + c + Trailer());
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(),
              HasSubstr(absl::StrFormat("cpio entry 2 at offset 0x%x: field "
                                        "'c_mode' is 'q00081a4'",
                                        a.size() + b.size())));
}

TEST(CpioReaderTest, ChecksTypesAndDataRules) {
  EXPECT_THAT(ParseString(Member("x", 0000644, "") + Trailer()).status().message(),
              HasSubstr("unknown file type"));
  EXPECT_THAT(ParseString(Member("x", 0x300041ed, "") + Trailer()).status().message(),
              HasSubstr("field 'c_mode' of 'x' is 0x300041ed"));
  EXPECT_THAT(ParseString(Member("d", 040755, "zz") + Trailer()).status().message(),
              HasSubstr("only regular files and symlinks carry data"));
  EXPECT_THAT(ParseString(Member("l", 0120777, "") + Trailer()).status().message(),
              HasSubstr("0-byte target"));
  EXPECT_THAT(
      ParseString(Member("l", 0120777, std::string("a\0b", 3)) + Trailer()).status().message(),
      HasSubstr("NUL byte in its target"));
  // FIFOs, sockets and block devices are valid members.
  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseString(
      Member("p", 010644, "") + Member("s", 0140755, "") + Member("b", 060600, "") + Trailer());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)[0].type(), kCpioTypeFifo);
  EXPECT_EQ((*parsed)[1].type(), kCpioTypeSocket);
  EXPECT_EQ((*parsed)[2].type(), kCpioTypeBlockDevice);
  EXPECT_EQ((*parsed)[2].permissions(), 0600u);
}

TEST(CpioReaderTest, VerifiesChecksumFormat) {
  // 'a' + 'b' = 0x61 + 0x62 = 0xc3.
  absl::StatusOr<std::vector<CpioEntry>> good =
      ParseString(Member("f", 0100644, "ab", "070702", 0xc3) + Trailer());
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(Str((*good)[0].data), "ab");
  absl::StatusOr<std::vector<CpioEntry>> bad =
      ParseString(Member("f", 0100644, "ab", "070702", 0xc4) + Trailer());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'c_chksum'"));
  EXPECT_THAT(bad.status().message(), HasSubstr("0x000000c3"));
}

// A random tree of entries built from a small alphabet (so that paths nest
// and collide), written, parsed and compared field by field.
TEST(CpioPropertyTest, RandomArchivesRoundTrip) {
  std::mt19937_64 rng(0x5a7e00b5);
  for (int iteration = 0; iteration < 300; ++iteration) {
    CpioWriter w;
    std::map<std::string, CpioEntry> want;  // by name
    const int count = rng() % 20;
    for (int i = 0; i < count; ++i) {
      std::string path;
      const int depth = 1 + rng() % 3;
      for (int d = 0; d < depth; ++d) {
        path += "/";
        path += static_cast<char>('a' + rng() % 3);
      }
      CpioEntry e;
      e.name = path.substr(1);
      absl::Status s;
      switch (rng() % 4) {
        case 0:
          e.mode = kCpioTypeDirectory | (rng() % 01000);
          s = w.AddDirectory(path, e.permissions());
          break;
        case 1: {
          std::string data(rng() % 9, '\0');
          for (char& c : data) c = static_cast<char>(rng());
          e.mode = kCpioTypeRegular | (rng() % 010000);
          e.data = Bytes(data);
          s = w.AddFile(path, e.data, e.permissions());
          break;
        }
        case 2:
          e.mode = kCpioTypeSymlink | 0777;
          e.data = Bytes("../t" + std::string(rng() % 5, 'x'));
          s = w.AddSymlink(path, Str(e.data));
          break;
        default:
          e.mode = kCpioTypeCharDevice | 0600;
          e.rdev_major = rng() % 300;
          e.rdev_minor = rng() % 300;
          s = w.AddCharDevice(path, 0600, e.rdev_major, e.rdev_minor);
          break;
      }
      if (s.ok()) {
        want[e.name] = e;
      } else {
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      }
    }
    const std::vector<uint8_t> archive = w.Finish();
    absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(archive);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->size(), w.entry_count());
    std::set<std::string> seen;
    for (const CpioEntry& got : *parsed) {
      ASSERT_TRUE(seen.insert(got.name).second) << "duplicate " << got.name;
      // Every parent precedes its child.
      const size_t slash = got.name.rfind('/');
      if (slash != std::string::npos) {
        EXPECT_TRUE(seen.count(got.name.substr(0, slash))) << got.name;
      }
      auto it = want.find(got.name);
      if (it == want.end()) {
        EXPECT_EQ(got.mode, 040755u) << got.name;  // an implicit parent
        continue;
      }
      EXPECT_EQ(got.mode, it->second.mode) << got.name;
      EXPECT_EQ(got.data, it->second.data) << got.name;
      EXPECT_EQ(got.rdev_major, it->second.rdev_major) << got.name;
      EXPECT_EQ(got.rdev_minor, it->second.rdev_minor) << got.name;
    }
    for (const auto& [name, entry] : want) {
      EXPECT_TRUE(seen.count(name)) << name;
    }
  }
}

// Random byte flips in a valid archive: the reader may accept or reject but
// must stay in bounds (checked by ASan) and a success must describe data
// that lies inside the input.
TEST(CpioPropertyTest, MutatedArchivesNeverCrash) {
  CpioWriter w;
  ASSERT_TRUE(w.AddFile("/init", std::string(37, 'i'), 0755).ok());
  ASSERT_TRUE(w.AddCharDevice("/dev/console", 0600, 5, 1).ok());
  ASSERT_TRUE(w.AddSymlink("/sbin/init", "/init").ok());
  const std::vector<uint8_t> base = w.Finish();
  std::mt19937_64 rng(42);
  int accepted = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::vector<uint8_t> bytes = base;
    const int flips = 1 + rng() % 3;
    for (int f = 0; f < flips; ++f) {
      const uint8_t pool[] = {'0', '1', '7', 'f', 'F', 'g', 0, 0xff};
      bytes[rng() % bytes.size()] = pool[rng() % sizeof(pool)];
    }
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(bytes);
    if (!parsed.ok()) {
      EXPECT_THAT(parsed.status().message(), HasSubstr("cpio entry "));
      continue;
    }
    ++accepted;
    for (const CpioEntry& e : *parsed) {
      ASSERT_LE(e.header_offset + kCpioHeaderSize + e.name.size() + e.data.size(), bytes.size());
    }
  }
  EXPECT_GT(accepted, 0);  // some flips only touch data bytes
}

// ----------------------------------------------- compatibility with GNU cpio

// Runs a shell command, returning its stdout and failing the test if it
// exits non-zero.
std::string RunCommand(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << command;
  if (pipe == nullptr) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0) << command << "\n" << out;
  return out;
}

constexpr char kCpioTool[] = "/usr/bin/cpio";

// The `ls -l` mode string for a c_mode, as GNU cpio prints it.
std::string LsMode(uint32_t mode) {
  std::string s;
  switch (mode & kCpioTypeMask) {
    case kCpioTypeDirectory:
      s = "d";
      break;
    case kCpioTypeCharDevice:
      s = "c";
      break;
    case kCpioTypeSymlink:
      s = "l";
      break;
    default:
      s = "-";
  }
  const char* rwx = "rwxrwxrwx";
  for (int bit = 8; bit >= 0; --bit) {
    s.push_back(mode & (1u << bit) ? rwx[8 - bit] : '-');
  }
  if (mode & 01000) s[9] = (mode & 1) ? 't' : 'T';
  return s;
}

// `cpio -itv` lists like `ls -l`: mode string, links, owner, group, size (or
// "major, minor" for devices), date, name [-> target].
TEST(CpioCompatibilityTest, GnuCpioListsWhatWeWrite) {
  ASSERT_EQ(access(kCpioTool, X_OK), 0) << kCpioTool << " is not installed";
  CpioWriter w;
  ASSERT_TRUE(w.AddFile("/init", std::string(1000, 'E'), 0755).ok());
  ASSERT_TRUE(w.AddCharDevice("/dev/console", 0600, 5, 1).ok());
  ASSERT_TRUE(w.AddDirectory("/tmp", 01777).ok());
  ASSERT_TRUE(w.AddSymlink("/sbin/init", "/init").ok());
  ASSERT_TRUE(w.AddFile("/etc/saveoops/modules", "a\nb\n", 0644).ok());
  TempDir dir;
  const std::string archive = dir.Write("a.cpio", Str(w.Finish()));
  absl::StatusOr<std::vector<CpioEntry>> ours = ParseCpio(w.Finish());
  ASSERT_TRUE(ours.ok()) << ours.status();

  const std::string listing =
      RunCommand(absl::StrCat(kCpioTool, " -itv --quiet < '", archive, "'"));
  std::vector<std::vector<std::string>> rows;
  for (absl::string_view line : absl::StrSplit(listing, '\n')) {
    if (line.empty()) continue;
    rows.push_back(absl::StrSplit(line, ' ', absl::SkipEmpty()));
  }
  ASSERT_EQ(rows.size(), 9u) << listing;
  ASSERT_EQ(ours->size(), rows.size());
  struct Want {
    const char* mode;
    const char* size;  // for devices: "5," then "1"
    const char* name;
  } want[] = {
      {"-rwxr-xr-x", "1000", "init"},
      {"drwxr-xr-x", "0", "dev"},
      {"crw-------", "5,", "dev/console"},
      {"drwxrwxrwt", "0", "tmp"},
      {"drwxr-xr-x", "0", "sbin"},
      {"lrwxrwxrwx", "5", "sbin/init"},
      {"drwxr-xr-x", "0", "etc"},
      {"drwxr-xr-x", "0", "etc/saveoops"},
      {"-rw-r--r--", "4", "etc/saveoops/modules"},
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::vector<std::string>& r = rows[i];
    ASSERT_GE(r.size(), 9u) << listing;
    EXPECT_EQ(r[0], want[i].mode) << listing;
    // GNU cpio and ParseCpio agree on every member.
    const CpioEntry& e = (*ours)[i];
    EXPECT_EQ(r[0], LsMode(e.mode)) << e.name;
    if (e.type() != kCpioTypeCharDevice) {
      EXPECT_EQ(r[4], absl::StrCat(e.data.size())) << e.name;
    }
    EXPECT_EQ(r[r.size() - (e.type() == kCpioTypeSymlink ? 3 : 1)], e.name);
    EXPECT_EQ(r[2], "root") << listing;
    EXPECT_EQ(r[3], "root") << listing;
    EXPECT_EQ(r[4], want[i].size) << listing;
    if (absl::string_view(want[i].mode)[0] == 'c') {
      EXPECT_EQ(r[5], "1") << listing;
      EXPECT_EQ(r.back(), want[i].name) << listing;
    } else if (absl::string_view(want[i].mode)[0] == 'l') {
      EXPECT_EQ(r[r.size() - 3], want[i].name) << listing;
      EXPECT_EQ(r.back(), "/init") << listing;
    } else {
      EXPECT_EQ(r.back(), want[i].name) << listing;
    }
  }
  // And the contents GNU cpio extracts are ours.
  EXPECT_EQ(RunCommand(absl::StrCat(kCpioTool,
                                    " -i --quiet --to-stdout "
                                    "etc/saveoops/modules < '",
                                    archive, "'")),
            "a\nb\n");
}

// The other direction: an archive written by GNU cpio (an independent
// writer) parses, with the names, modes and contents of the files on disk.
TEST(CpioCompatibilityTest, ParsesWhatGnuCpioWrites) {
  ASSERT_EQ(access(kCpioTool, X_OK), 0) << kCpioTool << " is not installed";
  TempDir dir;
  const std::string root = dir.path() + "/root";
  ASSERT_EQ(mkdir(root.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root + "/sub").c_str(), 0750), 0);
  dir.Write("root/sub/data", std::string(3001, 'd'), 0640);
  dir.Write("root/x", "xx", 0755);
  ASSERT_EQ(symlink("sub/data", (root + "/link").c_str()), 0);
  const std::string archive = dir.path() + "/gnu.cpio";
  RunCommand(absl::StrCat("cd '", root, "' && printf 'sub\\nsub/data\\nx\\nlink\\n' | ", kCpioTool,
                          " -o --quiet -H newc > '", archive, "'"));

  FILE* f = fopen(archive.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::vector<uint8_t> bytes;
  uint8_t buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
    bytes.insert(bytes.end(), buf, buf + n);
  }
  fclose(f);
  EXPECT_EQ(bytes.size() % 512, 0u);  // GNU cpio pads to its block size

  absl::StatusOr<std::vector<CpioEntry>> parsed = ParseCpio(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_THAT(Names(*parsed), ElementsAre("sub", "sub/data", "x", "link"));
  const std::vector<CpioEntry>& e = *parsed;
  EXPECT_EQ(e[0].mode, 040750u);
  EXPECT_EQ(e[1].mode, 0100640u);
  EXPECT_EQ(Str(e[1].data), std::string(3001, 'd'));
  EXPECT_EQ(e[2].mode, 0100755u);
  EXPECT_EQ(Str(e[2].data), "xx");
  EXPECT_EQ(e[3].type(), kCpioTypeSymlink);
  EXPECT_EQ(Str(e[3].data), "sub/data");
}

}  // namespace
}  // namespace saveoops
