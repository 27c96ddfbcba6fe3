// `saveoops collect`. Rules: store/collect.h, store/store_format.h.
#include "store/collect.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <string>

#include "absl/strings/string_view.h"
#include "common/files.h"
#include "common/format.h"
#include "store/display.h"

namespace saveoops {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one
// (RFC 3629, section 4: no overlongs, no surrogates, <= U+10FFFF).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xbf) return 0;
  }
  return n;
}

// A JSON string literal (RFC 8259, section 7). Bytes that are not valid
// UTF-8 become U+FFFD, so the file is always valid JSON.
std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out += Format("\\u%04x", c);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (size_t n = Utf8SequenceLength(s, i); n != 0) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += "\"";
  return out;
}

Status MakeDirs(const std::string& dir) {
  if (dir.empty()) {
    return InvalidArgumentError("collect: empty directory");
  }
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string prefix = dir.substr(0, i);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return PermissionDeniedError(
          Format("collect: cannot create directory '%s': %s", prefix,
                 strerror(errno)));
    }
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(
        Format("collect: '%s' is not a directory", dir));
  }
  return OkStatus();
}

// One collected file, readable by root only (DESIGN.md: records are 0600
// in a 0700 directory). WriteFileAtomic also fsync()s the directory, which
// makes the rename durable before the next file is written.
Status WriteCollected(const std::string& path, const std::string& contents) {
  Status s = WriteFileAtomic(path, contents, 0600);
  if (!s.ok()) return Status(s.code(), Concat("collect: ", s.message()));
  return OkStatus();
}

}  // namespace

std::string CollectedLogName(const CaptureRecord& record) {
  return Format("%s-%08u.log", FormatUuid(record.store_uuid), record.sequence);
}

std::string CollectedMetaName(const CaptureRecord& record) {
  return Format("%s-%08u.json", FormatUuid(record.store_uuid), record.sequence);
}

std::string RecordMetadataJson(const CaptureRecord& r) {
  std::string out = "{\n";
  AppendTo(&out, "  \"store_uuid\": ", JsonString(FormatUuid(r.store_uuid)),
           ",\n");
  AppendTo(&out, "  \"sequence\": ", r.sequence, ",\n");
  AppendTo(&out, "  \"boot_id\": ",
           IsZeroUuid(r.boot_id) ? "null" : JsonString(FormatUuid(r.boot_id)),
           ",\n");
  AppendTo(&out, "  \"capture_time_unix\": ", r.capture_time_unix, ",\n");
  AppendTo(&out, "  \"capture_time_utc\": ",
           JsonString(FormatUtc(r.capture_time_unix)), ",\n");
  AppendTo(&out, "  \"kernel_release\": ", JsonString(r.kernel_release), ",\n");
  AppendTo(&out, "  \"kernel_release_truncated\": ",
           r.kernel_release_truncated ? "true" : "false", ",\n");
  AppendTo(&out, "  \"panic_reason\": ", JsonString(r.panic_reason), ",\n");
  AppendTo(&out, "  \"panic_reason_truncated\": ",
           r.panic_reason_truncated ? "true" : "false", ",\n");
  AppendTo(&out, "  \"log_size\": ", r.log_text.size(), ",\n");
  AppendTo(&out, "  \"log_truncated\": ", r.log_truncated ? "true" : "false",
           ",\n");
  AppendTo(&out, "  \"original_log_size\": ", r.original_log_size, ",\n");
  AppendTo(&out, "  \"log_sha256\": ",
           JsonString(HexString(absl::string_view(
               reinterpret_cast<const char*>(r.log_sha256.data()), r.log_sha256.size()))),
           ",\n");
  AppendTo(&out, "  \"offset_in_store\": ", r.offset_in_store, ",\n");
  AppendTo(&out, "  \"log_file\": ", JsonString(CollectedLogName(r)), "\n");
  out += "}\n";
  return out;
}

StatusOr<CollectResult> CollectRecords(const StoreLocation& location,
                                       const std::string& dir) {
  StatusOr<StoreListing> listing = ListRecords(location);
  if (!listing.ok()) return listing.status();
  CollectResult result;
  result.info = listing->info;
  result.skipped_corrupt = listing->skipped_corrupt;
  if (Status s = MakeDirs(dir); !s.ok()) return s;
  for (const CaptureRecord& r : listing->records) {
    const std::string meta_name = CollectedMetaName(r);
    const std::string meta_path = Concat(dir, "/", meta_name);
    struct stat st;
    if (stat(meta_path.c_str(), &st) == 0) {
      ++result.already_present;
      continue;
    }
    const std::string log_name = CollectedLogName(r);
    const std::string log_path = Concat(dir, "/", log_name);
    if (Status s = WriteCollected(log_path, r.log_text); !s.ok()) return s;
    // The .json goes last: its presence is the "collected" mark.
    if (Status s = WriteCollected(meta_path, RecordMetadataJson(r)); !s.ok()) return s;
    result.written.push_back({r.sequence, log_path, meta_path});
  }
  return result;
}

}  // namespace saveoops
