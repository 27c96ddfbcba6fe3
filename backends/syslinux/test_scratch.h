// Test helpers for the Syslinux backend: a scratch directory removed at the
// end, and the installed kernel.
// (//initramfs:test_tempdir is private to initramfs/; if it is made public,
// this header can go.)
#ifndef SAVEOOPS_BACKENDS_SYSLINUX_TEST_SCRATCH_H_
#define SAVEOOPS_BACKENDS_SYSLINUX_TEST_SCRATCH_H_

#include <glob.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace saveoops {

// Lives under $TEST_TMPDIR (the only place a sandboxed test may write).
//   ScratchDir dir;
//   std::string p = dir.Write("sys/kernel/x", "0x1\n");
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/saveoops_syslinux.XXXXXX";
    if (mkdtemp(&tmpl[0]) != nullptr) path_ = tmpl;
    EXPECT_FALSE(path_.empty()) << "mkdtemp(" << tmpl << ") failed";
  }
  ~ScratchDir() {
    if (!path_.empty()) EXPECT_EQ(system(("rm -rf '" + path_ + "'").c_str()), 0);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes path()/name (parents created) and returns the full path.
  std::string Write(const std::string& name, const std::string& contents) const {
    for (size_t slash = name.find('/'); slash != std::string::npos;
         slash = name.find('/', slash + 1)) {
      mkdir((path_ + "/" + name.substr(0, slash)).c_str(), 0755);
    }
    const std::string full = path_ + "/" + name;
    FILE* f = fopen(full.c_str(), "wb");
    EXPECT_NE(f, nullptr) << full;
    if (f == nullptr) return full;
    EXPECT_EQ(fwrite(contents.data(), 1, contents.size(), f), contents.size());
    EXPECT_EQ(fclose(f), 0);
    return full;
  }

 private:
  std::string path_;
};

// The newest installed /boot/vmlinuz-* ("" if none): a real bzImage for
// tests that parse or stage one (linux-image-amd64, as the e2e suite).
inline std::string NewestInstalledKernel() {
  glob_t g{};
  std::string newest;
  if (glob("/boot/vmlinuz-*", 0, nullptr, &g) == 0 && g.gl_pathc > 0) {
    newest = g.gl_pathv[g.gl_pathc - 1];
  }
  globfree(&g);
  return newest;
}

}  // namespace saveoops

#endif  // SAVEOOPS_BACKENDS_SYSLINUX_TEST_SCRATCH_H_
