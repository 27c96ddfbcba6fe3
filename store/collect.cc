// `saveoops collect`. Rules: store/collect.h, store/store_format.h.
#include "store/collect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/files.h"
#include "common/format.h"
#include "common/key_value.h"
#include "store/display.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)  // linux/fs.h
#endif

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

Status Errno(int err, const std::string& what) {
  return FailedPreconditionError(Format("collect: %s: %s", what, strerror(err)));
}

// Runs the test hook after `step`.
Status Step(const CollectOptions& o, CollectStep step, uint64_t sequence) {
  return o.after_step ? o.after_step(step, sequence) : OkStatus();
}

// Opens (creating it 0700 if missing) the subdirectory `name` of the open
// directory `parent_fd` without following a link; refuses one that is not
// the invoking user's or that group or others may write, and tightens any
// other mode to 0700.
StatusOr<UniqueFd> OpenOwnSubdir(int parent_fd, const std::string& name, const std::string& path) {
  if (mkdirat(parent_fd, name.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno(errno, Format("cannot create directory '%s'", path));
  }
  UniqueFd fd(openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    return Errno(errno,
                 Format("'%s' is not a directory (a symbolic link?); refusing to follow it", path));
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Errno(errno, Format("cannot stat '%s'", path));
  if (st.st_uid != geteuid()) {
    return Refuse(path, Format("it is owned by uid %u, not by the invoking user (uid %u)",
                               st.st_uid, geteuid()));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Refuse(path, Format("it is writable by group or others (mode 0%o)", st.st_mode & 07777));
  }
  if ((st.st_mode & 07777) != 0700 && fchmod(fd.get(), 0700) != 0) {
    return Errno(errno, Format("cannot chmod '%s' to 0700", path));
  }
  return fd;
}

// A file of the open directory `dir_fd`, created exclusively without
// following links, mode 0600 whatever the umask, filled by `fill` and
// fsync()ed.
Status WriteNewFileAt(int dir_fd, const char* name, const std::string& path,
                      const std::function<Status(int fd)>& fill) {
  UniqueFd fd(openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return Errno(errno, Format("cannot create '%s'", path));
  if (fchmod(fd.get(), 0600) != 0) return Errno(errno, Format("cannot chmod '%s'", path));
  if (Status s = fill(fd.get()); !s.ok()) return Status(s.code(), Concat("collect: ", s.message()));
  if (fsync(fd.get()) != 0) return Errno(errno, Format("cannot fsync '%s'", path));
  if (close(fd.release()) != 0) return Errno(errno, Format("cannot close '%s'", path));
  return OkStatus();
}

// Reads at most `max` bytes of the regular file `name` in `dir_fd`, never
// following a link.
StatusOr<std::string> ReadSmallFileAt(int dir_fd, const char* name, const std::string& path,
                                      size_t max) {
  UniqueFd fd(openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return Errno(errno, Format("cannot open '%s'", path));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Errno(errno, Format("cannot stat '%s'", path));
  if (!S_ISREG(st.st_mode)) {
    return FailedPreconditionError(Format("collect: '%s' is not a regular file", path));
  }
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno(errno, Format("cannot read '%s'", path));
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max) {
      return FailedPreconditionError(
          Format("collect: '%s' is larger than %u bytes: not one of collect's files", path, max));
    }
  }
  return out;
}

// Removes the directory `name` of `parent_fd` and the files in it, never
// following a link (unlinkat removes a link, not what it points at).
// Refuses a directory that holds a directory: collect never makes one.
Status RemoveRecordDir(int parent_fd, const std::string& name, const std::string& path) {
  UniqueFd fd(openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Errno(errno, Format("cannot open '%s'", path));
  DIR* d = fdopendir(dup(fd.get()));
  if (d == nullptr) return Errno(errno, Format("cannot list '%s'", path));
  rewinddir(d);
  std::vector<std::string> entries;
  while (struct dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) entries.push_back(e->d_name);
  }
  closedir(d);
  for (const std::string& entry : entries) {
    struct stat st;
    if (fstatat(fd.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Errno(errno, Format("cannot stat '%s/%s'", path, entry));
    }
    if (S_ISDIR(st.st_mode)) {
      return FailedPreconditionError(
          Format("collect: '%s' holds a directory ('%s'): not a record directory; left alone", path,
                 entry));
    }
  }
  for (const std::string& entry : entries) {
    if (unlinkat(fd.get(), entry.c_str(), 0) != 0) {
      return Errno(errno, Format("cannot remove '%s/%s'", path, entry));
    }
  }
  if (unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0) {
    return Errno(errno, Format("cannot remove '%s'", path));
  }
  return OkStatus();
}

constexpr char kTempPrefix[] = ".tmp-";
constexpr size_t kMaxMetaBytes = 1 << 20;
constexpr size_t kMaxStateBytes = 4096;

std::vector<std::string> ListNames(int dir_fd) {
  std::vector<std::string> names;
  DIR* d = fdopendir(dup(dir_fd));
  if (d == nullptr) return names;
  // The duplicate shares the file offset an earlier listing left at the end.
  rewinddir(d);
  while (struct dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Whether the record directory `name` holds `r` (its record.json names the
// same store and sequence): a collect stopped after renaming it.
StatusOr<bool> DirHoldsRecord(int records_fd, const std::string& name, const std::string& path,
                              const CaptureRecord& r) {
  UniqueFd fd(openat(records_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    return Errno(errno,
                 Format("'%s' is not a directory (a symbolic link?); refusing to follow it", path));
  }
  const std::string meta_path = Concat(path, "/", kCollectedMetaFile);
  struct stat st;
  if (fstatat(fd.get(), kCollectedMetaFile, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
    return false;
  }
  StatusOr<std::string> meta =
      ReadSmallFileAt(fd.get(), kCollectedMetaFile, meta_path, kMaxMetaBytes);
  if (!meta.ok()) return meta.status();
  const std::string uuid =
      Concat("\n  \"store_uuid\": ", JsonString(FormatUuid(r.store_uuid)), ",\n");
  const std::string seq = Concat("\n  \"sequence\": ", r.sequence, ",\n");
  return meta->find(uuid) != std::string::npos && meta->find(seq) != std::string::npos;
}

// Where record `r` goes in records/: its RecordDirName(), or that with the
// store UUID's first 8 hex digits when another store's record has the name
// (two stores, the same sequence, the same second). `exists`: the
// directory is there already, holding `r`.
struct Placement {
  std::string name;
  bool exists = false;
};

StatusOr<Placement> PlaceRecord(int records_fd, const std::string& records_path,
                                const CaptureRecord& r) {
  const std::string base = RecordDirName(r);
  for (const std::string& name : {base, Concat(base, "-", FormatUuid(r.store_uuid).substr(0, 8))}) {
    const std::string path = Concat(records_path, "/", name);
    struct stat st;
    if (fstatat(records_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return Placement{name, false};
      return Errno(errno, Format("cannot stat '%s'", path));
    }
    if (!S_ISDIR(st.st_mode)) {
      return FailedPreconditionError(Format(
          "collect: '%s' is not a directory (a symbolic link?); refusing to follow it", path));
    }
    StatusOr<bool> holds = DirHoldsRecord(records_fd, name, path, r);
    if (!holds.ok()) return holds.status();
    if (*holds) return Placement{name, true};
  }
  return FailedPreconditionError(
      Format("collect: '%s/%s' and its UUID-suffixed name hold other records", records_path, base));
}

// Steps kTempDirMade .. kParentSynced: the record directory `name`, made
// whole in a temporary directory and renamed into place. On an error the
// temporary directory is removed.
Status WriteRecordDir(const StoreLocation& location, const CaptureRecord& r,
                      const CrashSignature& sig, int records_fd, const std::string& records_path,
                      const std::string& name, const CollectOptions& o) {
  const std::string temp = Concat(kTempPrefix, name);
  const std::string temp_path = Concat(records_path, "/", temp);
  if (mkdirat(records_fd, temp.c_str(), 0700) != 0) {
    return Errno(errno, Format("cannot create directory '%s'", temp_path));
  }
  bool renamed = false;
  auto cleanup = [&](Status s) {
    // Best effort: a temporary directory left is removed by the next collect.
    if (!renamed) (void)RemoveRecordDir(records_fd, temp, temp_path);
    return s;
  };
  UniqueFd fd(openat(records_fd, temp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return cleanup(Errno(errno, Format("cannot open '%s'", temp_path)));
  if (fchmod(fd.get(), 0700) != 0) {
    return cleanup(Errno(errno, Format("cannot chmod '%s'", temp_path)));
  }
  if (Status s = Step(o, CollectStep::kTempDirMade, r.sequence); !s.ok()) return cleanup(s);
  const std::string log_path = Concat(temp_path, "/", kCollectedLogFile);
  Status s = WriteNewFileAt(fd.get(), kCollectedLogFile, log_path, [&](int file) {
    return ReadRecordLog(location, r, [&](const uint8_t* data, size_t size) {
      return WriteFull(file, data, size, log_path);
    });
  });
  if (s.ok()) s = Step(o, CollectStep::kLogWritten, r.sequence);
  if (!s.ok()) return cleanup(s);
  const std::string meta = RecordMetadataJson(r, sig);
  const std::string meta_path = Concat(temp_path, "/", kCollectedMetaFile);
  s = WriteNewFileAt(fd.get(), kCollectedMetaFile, meta_path, [&](int file) {
    return WriteFull(file, meta.data(), meta.size(), meta_path);
  });
  if (s.ok()) s = Step(o, CollectStep::kMetaWritten, r.sequence);
  if (!s.ok()) return cleanup(s);
  if (fsync(fd.get()) != 0) return cleanup(Errno(errno, Format("cannot fsync '%s'", temp_path)));
  const std::string final_path = Concat(records_path, "/", name);
  if (syscall(SYS_renameat2, records_fd, temp.c_str(), records_fd, name.c_str(),
              RENAME_NOREPLACE) != 0) {
    return cleanup(Errno(errno, Format("cannot rename '%s' to '%s'", temp_path, final_path)));
  }
  renamed = true;
  if (s = Step(o, CollectStep::kRenamed, r.sequence); !s.ok()) return s;
  if (fsync(records_fd) != 0) return Errno(errno, Format("cannot fsync '%s'", records_path));
  return Step(o, CollectStep::kParentSynced, r.sequence);
}

// The highest sequence of `uuid` collected, from <dir>/<uuid>.collected (0
// if there is none).
StatusOr<uint64_t> ReadCollectState(int dir_fd, const std::string& dir, const Uuid& uuid) {
  const std::string name = CollectStateName(uuid);
  const std::string path = Concat(dir, "/", name);
  struct stat st;
  if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return uint64_t{0};
    return Errno(errno, Format("cannot stat '%s'", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return FailedPreconditionError(Format(
        "collect: '%s' is not a regular file (a symbolic link?); refusing to follow it", path));
  }
  StatusOr<std::string> text = ReadSmallFileAt(dir_fd, name.c_str(), path, kMaxStateBytes);
  if (!text.ok()) return text.status();
  return ParseCollectState(*text, uuid, path);
}

// Drops the oldest record directories beyond `retention`. Only names
// RecordDirName() makes, and only real directories, are touched.
void ApplyRetention(int records_fd, const std::string& records_path, uint64_t retention,
                    CollectResult* result) {
  if (retention == 0) return;
  struct Dir {
    std::string time, suffix, name;
    uint64_t seq = 0;
  };
  std::vector<Dir> dirs;
  for (const std::string& name : ListNames(records_fd)) {
    if (!IsRecordDirName(name)) continue;
    struct stat st;
    if (fstatat(records_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISDIR(st.st_mode)) {
      result->notes.push_back(
          Format("'%s/%s' is not a directory (a symbolic link?); left alone", records_path, name));
      continue;
    }
    Dir d;
    d.name = name;
    d.time = name.substr(0, 16);
    const size_t dash = name.find('-', 17);
    const std::string seq =
        name.substr(17, dash == std::string::npos ? std::string::npos : dash - 17);
    for (const char c : seq) d.seq = d.seq * 10 + static_cast<uint64_t>(c - '0');
    if (dash != std::string::npos) d.suffix = name.substr(dash);
    dirs.push_back(std::move(d));
  }
  if (dirs.size() <= retention) return;
  std::sort(dirs.begin(), dirs.end(), [](const Dir& a, const Dir& b) {
    return std::tie(a.time, a.seq, a.suffix) < std::tie(b.time, b.seq, b.suffix);
  });
  for (size_t i = 0; i + retention < dirs.size(); ++i) {
    const std::string path = Concat(records_path, "/", dirs[i].name);
    Status s = RemoveRecordDir(records_fd, dirs[i].name, path);
    if (s.ok()) {
      result->removed.push_back(path);
    } else {
      result->notes.push_back(std::string(s.message()));
    }
  }
}

std::string Hex32(const Uuid& u) {
  return HexString(absl::string_view(reinterpret_cast<const char*>(u.data()), u.size()));
}

}  // namespace

std::string LegacyCollectedLogName(const CaptureRecord& record) {
  return Format("%s-%08u.log", FormatUuid(record.store_uuid), record.sequence);
}

std::string LegacyCollectedMetaName(const CaptureRecord& record) {
  return Format("%s-%08u.json", FormatUuid(record.store_uuid), record.sequence);
}

std::string RecordDirName(const CaptureRecord& record) {
  // FormatUtc: "2026-12-03T11:43:19Z" for every time up to year 9999.
  constexpr uint64_t kLastSecondOf9999 = 253402300799;
  const std::string utc = FormatUtc(std::min(record.capture_time_unix, kLastSecondOf9999));
  std::string stamp;
  for (const char c : utc) {
    if (c != '-' && c != ':') stamp += c;
  }
  return Format("%s-%u", stamp, record.sequence);
}

bool IsRecordDirName(const std::string& name) {
  // YYYYMMDDTHHMMSSZ-<seq>[-<8 hex>]
  auto digits = [&](size_t from, size_t n) {
    if (name.size() < from + n) return false;
    for (size_t i = from; i < from + n; ++i) {
      if (name[i] < '0' || name[i] > '9') return false;
    }
    return true;
  };
  if (!digits(0, 8) || name.size() < 18 || name[8] != 'T' || !digits(9, 6) || name[15] != 'Z' ||
      name[16] != '-') {
    return false;
  }
  size_t i = 17;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  if (i == 17 || i - 17 > 20) return false;
  if (i == name.size()) return true;
  if (name.size() != i + 9 || name[i] != '-') return false;
  for (size_t j = i + 1; j < name.size(); ++j) {
    const char c = name[j];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string CollectStateName(const Uuid& store_uuid) {
  return Concat(FormatUuid(store_uuid), ".collected");
}

std::string FormatCollectState(const Uuid& store_uuid, uint64_t collected_through) {
  return Concat(
      "# saveoops collect: every record of this store up to this sequence is collected\n"
      "# (into records/) or was damaged. Written by `saveoops collect` only.\n"
      "store_uuid=",
      FormatUuid(store_uuid), "\ncollected_through=", collected_through, "\n");
}

StatusOr<uint64_t> ParseCollectState(std::string_view text, const Uuid& store_uuid,
                                     const std::string& name) {
  StatusOr<std::vector<KeyValue>> kv = ParseKeyValues(text, name);
  if (!kv.ok()) return kv.status();
  bool have_uuid = false, have_through = false;
  uint64_t through = 0;
  for (const KeyValue& e : *kv) {
    if (e.key == "store_uuid") {
      if (e.value != FormatUuid(store_uuid)) {
        return InvalidArgumentError(Format("%s:%d: store_uuid=%s, not this store's %s", name,
                                           e.line, HexEscape(e.value), FormatUuid(store_uuid)));
      }
      have_uuid = true;
    } else if (e.key == "collected_through") {
      StatusOr<uint64_t> n = KeyValueNumber(e, name, UINT64_MAX);
      if (!n.ok()) return n.status();
      through = *n;
      have_through = true;
    } else {
      return InvalidArgumentError(Format("%s:%d: unknown key %s", name, e.line, e.key));
    }
  }
  if (!have_uuid || !have_through) {
    return InvalidArgumentError(
        Format("%s: needs store_uuid= and collected_through= (damaged? remove it to collect "
               "every record again)",
               name));
  }
  return through;
}

JournalEntry RecordJournalEntry(const StoreLocation& location, const CaptureRecord& r,
                                const CrashSignature& sig, const std::string& record_dir) {
  const std::string boot = IsZeroUuid(r.boot_id) ? "unknown" : Hex32(r.boot_id);
  JournalEntry e;
  e.Add("MESSAGE", Format("kernel panic on boot %s captured: %s (signature %s)", boot,
                          TerminalSafe(r.panic_reason, TerminalText::kLine), sig.hex));
  e.Add("MESSAGE_ID", kSaveoopsPanicMessageId);
  e.Add("PRIORITY", "2");
  e.Add("SYSLOG_IDENTIFIER", "saveoops");
  e.Add("SAVEOOPS_SIGNATURE", sig.hex);
  e.Add("SAVEOOPS_SIGNATURE_FRAMES", Join(sig.frames, " "));
  e.Add("KERNEL_RELEASE", r.kernel_release);
  e.Add("PANIC_REASON", r.panic_reason);
  e.Add("SAVEOOPS_SEQ", Concat(r.sequence));
  e.Add("SAVEOOPS_BOOT_ID", boot);
  e.Add("SAVEOOPS_STORE_UUID", FormatUuid(r.store_uuid));
  e.Add("SAVEOOPS_CAPTURE_TIME", FormatUtc(r.capture_time_unix));
  e.Add("SAVEOOPS_RECORD_DIR", record_dir);
  e.AddStreamed("SAVEOOPS_DMESG", r.log_size, [location, r](const JournalChunkSink& sink) {
    return ReadRecordLog(location, r,
                         [&](const uint8_t* data, size_t size) { return sink(data, size); });
  });
  return e;
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
  AppendTo(&out, "  \"log_file\": ", JsonString(kCollectedLogFile), "\n");
  out += "}\n";
  return out;
}

StatusOr<CollectResult> CollectRecords(const StoreLocation& location, const std::string& dir) {
  CollectOptions o;
  o.dir = dir;
  return CollectRecords(location, o);
}

StatusOr<CollectResult> CollectRecords(const StoreLocation& location, const CollectOptions& o) {
  StatusOr<StoreListing> listing = ListRecordMetadata(location);
  if (!listing.ok()) return listing.status();
  CollectResult result;
  result.info = listing->info;
  result.skipped_corrupt = listing->skipped_corrupt;
  const std::string& dir = o.dir;
  StatusOr<UniqueFd> dir_fd = OpenCollectDir(dir);
  if (!dir_fd.ok()) return dir_fd.status();
  const std::string records_path = Concat(dir, "/", kRecordsSubdir);
  StatusOr<UniqueFd> records_fd = OpenOwnSubdir(dir_fd->get(), kRecordsSubdir, records_path);
  if (!records_fd.ok()) return records_fd.status();

  // What an interrupted collect left: a temporary directory never renamed.
  for (const std::string& name : ListNames(records_fd->get())) {
    if (name.rfind(kTempPrefix, 0) != 0) continue;
    const std::string path = Concat(records_path, "/", name);
    if (Status s = RemoveRecordDir(records_fd->get(), name, path); !s.ok()) return s;
    ++result.stale_temporaries_removed;
  }

  StatusOr<uint64_t> through = ReadCollectState(dir_fd->get(), dir, result.info.uuid);
  if (!through.ok()) return through.status();
  const std::string state_path = Concat(dir, "/", CollectStateName(result.info.uuid));
  for (const CaptureRecord& r : listing->records) {
    if (r.sequence <= *through) {
      ++result.already_present;
      continue;
    }
    const std::string legacy = LegacyCollectedMetaName(r);
    StatusOr<bool> legacy_present = MarkExists(dir_fd->get(), legacy, Concat(dir, "/", legacy));
    if (!legacy_present.ok()) return legacy_present.status();
    if (*legacy_present) {
      ++result.already_present;
      continue;
    }
    StatusOr<Placement> place = PlaceRecord(records_fd->get(), records_path, r);
    if (!place.ok()) return place.status();
    StatusOr<CrashSignature> sig = ReadRecordSignature(location, r);
    if (!sig.ok()) return sig.status();
    CollectedRecord c;
    c.sequence = r.sequence;
    c.record_dir = Concat(records_path, "/", place->name);
    c.log_path = Concat(c.record_dir, "/", kCollectedLogFile);
    c.meta_path = Concat(c.record_dir, "/", kCollectedMetaFile);
    c.resumed = place->exists;
    if (!place->exists) {
      Status s = WriteRecordDir(location, r, *sig, records_fd->get(), records_path, place->name, o);
      if (!s.ok()) return s;
    }
    if (!o.journal_socket.empty() && result.journal_note.empty()) {
      StatusOr<JournalSendResult> sent =
          SendToJournal(RecordJournalEntry(location, r, *sig, c.record_dir), o.journal_socket);
      if (!sent.ok()) {
        return Status(
            sent.status().code(),
            Concat("collect: record ", r.sequence, " is in ", c.record_dir,
                   " but not in the journal (run collect again): ", sent.status().message()));
      }
      if (sent->how == JournalSendResult::How::kNoJournal) {
        result.journal_note = sent->note;
      } else {
        ++result.journal_entries;
      }
    }
    if (Status s = Step(o, CollectStep::kJournalSent, r.sequence); !s.ok()) return s;
    Status s = WriteFileAtomic(state_path, FormatCollectState(result.info.uuid, r.sequence), 0600);
    if (!s.ok()) return Status(s.code(), Concat("collect: ", s.message()));
    *through = r.sequence;
    result.written.push_back(c);
    if (s = Step(o, CollectStep::kStateWritten, r.sequence); !s.ok()) return s;
  }
  ApplyRetention(records_fd->get(), records_path, o.retention, &result);
  return result;
}

std::string FormatCollectSummary(const CollectResult& result, const std::string& dir) {
  std::string out = Format("collected %u new record(s) into %s/%s\n", result.written.size(),
                           TerminalSafe(dir, TerminalText::kLine), kRecordsSubdir);
  for (const CollectedRecord& c : result.written) {
    AppendFormat(&out, "  %s%s\n", TerminalSafe(c.record_dir, TerminalText::kLine),
                 c.resumed ? " (written by an interrupted collect; journal and mark redone)" : "");
  }
  if (result.journal_entries > 0) {
    AppendFormat(&out, "sent %d record(s) to the journal (journalctl MESSAGE_ID=%s)\n",
                 result.journal_entries, kSaveoopsPanicMessageId);
  }
  if (!result.journal_note.empty()) {
    AppendFormat(&out, "note: no journal (%s): records not sent to it\n",
                 TerminalSafe(result.journal_note, TerminalText::kLine));
  }
  if (result.stale_temporaries_removed > 0) {
    AppendFormat(&out, "removed %d temporary director%s an interrupted collect left\n",
                 result.stale_temporaries_removed,
                 result.stale_temporaries_removed == 1 ? "y" : "ies");
  }
  if (!result.removed.empty()) {
    AppendFormat(&out, "removed %u old record director%s (retention)\n", result.removed.size(),
                 result.removed.size() == 1 ? "y" : "ies");
  }
  for (const std::string& note : result.notes) {
    AppendFormat(&out, "note: %s\n", TerminalSafe(note, TerminalText::kLine));
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
