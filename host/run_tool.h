// Runs a host tool (mtools, dpkg-deb, ...) and reports its failure with its
// own words.
#ifndef SAVEOOPS_HOST_RUN_TOOL_H_
#define SAVEOOPS_HOST_RUN_TOOL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace saveoops {

// Runs argv (argv[0] an absolute path, or a name looked up in PATH) with
// `env` added to the environment, stdout and stderr captured. OK when it
// exits 0; else an error naming the command line, how it ended and its
// output. `output`, when given, receives what it printed either way.
absl::Status RunTool(const std::vector<std::string>& argv,
                     const std::vector<std::pair<std::string, std::string>>& env = {},
                     std::string* output = nullptr);

}  // namespace saveoops

#endif  // SAVEOOPS_HOST_RUN_TOOL_H_
