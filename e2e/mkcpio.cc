// mkcpio OUT DEST=SRC...: writes a newc cpio archive holding each host file
// SRC at DEST (executables keep mode 0755). Used by the e2e suite to build
// the first kernel's test initramfs.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "initramfs/cpio.h"

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr,
                 "usage: mkcpio OUT.cpio /dest/path=/host/file...\n"
                 "Writes a newc cpio archive (the initramfs format) with each host file\n"
                 "at its destination path, plus /dev, /proc, /sys and /dev/console.\n");
    return argc < 2 ? 2 : 0;
  }
  saveoops::CpioWriter w;
  for (const char* dir : {"/dev", "/proc", "/sys", "/tmp", "/run"}) {
    if (!w.AddDirectory(dir, 0755).ok()) return 1;
  }
  if (!w.AddCharDevice("/dev/console", 0600, 5, 1).ok()) return 1;
  for (int i = 2; i < argc; ++i) {
    const std::string spec = argv[i];
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "mkcpio: '%s' is not DEST=SRC\n", spec.c_str());
      return 2;
    }
    const std::string dest = spec.substr(0, eq), src = spec.substr(eq + 1);
    std::ifstream in(src, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "mkcpio: cannot read %s\n", src.c_str());
      return 1;
    }
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    struct stat st;
    const bool exec = stat(src.c_str(), &st) == 0 && (st.st_mode & 0111) != 0;
    absl::Status s = w.AddFile(dest, absl::Span<const uint8_t>(bytes), exec ? 0755 : 0644);
    if (!s.ok()) {
      std::fprintf(stderr, "mkcpio: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  const std::vector<uint8_t> out = w.Finish();
  FILE* f = std::fopen(argv[1], "wb");
  if (f == nullptr || std::fwrite(out.data(), 1, out.size(), f) != out.size() ||
      std::fclose(f) != 0) {
    std::fprintf(stderr, "mkcpio: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
