// The kexec backend's directory, through the registered backend: written
// whole or not at all.
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "common/files.h"
#include "gtest/gtest.h"
#include "host/flags.h"

namespace saveoops {
namespace {

class KexecPackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/kexec_pack.XXXXXX";
    ASSERT_NE(mkdtemp(&tmpl[0]), nullptr);
    dir_ = tmpl;
    backend_ = FindBackend("kexec");
    ASSERT_NE(backend_, nullptr);
    binary_ = dir_ + "/in-saveoops";
    ASSERT_TRUE(WriteFileAtomic(binary_, std::string(4096, 'b'), 0755).ok());
    small_bundle_ = dir_ + "/in-small.bundle";
    ASSERT_TRUE(WriteFileAtomic(small_bundle_, std::string(8192, 's'), 0644).ok());
    // Larger than the file size limit the failing packs run under.
    big_bundle_ = dir_ + "/in-big.bundle";
    ASSERT_TRUE(WriteFileAtomic(big_bundle_, std::string(kLimit * 2, 'B'), 0644).ok());
    out_ = dir_ + "/out";
  }
  void TearDown() override { EXPECT_TRUE(RemoveTree(dir_).ok()); }

  absl::Status Pack(const std::string& bundle) const {
    PackContext ctx;
    ctx.bundle_path = bundle;
    ctx.saveoops_binary_path = binary_;
    ctx.crashkernel_bytes = 128u << 20;
    ctx.out = out_;
    ctx.progress = [](const std::string&) {};
    CommandLine cl("pack", "test");
    backend_->DeclareFlags(cl);
    return backend_->Pack(ctx, cl);
  }

  // Packs `ctx` into out_ with pack's command line given `flag`.
  absl::Status PackWithFlag(PackContext ctx, const char* flag) const {
    ctx.out = out_;
    ctx.progress = [](const std::string&) {};
    CommandLine cl("pack", "test");
    backend_->DeclareFlags(cl);
    const char* argv[] = {"pack", flag};
    absl::StatusOr<bool> parsed = cl.Parse(2, const_cast<char**>(argv), 1);
    if (!parsed.ok()) return parsed.status();
    return backend_->Pack(ctx, cl);
  }

  // Packs in a child whose writes stop at kLimit bytes of any file
  // (RLIMIT_FSIZE: write(2) past it fails with EFBIG, as a full disk fails
  // with ENOSPC); true if the pack reported the failure.
  bool PackFailsUnderFileSizeLimit(const std::string& bundle) const {
    const pid_t pid = fork();
    if (pid == 0) {
      signal(SIGXFSZ, SIG_IGN);
      const struct rlimit l = {kLimit, kLimit};
      if (setrlimit(RLIMIT_FSIZE, &l) != 0) _exit(3);
      _exit(Pack(bundle).ok() ? 1 : 0);
    }
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
  }

  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    DIR* d = opendir(dir_.c_str());
    while (dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != ".." && n.rfind("in-", 0) != 0) names.push_back(n);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string Read(const std::string& path) const {
    StatusOr<std::string> text = ReadTextFileBounded(path, 1 << 20, "test file");
    return text.ok() ? *text : "(unreadable: " + std::string(text.status().message()) + ")";
  }

  static constexpr uint64_t kLimit = 64 * 1024;
  const Backend* backend_ = nullptr;
  std::string dir_, binary_, small_bundle_, big_bundle_, out_;
};

TEST_F(KexecPackTest, WritesTheWholeTree0755AndNothingElse) {
  const absl::Status s = Pack(small_bundle_);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Names(), std::vector<std::string>{"out"});
  struct stat st {};
  ASSERT_EQ(stat(out_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  for (const char* f : {"/bin/saveoops", "/saveoops.bundle", "/install.sh", "/crashkernel.txt",
                        "/systemd/saveoops-arm.service", "/initramfs-tools/hooks/saveoops",
                        "/initramfs-tools/scripts/init-bottom/saveoops"}) {
    EXPECT_EQ(access((out_ + f).c_str(), F_OK), 0) << f;
  }
  EXPECT_EQ(Read(out_ + "/saveoops.bundle"), std::string(8192, 's'));
  EXPECT_EQ(Read(out_ + "/crashkernel.txt"), "crashkernel=128M\n");
  // A second pack replaces the tree whole.
  ASSERT_TRUE(Pack(small_bundle_).ok());
  EXPECT_EQ(Names(), std::vector<std::string>{"out"});
}

TEST_F(KexecPackTest, APackFailingMidwayLeavesNoDirectory) {
  ASSERT_TRUE(PackFailsUnderFileSizeLimit(big_bundle_));
  EXPECT_EQ(Names(), std::vector<std::string>{}) << "a half-filled --out or a staging dir is left";
}

TEST_F(KexecPackTest, APackFailingMidwayKeepsThePreviousTree) {
  ASSERT_TRUE(Pack(small_bundle_).ok());
  const std::string install = Read(out_ + "/install.sh");
  ASSERT_TRUE(PackFailsUnderFileSizeLimit(big_bundle_));
  EXPECT_EQ(Names(), std::vector<std::string>{"out"});
  EXPECT_EQ(Read(out_ + "/saveoops.bundle"), std::string(8192, 's'));
  EXPECT_EQ(Read(out_ + "/install.sh"), install);
}

TEST_F(KexecPackTest, ADebWithAMissingInputNamesItAndLeavesNoPackage) {
  PackContext ctx;
  ctx.saveoops_binary_path = binary_;
  ctx.capture_binary_path = dir_ + "/in-no-such-capture";
  ctx.purgatory_path = small_bundle_;
  const absl::Status s = PackWithFlag(ctx, "--format=deb");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("in-no-such-capture"), std::string::npos) << s;
  // --out exists (made before the inputs were read) but holds nothing.
  DIR* d = opendir(out_.c_str());
  ASSERT_NE(d, nullptr);
  int entries = 0;
  while (dirent* e = readdir(d))
    entries += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
  closedir(d);
  EXPECT_EQ(entries, 0);
}

TEST_F(KexecPackTest, AnUnknownFormatIsRefusedNamingIt) {
  const absl::Status s = PackWithFlag(PackContext(), "--format=rpm");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--format=rpm: must be tree or deb"), std::string::npos) << s;
}

}  // namespace
}  // namespace saveoops
