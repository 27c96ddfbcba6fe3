// A scratch directory for the initramfs tests, removed when the test ends.
//
// It lives under $TEST_TMPDIR when Bazel sets it (the only place a sandboxed
// test may write), else under /tmp.
#ifndef SAVEOOPS_INITRAMFS_TEST_TEMPDIR_H_
#define SAVEOOPS_INITRAMFS_TEST_TEMPDIR_H_

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <string>

#include "gtest/gtest.h"

namespace saveoops {

// Example:
//   TempDir dir;
//   std::string path = dir.Write("a/b.txt", "hello", 0600);
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/saveoops_initramfs.XXXXXX";
    if (mkdtemp(&tmpl[0]) != nullptr) {
      path_ = tmpl;
    } else {
      ADD_FAILURE() << "mkdtemp(" << tmpl << ") failed";
    }
  }
  ~TempDir() {
    if (!path_.empty()) {
      EXPECT_EQ(system(("rm -rf '" + path_ + "'").c_str()), 0);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The directory's absolute path.
  const std::string& path() const { return path_; }

  // Writes `contents` to path()/`name` with permission bits `mode`, creating
  // missing directories (0755) on the way, and returns the full path.
  std::string Write(const std::string& name, const std::string& contents,
                    mode_t mode = 0644) const {
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
    EXPECT_EQ(chmod(full.c_str(), mode), 0) << full;
    return full;
  }

 private:
  std::string path_;
};

}  // namespace saveoops

#endif  // SAVEOOPS_INITRAMFS_TEST_TEMPDIR_H_
