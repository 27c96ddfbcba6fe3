#include "common/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace saveoops {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/files_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    DIR* d = opendir(dir_.c_str());
    while (dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    closedir(d);
    return names;
  }
  std::string dir_;
};

TEST_F(FilesTest, ReadsARegularFileWhole) {
  ASSERT_TRUE(WriteFileAtomic(Path("a"), std::string("hello"), 0644).ok());
  StatusOr<std::vector<uint8_t>> got = ReadFileBounded(Path("a"), 100, "--kernel");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(std::string(got->begin(), got->end()), "hello");
}

TEST_F(FilesTest, RefusesADirectoryNamingTheFlagAndPath) {
  StatusOr<std::vector<uint8_t>> got = ReadFileBounded(dir_, 100, "--kernel");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("--kernel " + dir_), std::string::npos);
  EXPECT_NE(got.status().message().find("is a directory"), std::string::npos);
}

TEST_F(FilesTest, RefusesACharacterDeviceWithoutReadingIt) {
  StatusOr<std::vector<uint8_t>> got = ReadFileBounded("/dev/zero", 1 << 20, "--memmap");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("character device"), std::string::npos);
}

TEST_F(FilesTest, RefusesAFifoWithoutBlocking) {
  ASSERT_EQ(mkfifo(Path("fifo").c_str(), 0600), 0);
  StatusOr<std::vector<uint8_t>> got = ReadFileBounded(Path("fifo"), 100, "--initrd");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("FIFO"), std::string::npos);
}

TEST_F(FilesTest, MissingPathIsNotFound) {
  StatusOr<std::vector<uint8_t>> got = ReadFileBounded(Path("none"), 100, "--purgatory");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("--purgatory"), std::string::npos);
}

TEST_F(FilesTest, RefusesAFileOverTheLimit) {
  ASSERT_TRUE(WriteFileAtomic(Path("big"), std::string(101, 'x'), 0600).ok());
  StatusOr<std::vector<uint8_t>> got = ReadFileBounded(Path("big"), 100, "--kernel");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("101 bytes"), std::string::npos);
  EXPECT_TRUE(ReadFileBounded(Path("big"), 101, "--kernel").ok());
}

TEST_F(FilesTest, ReadsProcFilesWhoseSizeIsUnknown) {
  StatusOr<std::string> got = ReadTextFileBounded("/proc/self/status", 1 << 20, "status");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_NE(got->find("Name:"), std::string::npos);
  // Bounded even when stat() says 0 bytes.
  EXPECT_FALSE(ReadTextFileBounded("/proc/self/status", 10, "status").ok());
}

TEST_F(FilesTest, AtomicWriteAppliesTheModeWhateverTheUmask) {
  const mode_t old = umask(0);
  ASSERT_TRUE(WriteFileAtomic(Path("m"), std::string("x"), 0600).ok());
  umask(old);
  struct stat st {};
  ASSERT_EQ(stat(Path("m").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Names().size(), 1u);  // no temporary file left
}

TEST_F(FilesTest, AtomicWriteReplacesAPlantedSymlinkInsteadOfFollowingIt) {
  ASSERT_TRUE(WriteFileAtomic(Path("victim"), std::string("keep"), 0600).ok());
  ASSERT_EQ(symlink(Path("victim").c_str(), Path("out").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(Path("out"), std::string("new"), 0600).ok());
  StatusOr<std::string> victim = ReadTextFileBounded(Path("victim"), 100, "victim");
  ASSERT_TRUE(victim.ok());
  EXPECT_EQ(*victim, "keep");
  struct stat st {};
  ASSERT_EQ(lstat(Path("out").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(FilesTest, UncommittedAtomicFileLeavesNothing) {
  {
    StatusOr<AtomicFile> f = AtomicFile::Create(Path("half"), 0600);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(WriteFull(f->fd(), "abc", 3, "half").ok());
  }
  EXPECT_TRUE(Names().empty());
}

TEST_F(FilesTest, FailedCommitLeavesNothing) {
  ASSERT_EQ(mkdir(Path("sub").c_str(), 0700), 0);
  ASSERT_EQ(mkdir(Path("sub/target").c_str(), 0700), 0);  // rename over a directory fails
  StatusOr<AtomicFile> f = AtomicFile::Create(Path("sub/target"), 0600);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->Commit().ok());
  DIR* d = opendir(Path("sub").c_str());
  int entries = 0;
  while (dirent* e = readdir(d)) entries += std::string(e->d_name)[0] != '.';
  closedir(d);
  EXPECT_EQ(entries, 1);  // just the directory "target"
}

// A write cut short (RLIMIT_FSIZE: EFBIG, as a full disk gives ENOSPC)
// fails and leaves neither the file nor its temporary, and an existing file
// of that name as it was.
TEST_F(FilesTest, AtomicWriteFailingMidwayLeavesNothingAndKeepsTheOldFile) {
  ASSERT_TRUE(WriteFileAtomic(Path("old"), std::string("previous"), 0600).ok());
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const struct rlimit l = {4096, 4096};
    if (setrlimit(RLIMIT_FSIZE, &l) != 0) _exit(3);
    const std::string big(65536, 'x');
    const bool failed = !WriteFileAtomic(Path("new"), big, 0600).ok() &&
                        !WriteFileAtomic(Path("old"), big, 0600).ok();
    _exit(failed ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a write past the limit succeeded";
  EXPECT_EQ(Names(), std::vector<std::string>{"old"});
  StatusOr<std::string> old = ReadTextFileBounded(Path("old"), 100, "old");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(*old, "previous");
}

TEST_F(FilesTest, RemoveTreeRemovesLinksNotWhatTheyPointTo) {
  ASSERT_EQ(mkdir(Path("keep").c_str(), 0700), 0);
  ASSERT_TRUE(WriteFileAtomic(Path("keep/file"), std::string("kept"), 0600).ok());
  ASSERT_EQ(mkdir(Path("tree").c_str(), 0700), 0);
  ASSERT_EQ(mkdir(Path("tree/sub").c_str(), 0700), 0);
  ASSERT_TRUE(WriteFileAtomic(Path("tree/sub/f"), std::string("x"), 0600).ok());
  ASSERT_EQ(symlink(Path("keep").c_str(), Path("tree/dirlink").c_str()), 0);
  ASSERT_EQ(symlink(Path("keep/file").c_str(), Path("tree/sub/filelink").c_str()), 0);
  ASSERT_TRUE(RemoveTree(Path("tree")).ok());
  EXPECT_EQ(Names(), std::vector<std::string>{"keep"});
  StatusOr<std::string> kept = ReadTextFileBounded(Path("keep/file"), 100, "kept");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, "kept");
  EXPECT_TRUE(RemoveTree(Path("missing")).ok());
}

TEST_F(FilesTest, PreadFullReportsTheEnd) {
  ASSERT_TRUE(WriteFileAtomic(Path("p"), std::string("0123456789"), 0600).ok());
  UniqueFd fd(open(Path("p").c_str(), O_RDONLY));
  char buf[4];
  ASSERT_TRUE(PreadFull(fd.get(), buf, 4, 6, "p").ok());
  EXPECT_EQ(std::string(buf, 4), "6789");
  Status s = PreadFull(fd.get(), buf, 4, 8, "p");
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
}

TEST(DirectoryOfTest, Parts) {
  EXPECT_EQ(DirectoryOf("a/b/c"), "a/b");
  EXPECT_EQ(DirectoryOf("/c"), "/");
  EXPECT_EQ(DirectoryOf("c"), ".");
}

}  // namespace
}  // namespace saveoops
