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
  // Declares a numeric flag and its range: an integer in [min, max], or a
  // size (ParseSize: 16M, 4096, 0x1000) in [min, max]. Parse refuses any
  // other value (not a number, a negative size, one past 64 bits, one out
  // of range) with an error naming the flag, the value and the range, e.g.
  // "--cpus=-5 is out of range (1..8192)", before the command does anything.
  // A size flag whose default is "" may be given as "" (meaning "as needed").
  // Every numeric flag is declared with one of these; --help shows the range.
  void IntFlag(const std::string& name, const std::string& default_value, const std::string& help,
               int64_t min, int64_t max);
  void SizeFlag(const std::string& name, const std::string& default_value, const std::string& help,
                uint64_t min, uint64_t max);

  // Parses argv[first..]. Returns false when --help was given (Help() then
  // says what to print). Errors name the bad argument.
  absl::StatusOr<bool> Parse(int argc, char** argv, int first);

  std::string Get(const std::string& name) const;
  bool IsSet(const std::string& name) const;    // given on the command line
  bool Enabled(const std::string& name) const;  // a switch that is on
  // The value of an IntFlag / SizeFlag (checked against its range again, so
  // a default outside it is an error too).
  absl::StatusOr<int64_t> GetInt(const std::string& name) const;
  // Sizes like 16M, 4096, 1G, 0x1000 (binary units).
  absl::StatusOr<uint64_t> GetSize(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

  std::string Help() const;

 private:
  enum class Kind { kText, kSwitch, kInt, kSize };
  struct Spec {
    std::string default_value;
    std::string help;
    Kind kind = Kind::kText;
    int64_t int_min = 0, int_max = 0;
    uint64_t size_min = 0, size_max = 0;
  };
  // OK if `value` is what `spec` takes; else an error naming --name=value.
  absl::Status CheckValue(const std::string& name, const Spec& spec,
                          const std::string& value) const;

  std::string usage_, summary_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// Parses a size with an optional K/M/G/T suffix (powers of 1024).
absl::StatusOr<uint64_t> ParseSize(const std::string& text);

// A size as a flag's range shows it: 4K, 25M, 2T when exact, else bytes.
std::string FormatSizeForRange(uint64_t bytes);

}  // namespace saveoops

#endif  // SAVEOOPS_HOST_FLAGS_H_
