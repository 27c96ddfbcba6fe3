// A small command-line parser for Saveoops' binaries: `--name=value` and
// `--switch` flags, each declared with help text, positional arguments, and
// `--help`. Unknown flags are errors that name the flag.
#ifndef SAVEOOPS_HOST_FLAGS_H_
#define SAVEOOPS_HOST_FLAGS_H_

#include <stdint.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace saveoops {

class CommandLine {
 public:
  // `usage` is the one-line synopsis, `summary` a paragraph for --help.
  CommandLine(std::string usage, std::string summary);

  // Declares a flag taking a value (--name=value or --name value).
  void Flag(const std::string& name, const std::string& default_value, const std::string& help);
  // Declares a switch (--name, or --name=true/false).
  void Switch(const std::string& name, const std::string& help);

  // Parses argv[first..]. Returns false when --help was given (Help() then
  // says what to print). Errors name the bad argument.
  absl::StatusOr<bool> Parse(int argc, char** argv, int first);

  std::string Get(const std::string& name) const;
  bool IsSet(const std::string& name) const;    // given on the command line
  bool Enabled(const std::string& name) const;  // a switch that is on
  absl::StatusOr<int64_t> GetInt(const std::string& name) const;
  // Sizes like 16M, 4096, 1G, 0x1000 (binary units).
  absl::StatusOr<uint64_t> GetSize(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

  std::string Help() const;

 private:
  struct Spec {
    std::string default_value;
    std::string help;
    bool is_switch = false;
  };
  std::string usage_, summary_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// Parses a size with an optional K/M/G/T suffix (powers of 1024).
absl::StatusOr<uint64_t> ParseSize(const std::string& text);

}  // namespace saveoops

#endif  // SAVEOOPS_HOST_FLAGS_H_
