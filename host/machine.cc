#include "host/machine.h"

#include "common/cmdline.h"
#include "common/files.h"

namespace saveoops {

std::string HostRoot() {
  // /proc/cmdline is a few KiB at most (COMMAND_LINE_SIZE).
  const StatusOr<std::string> line = ReadTextFileBounded("/proc/cmdline", 1 << 20, "/proc/cmdline");
  if (!line.ok()) return "";
  // The kernel keeps the last root= (init/do_mounts.c, root_dev_setup()).
  return CmdlineValue(*line, "root").value_or("");
}

}  // namespace saveoops
