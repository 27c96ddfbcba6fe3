// How the saveoops CLI shows a record. Format: store/display.h.
#include "store/display.h"

#include <stdint.h>
#include <stdio.h>

#include <limits>
#include <string>

#include "absl/strings/string_view.h"
#include "common/format.h"
#include "common/status.h"

namespace saveoops {
namespace {

// Bytes of the longest UTF-8 sequence (RFC 3629).
constexpr size_t kMaxUtf8Sequence = 4;

// "\x1b": visible, and unambiguous for a reader.
void AppendEscaped(uint8_t c, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char text[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
  out->append(text, sizeof(text));
}

// Fails the chunk's write to `out` with an error naming what was written.
Status WriteOut(FILE* out, absl::string_view text) {
  if (!text.empty() && fwrite(text.data(), 1, text.size(), out) != text.size()) {
    return InternalError(Format("cannot write %u bytes to the output", text.size()));
  }
  return OkStatus();
}

}  // namespace

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

size_t TerminalText::Escape(absl::string_view s, bool final, std::string* out) const {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    if (c == '\n' || c == '\t') {
      if (kind_ == kLog) {
        *out += static_cast<char>(c);
      } else {
        AppendEscaped(c, out);
      }
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      AppendEscaped(c, out);
      ++i;
    } else if (c < 0x80) {
      *out += static_cast<char>(c);
      ++i;
    } else if (const size_t n = Utf8SequenceLength(s, i); n != 0) {
      // U+0080-U+009F (C2 80-C2 9F) are the C1 controls: CSI is U+009B, and
      // terminals act on them.
      if (c == 0xc2 && static_cast<uint8_t>(s[i + 1]) < 0xa0) {
        AppendEscaped(c, out);
        AppendEscaped(static_cast<uint8_t>(s[i + 1]), out);
      } else {
        out->append(s.data() + i, n);
      }
      i += n;
    } else if (!final && s.size() - i < kMaxUtf8Sequence) {
      break;  // perhaps a character the next piece completes
    } else {
      AppendEscaped(c, out);
      ++i;
    }
  }
  return i;
}

void TerminalText::Append(absl::string_view text, std::string* out) {
  // At most kMaxUtf8Sequence - 1 bytes are held back between pieces.
  std::string joined;
  if (!held_.empty()) {
    joined = held_;
    joined.append(text.data(), text.size());
    text = joined;
  }
  const size_t used = Escape(text, /*final=*/false, out);
  held_.assign(text.data() + used, text.size() - used);
}

void TerminalText::Finish(std::string* out) {
  Escape(held_, /*final=*/true, out);
  held_.clear();
}

std::string TerminalSafe(absl::string_view text, TerminalText::Kind kind) {
  std::string out;
  TerminalText t(kind);
  t.Append(text, &out);
  t.Finish(&out);
  return out;
}

std::string FormatUuid(const Uuid& u) {
  const std::string hex =
      HexString(absl::string_view(reinterpret_cast<const char*>(u.data()), u.size()));
  return Concat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                hex.substr(16, 4), "-", hex.substr(20, 12));
}

std::string FormatUtc(uint64_t unix_seconds) {
  if (unix_seconds > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Concat(unix_seconds, " (unix seconds, out of range)");
  }
  // Proleptic Gregorian calendar from the day count: shift the epoch to
  // 0000-03-01 so each 400-year era (146097 days) ends with the leap day,
  // then split the era into years, the year into 153-day month pairs.
  const int64_t days = static_cast<int64_t>(unix_seconds / 86400) + 719468;
  const int64_t seconds_of_day = static_cast<int64_t>(unix_seconds % 86400);
  const int64_t era = days / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
  const int64_t month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  return Format("%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, seconds_of_day / 3600,
                seconds_of_day / 60 % 60, seconds_of_day % 60);
}

std::string FormatRecordHeaderForDisplay(const CaptureRecord& r) {
  return FormatRecordHeaderForDisplay(r, nullptr);
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
      // U+0080..U+009F (C1 controls, 0xc2 0x80..0x9f) are escaped too: a
      // UTF-8 terminal acts on U+009B as on ESC [ when the JSON is printed.
      if (n == 2 && c == 0xc2 && static_cast<uint8_t>(s[i + 1]) <= 0x9f) {
        out += Format("\\u%04x", static_cast<uint8_t>(s[i + 1]));
      } else {
        out.append(s.data() + i, n);
      }
      i += n;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += "\"";
  return out;
}

std::string FormatSignatureForDisplay(const CrashSignature& sig) {
  std::string out;
  AppendFormat(&out, "Signature:      %s\n", sig.hex);
  std::string frames;
  for (const std::string& f : sig.frames) {
    if (!frames.empty()) frames += ' ';
    frames += f;
  }
  AppendFormat(
      &out, "Frames:         %s\n",
      frames.empty() ? std::string("(no call trace)") : TerminalSafe(frames, TerminalText::kLine));
  return out;
}

StatusOr<CrashSignature> ReadRecordSignature(const StoreLocation& location,
                                             const CaptureRecord& record) {
  std::string log;
  Status s = ReadRecordLog(location, record, [&](const uint8_t* data, size_t size) {
    // Keeps the log's tail: the signature reads its last kMaxSignatureLogBytes.
    log.append(reinterpret_cast<const char*>(data), size);
    if (log.size() > 2 * kMaxSignatureLogBytes) {
      log.erase(0, log.size() - kMaxSignatureLogBytes);
    }
    return Status();
  });
  if (!s.ok()) return s;
  return ComputeSignature(record.panic_reason, log);
}

std::string FormatRecordHeaderForDisplay(const CaptureRecord& r, const CrashSignature* sig) {
  std::string out;
  AppendFormat(&out, "Record:         #%u (store %s, offset %u)\n", r.sequence,
               FormatUuid(r.store_uuid), r.offset_in_store);
  AppendFormat(&out, "Captured:       %s\n", FormatUtc(r.capture_time_unix));
  AppendFormat(&out, "Kernel release: %s%s\n", TerminalSafe(r.kernel_release, TerminalText::kLine),
               r.kernel_release_truncated ? " [cut]" : "");
  AppendFormat(&out, "Panic reason:   %s%s\n", TerminalSafe(r.panic_reason, TerminalText::kLine),
               r.panic_reason_truncated ? " [cut]" : "");
  AppendFormat(&out, "Boot ID:        %s\n",
               IsZeroUuid(r.boot_id) ? std::string("unknown") : FormatUuid(r.boot_id));
  if (r.log_truncated) {
    AppendFormat(&out,
                 "Log:            %u bytes (TRUNCATED: the first %u of %u bytes did "
                 "not fit the store)\n",
                 r.log_size, r.original_log_size - r.log_size, r.original_log_size);
  } else {
    AppendFormat(&out, "Log:            %u bytes\n", r.log_size);
  }
  if (sig != nullptr) out += FormatSignatureForDisplay(*sig);
  out += std::string(64, '-');
  out += '\n';
  return out;
}

std::string FormatRecordForDisplay(const CaptureRecord& record) {
  CaptureRecord r = record;
  r.log_size = r.log_text.size();
  CrashSignature sig = ComputeSignature(r.panic_reason, r.log_text);
  std::string out = FormatRecordHeaderForDisplay(r, &sig);
  out += TerminalSafe(r.log_text, TerminalText::kLog);
  if (!r.log_text.empty() && r.log_text.back() != '\n') out += '\n';
  return out;
}

Status ShowRecord(const StoreLocation& location, const CaptureRecord& record, ShowMode mode,
                  FILE* out) {
  if (mode == ShowMode::kRaw) {
    return ReadRecordLog(location, record, [&](const uint8_t* data, size_t size) {
      return WriteOut(out, absl::string_view(reinterpret_cast<const char*>(data), size));
    });
  }
  StatusOr<CrashSignature> sig = ReadRecordSignature(location, record);
  if (!sig.ok()) return sig.status();
  if (Status s = WriteOut(out, FormatRecordHeaderForDisplay(record, &*sig)); !s.ok()) return s;
  TerminalText text(TerminalText::kLog);
  std::string piece;
  char last = '\n';
  Status s = ReadRecordLog(location, record, [&](const uint8_t* data, size_t size) {
    piece.clear();
    text.Append(absl::string_view(reinterpret_cast<const char*>(data), size), &piece);
    last = static_cast<char>(data[size - 1]);
    return WriteOut(out, piece);
  });
  piece.clear();
  text.Finish(&piece);
  if (record.log_size != 0 && last != '\n') piece += '\n';
  if (Status w = WriteOut(out, piece); !w.ok() && s.ok()) s = w;
  return s;
}

std::string FormatListing(const StoreListing& l, uint64_t store_offset) {
  std::string out = Format("store %s at offset %u: %u record(s)", FormatUuid(l.info.uuid),
                           store_offset, l.records.size());
  if (l.skipped_corrupt > 0) AppendFormat(&out, ", %d damaged skipped", l.skipped_corrupt);
  out += '\n';
  for (const CaptureRecord& r : l.records) {
    AppendFormat(&out, "seq %u  %s  %s  %s\n", r.sequence,
                 TerminalSafe(r.kernel_release, TerminalText::kLine),
                 FormatUtc(r.capture_time_unix), TerminalSafe(r.panic_reason, TerminalText::kLine));
  }
  return out;
}

}  // namespace saveoops
