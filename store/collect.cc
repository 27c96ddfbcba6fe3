// `saveoops collect`. Rules: store/collect.h, store/store_format.h.
#include "store/collect.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>

#include "absl/strings/string_view.h"
#include "common/files.h"
#include "common/format.h"
#include "store/display.h"

namespace saveoops {
namespace {

Status Refuse(const std::string& dir, const std::string& why) {
  return PermissionDeniedError(Format("collect: refusing directory '%s': %s", dir, why));
}

// Whether a directory that is not the collection directory itself may lie
// on the way to it: only root or the invoking user can rename or replace
// what is in it (owned by one of them, and not writable by others unless
// sticky, as /tmp is).
Status CheckAncestor(const std::string& dir, const std::string& ancestor) {
  struct stat st;
  if (stat(ancestor.c_str(), &st) != 0) {
    return FailedPreconditionError(
        Format("collect: cannot stat '%s': %s", ancestor, strerror(errno)));
  }
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    return Refuse(dir, Format("'%s' on its path is owned by uid %u, neither root nor the "
                              "invoking user (uid %u)",
                              ancestor, st.st_uid, geteuid()));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
    return Refuse(dir, Format("'%s' on its path is writable by group or others (mode 0%o) "
                              "and not sticky",
                              ancestor, st.st_mode & 07777));
  }
  return OkStatus();
}

// Creates `dir` as needed (mode 0700) and opens it, locked against other
// collects (flock(2) on the directory itself, so no lock file lies beside
// the records). Refused: a directory that is a symbolic link, not owned by
// the invoking user, or writable by group or others, since whoever can
// write there could plant links at the names collect writes.
StatusOr<UniqueFd> OpenCollectDir(const std::string& dir) {
  if (dir.empty()) return InvalidArgumentError("collect: empty directory");
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string prefix = dir.substr(0, i);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return PermissionDeniedError(
          Format("collect: cannot create directory '%s': %s", prefix, strerror(errno)));
    }
    if (i == dir.size()) break;
    if (Status s = CheckAncestor(dir, prefix); !s.ok()) return s;
  }
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    // O_DIRECTORY|O_NOFOLLOW on a link fails with ENOTDIR or ELOOP.
    const int err = errno;
    struct stat link;
    if (lstat(dir.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
      return Refuse(dir, "it is a symbolic link");
    }
    errno = err;
    return FailedPreconditionError(
        Format("collect: '%s' is not a directory: %s", dir, strerror(errno)));
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) {
    return FailedPreconditionError(Format("collect: cannot stat '%s': %s", dir, strerror(errno)));
  }
  if (st.st_uid != geteuid()) {
    return Refuse(dir, Format("it is owned by uid %u, not by the invoking user (uid %u)", st.st_uid,
                              geteuid()));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Refuse(dir, Format("it is writable by group or others (mode 0%o)", st.st_mode & 07777));
  }
  while (flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) {
      return InternalError(Format("collect: cannot lock '%s': %s", dir, strerror(errno)));
    }
  }
  return fd;
}

// Whether the .json mark `name` exists in the open directory; anything but
// a regular file there (a symbolic link) is refused, never followed.
StatusOr<bool> MarkExists(int dir_fd, const std::string& name, const std::string& path) {
  struct stat st;
  if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return FailedPreconditionError(Format("collect: cannot stat '%s': %s", path, strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return FailedPreconditionError(Format(
        "collect: '%s' is not a regular file (a symbolic link?); refusing to follow it", path));
  }
  return true;
}

// One collected file, readable by root only (DESIGN.md: records are 0600
// in a 0700 directory). WriteFileAtomic also fsync()s the directory, which
// makes the rename durable before the next file is written.
Status WriteCollected(const std::string& path, const std::string& contents) {
  Status s = WriteFileAtomic(path, contents, 0600);
  if (!s.ok()) return Status(s.code(), Concat("collect: ", s.message()));
  return OkStatus();
}

// The log of `record`, streamed from the store into an AtomicFile (a
// log's size is bounded by the store, not by memory).
Status WriteCollectedLog(const StoreLocation& location, const CaptureRecord& record,
                         const std::string& path) {
  StatusOr<AtomicFile> file = AtomicFile::Create(path, 0600);
  if (!file.ok()) return Status(file.status().code(), Concat("collect: ", file.status().message()));
  Status s = ReadRecordLog(location, record, [&](const uint8_t* data, size_t size) {
    return WriteFull(file->fd(), data, size, file->temp_path());
  });
  if (s.ok()) s = file->Commit();
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
  return RecordMetadataJson(r, ComputeSignature(r.panic_reason, r.log_text));
}

std::string RecordMetadataJson(const CaptureRecord& r, const CrashSignature& sig) {
  std::string out = "{\n";
  AppendTo(&out, "  \"store_uuid\": ", JsonString(FormatUuid(r.store_uuid)), ",\n");
  AppendTo(&out, "  \"sequence\": ", r.sequence, ",\n");
  AppendTo(&out,
           "  \"boot_id\": ", IsZeroUuid(r.boot_id) ? "null" : JsonString(FormatUuid(r.boot_id)),
           ",\n");
  AppendTo(&out, "  \"capture_time_unix\": ", r.capture_time_unix, ",\n");
  AppendTo(&out, "  \"capture_time_utc\": ", JsonString(FormatUtc(r.capture_time_unix)), ",\n");
  AppendTo(&out, "  \"kernel_release\": ", JsonString(r.kernel_release), ",\n");
  AppendTo(&out, "  \"kernel_release_truncated\": ", r.kernel_release_truncated ? "true" : "false",
           ",\n");
  AppendTo(&out, "  \"panic_reason\": ", JsonString(r.panic_reason), ",\n");
  AppendTo(&out, "  \"panic_reason_truncated\": ", r.panic_reason_truncated ? "true" : "false",
           ",\n");
  AppendTo(&out, "  \"log_size\": ", r.log_size, ",\n");
  AppendTo(&out, "  \"log_truncated\": ", r.log_truncated ? "true" : "false", ",\n");
  AppendTo(&out, "  \"original_log_size\": ", r.original_log_size, ",\n");
  AppendTo(&out, "  \"log_sha256\": ",
           JsonString(HexString(absl::string_view(
               reinterpret_cast<const char*>(r.log_sha256.data()), r.log_sha256.size()))),
           ",\n");
  AppendTo(&out, "  \"offset_in_store\": ", r.offset_in_store, ",\n");
  AppendTo(&out, "  \"signature\": ", JsonString(sig.hex), ",\n");
  out += "  \"signature_frames\": [";
  for (size_t i = 0; i < sig.frames.size(); ++i) {
    AppendTo(&out, i ? ", " : "", JsonString(sig.frames[i]));
  }
  out += "],\n";
  AppendTo(&out, "  \"signature_reason\": ", JsonString(sig.reason), ",\n");
  AppendTo(&out, "  \"log_file\": ", JsonString(CollectedLogName(r)), "\n");
  out += "}\n";
  return out;
}

StatusOr<CollectResult> CollectRecords(const StoreLocation& location, const std::string& dir) {
  StatusOr<StoreListing> listing = ListRecordMetadata(location);
  if (!listing.ok()) return listing.status();
  CollectResult result;
  result.info = listing->info;
  result.skipped_corrupt = listing->skipped_corrupt;
  StatusOr<UniqueFd> dir_fd = OpenCollectDir(dir);
  if (!dir_fd.ok()) return dir_fd.status();
  for (const CaptureRecord& r : listing->records) {
    const std::string meta_name = CollectedMetaName(r);
    const std::string meta_path = Concat(dir, "/", meta_name);
    StatusOr<bool> present = MarkExists(dir_fd->get(), meta_name, meta_path);
    if (!present.ok()) return present.status();
    if (*present) {
      ++result.already_present;
      continue;
    }
    const std::string log_path = Concat(dir, "/", CollectedLogName(r));
    if (Status s = WriteCollectedLog(location, r, log_path); !s.ok()) return s;
    // The .json goes last: its presence is the "collected" mark.
    StatusOr<CrashSignature> sig = ReadRecordSignature(location, r);
    if (!sig.ok()) return sig.status();
    if (Status s = WriteCollected(meta_path, RecordMetadataJson(r, *sig)); !s.ok()) return s;
    result.written.push_back({r.sequence, log_path, meta_path});
  }
  return result;
}

std::string FormatCollectSummary(const CollectResult& result, const std::string& dir) {
  std::string out = Format("collected %u new record(s) into %s\n", result.written.size(),
                           TerminalSafe(dir, TerminalText::kLine));
  for (const CollectedRecord& c : result.written) {
    AppendFormat(&out, "  %s\n", TerminalSafe(c.log_path, TerminalText::kLine));
  }
  if (result.skipped_corrupt > 0) {
    AppendFormat(&out,
                 "skipped %d damaged record(s) (not collected; `saveoops list` counts them)\n",
                 result.skipped_corrupt);
  }
  return out;
}

}  // namespace saveoops

namespace saveoops {

std::string RecordJsonLine(const CaptureRecord& r, const CrashSignature& sig,
                           absl::string_view log_text) {
  // RecordMetadataJson's only raw newlines are its layout (JsonString
  // escapes every newline inside a value), so folding them keeps it valid.
  std::string pretty = RecordMetadataJson(r, sig);
  std::string out;
  for (size_t i = 0; i < pretty.size(); ++i) {
    if (pretty[i] != '\n') {
      out += pretty[i];
      continue;
    }
    while (i + 1 < pretty.size() && pretty[i + 1] == ' ') ++i;
    if (i + 1 < pretty.size() && pretty[i + 1] != '}' && out.back() == ',') out += ' ';
  }
  // out ends with "}"; the log text goes in as the last field.
  out.pop_back();
  AppendTo(&out, ", \"log_text\": ", JsonString(log_text), "}\n");
  return out;
}

StatusOr<std::string> FormatListingJson(const StoreLocation& location, const StoreListing& l,
                                        bool by_signature) {
  struct Group {
    std::string reason;
    uint64_t count = 0, first_seq = 0, last_seq = 0, first_time = 0, last_time = 0;
  };
  std::vector<std::pair<std::string, Group>> groups;
  std::string out;
  for (const CaptureRecord& r : l.records) {
    if (!by_signature) {
      std::string log;
      Status s = ReadRecordLog(location, r, [&](const uint8_t* data, size_t size) {
        log.append(reinterpret_cast<const char*>(data), size);
        return Status();
      });
      if (!s.ok()) return s;
      out += RecordJsonLine(r, ComputeSignature(r.panic_reason, log), log);
      continue;
    }
    // Grouping needs the signature only: the log's tail, streamed.
    StatusOr<CrashSignature> read = ReadRecordSignature(location, r);
    if (!read.ok()) return read.status();
    const CrashSignature& sig = *read;
    Group* g = nullptr;
    for (auto& [hex, group] : groups) {
      if (hex == sig.hex) g = &group;
    }
    if (g == nullptr) {
      groups.push_back({sig.hex, Group{sig.reason, 0, r.sequence, r.sequence, r.capture_time_unix,
                                       r.capture_time_unix}});
      g = &groups.back().second;
    }
    ++g->count;
    g->last_seq = r.sequence;
    g->last_time = r.capture_time_unix;
  }
  for (const auto& [hex, g] : groups) {
    AppendFormat(&out, "%s  count %u  seq %u..%u  %s..%s  %s\n", hex, g.count, g.first_seq,
                 g.last_seq, FormatUtc(g.first_time), FormatUtc(g.last_time),
                 TerminalSafe(g.reason, TerminalText::kLine));
  }
  return out;
}

StatusOr<std::string> FormatListingWithSignatures(const StoreLocation& location,
                                                  const StoreListing& l) {
  std::string out = Format("store %s at offset %u: %u record(s)", FormatUuid(l.info.uuid),
                           location.offset, l.records.size());
  if (l.skipped_corrupt > 0) AppendFormat(&out, ", %d damaged skipped", l.skipped_corrupt);
  out += '\n';
  for (const CaptureRecord& r : l.records) {
    StatusOr<CrashSignature> sig = ReadRecordSignature(location, r);
    if (!sig.ok()) return sig.status();
    AppendFormat(&out, "seq %u  %s  %s  %s  %s\n", r.sequence, sig->hex,
                 TerminalSafe(r.kernel_release, TerminalText::kLine),
                 FormatUtc(r.capture_time_unix), TerminalSafe(r.panic_reason, TerminalText::kLine));
  }
  return out;
}

}  // namespace saveoops
