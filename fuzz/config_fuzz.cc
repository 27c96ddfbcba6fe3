// Fuzzes the KEY=VALUE settings parsers (common/key_value.h): the
// saveoops.conf schema (host/config.h), collect's state file (store/
// collect.h) and, on the same bytes, the journal entry decoder
// (store/journal.h). Every parser stays in bounds; every setting it accepts
// obeys the documented limits; a journal entry that decodes re-encodes to
// the same bytes when its fields are plain.
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <string_view>

#include "common/key_value.h"
#include "host/config.h"
#include "store/collect.h"
#include "store/journal.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saveoops;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  StatusOr<std::vector<KeyValue>> kv = ParseKeyValues(in, "f");
  if (kv.ok()) {
    for (const KeyValue& e : *kv) {
      Check(!e.key.empty() && e.key.size() <= kMaxKeyLength);
      Check(e.value.size() <= kMaxKeyValueLine);
      Check(e.value.find('\n') == std::string::npos);
      Check(e.line >= 1);
      StatusOr<uint64_t> n = KeyValueNumber(e, "f", 1000);
      if (n.ok()) Check(*n <= 1000);
    }
  }
  absl::StatusOr<SaveoopsConfig> config = ParseSaveoopsConfig(in, "f");
  if (config.ok()) {
    Check(kv.ok());
    Check(config->store.empty() || config->store[0] == '/');
    Check(config->collect_dir.empty() || config->collect_dir[0] == '/');
    Check(!config->retention || *config->retention <= kMaxRetention);
  }
  Uuid uuid{};
  StatusOr<uint64_t> through = ParseCollectState(in, uuid, "f");
  if (through.ok()) {
    Check(ParseCollectState(FormatCollectState(uuid, *through), uuid, "f").ok());
  }
  StatusOr<std::vector<std::pair<std::string, std::string>>> fields = DecodeJournalEntry(in);
  if (fields.ok()) {
    JournalEntry e;
    bool valid = true;
    for (const auto& [k, v] : *fields) {
      valid = valid && IsValidJournalKey(k);
      e.Add(k, v);
    }
    if (valid) {
      StatusOr<std::string> again = e.Encode();
      Check(again.ok());
      StatusOr<std::vector<std::pair<std::string, std::string>>> back = DecodeJournalEntry(*again);
      Check(back.ok() && *back == *fields);
    }
  }
  return 0;
}
