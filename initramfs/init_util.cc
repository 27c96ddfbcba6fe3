#include "initramfs/init_util.h"

#include <fcntl.h>
#include <unistd.h>

namespace saveoops {

std::string ReadFileOrEmpty(const char* path) {
  std::string out;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::optional<std::string> KernelCmdlineValue(std::string_view cmdline, std::string_view key) {
  const std::string needle = std::string(key) + "=";
  size_t pos = 0;
  while ((pos = cmdline.find(needle, pos)) != std::string_view::npos) {
    if (pos == 0 || cmdline[pos - 1] == ' ') {
      const size_t start = pos + needle.size();
      if (start < cmdline.size() && cmdline[start] == '"') {
        const size_t end = cmdline.find('"', start + 1);
        return std::string(cmdline.substr(
            start + 1, end == std::string_view::npos ? std::string_view::npos : end - start - 1));
      }
      const size_t end = cmdline.find_first_of(" \n", start);
      return std::string(cmdline.substr(
          start, end == std::string_view::npos ? std::string_view::npos : end - start));
    }
    pos += key.size();
  }
  return std::nullopt;
}

}  // namespace saveoops
