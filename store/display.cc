// How the saveoops CLI shows a record. Format: store/display.h.
#include "store/display.h"

#include <stdint.h>

#include <limits>
#include <string>

#include "absl/strings/string_view.h"
#include "common/format.h"

namespace saveoops {
namespace {

// Control characters shown as '?', for one-line display fields.
std::string PrintableLine(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const uint8_t u = static_cast<uint8_t>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

}  // namespace

std::string FormatUuid(const Uuid& u) {
  const std::string hex =
      HexString(absl::string_view(reinterpret_cast<const char*>(u.data()), u.size()));
  return Concat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4),
                "-", hex.substr(16, 4), "-", hex.substr(20, 12));
}

std::string FormatUtc(uint64_t unix_seconds) {
  if (unix_seconds >
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Concat(unix_seconds, " (unix seconds, out of range)");
  }
  // Proleptic Gregorian calendar from the day count: shift the epoch to
  // 0000-03-01 so each 400-year era (146097 days) ends with the leap day,
  // then split the era into years, the year into 153-day month pairs.
  const int64_t days = static_cast<int64_t>(unix_seconds / 86400) + 719468;
  const int64_t seconds_of_day = static_cast<int64_t>(unix_seconds % 86400);
  const int64_t era = days / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era = (day_of_era - day_of_era / 1460 +
                               day_of_era / 36524 - day_of_era / 146096) /
                              365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
  const int64_t month =
      month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  return Format("%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day,
                seconds_of_day / 3600, seconds_of_day / 60 % 60,
                seconds_of_day % 60);
}

std::string FormatRecordForDisplay(const CaptureRecord& r) {
  std::string out;
  AppendFormat(&out, "Record:         #%u (store %s, offset %u)\n", r.sequence,
               FormatUuid(r.store_uuid), r.offset_in_store);
  AppendFormat(&out, "Captured:       %s\n", FormatUtc(r.capture_time_unix));
  AppendFormat(&out, "Kernel release: %s%s\n", PrintableLine(r.kernel_release),
               r.kernel_release_truncated ? " [cut]" : "");
  AppendFormat(&out, "Panic reason:   %s%s\n", PrintableLine(r.panic_reason),
               r.panic_reason_truncated ? " [cut]" : "");
  AppendFormat(
      &out, "Boot ID:        %s\n",
      IsZeroUuid(r.boot_id) ? std::string("unknown") : FormatUuid(r.boot_id));
  if (r.log_truncated) {
    AppendFormat(
        &out,
        "Log:            %u bytes (TRUNCATED: the first %u of %u bytes did "
        "not fit the store)\n",
        r.log_text.size(), r.original_log_size - r.log_text.size(),
        r.original_log_size);
  } else {
    AppendFormat(&out, "Log:            %u bytes\n", r.log_text.size());
  }
  out += std::string(64, '-');
  out += '\n';
  out += r.log_text;
  if (!r.log_text.empty() && r.log_text.back() != '\n') out += '\n';
  return out;
}

}  // namespace saveoops
