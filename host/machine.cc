#include "host/machine.h"

#include <fstream>
#include <iterator>

#include "common/cmdline.h"

namespace saveoops {

std::string HostRoot() {
  std::ifstream in("/proc/cmdline");
  const std::string line((std::istreambuf_iterator<char>(in)), {});
  // The kernel keeps the last root= (init/do_mounts.c, root_dev_setup()).
  return CmdlineValue(line, "root").value_or("");
}

}  // namespace saveoops
