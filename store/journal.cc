// The journal's native protocol, client side. Rules: store/journal.h.
#include "store/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/files.h"
#include "common/format.h"

namespace saveoops {
namespace {

void AppendLe64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// "KEY=VALUE\n", or the binary-safe form for a value with a newline.
void AppendField(std::string* out, const std::string& key, std::string_view value) {
  if (value.find('\n') == std::string_view::npos) {
    AppendTo(out, key, "=", value, "\n");
    return;
  }
  AppendTo(out, key, "\n");
  AppendLe64(out, value.size());
  out->append(value.data(), value.size());
  out->push_back('\n');
}

// The binary-safe header of the streamed field: "KEY\n" + le64 size.
std::string StreamedHeader(const std::string& key, uint64_t size) {
  std::string out = key + "\n";
  AppendLe64(&out, size);
  return out;
}

Status Errno(int err, const std::string& what) {
  return InternalError(Format("journal: %s: %s", what, strerror(err)));
}

StatusOr<sockaddr_un> SocketAddress(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sa.sun_path)) {
    return InvalidArgumentError(Format("journal: socket path '%s' is empty or longer than %u bytes",
                                       path, sizeof(sa.sun_path) - 1));
  }
  memcpy(sa.sun_path, path.data(), path.size());
  return sa;
}

bool NoJournal(int err) { return err == ENOENT || err == ECONNREFUSED; }

// One sendmsg() of `bytes` (may be empty) and, if fd >= 0, that descriptor.
int SendDatagram(int sock, const sockaddr_un& sa, std::string_view bytes, int fd) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr mh{};
  mh.msg_name = const_cast<sockaddr_un*>(&sa);
  mh.msg_namelen = sizeof(sa);
  if (!bytes.empty()) {
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    mh.msg_control = control;
    mh.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  while (true) {
    if (sendmsg(sock, &mh, MSG_NOSIGNAL) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

}  // namespace

bool IsValidJournalKey(std::string_view key) {
  if (key.empty() || key.size() > 64 || key[0] == '_' || (key[0] >= '0' && key[0] <= '9')) {
    return false;
  }
  for (const char c : key) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

void JournalEntry::Add(std::string key, std::string value) {
  fields_.push_back({std::move(key), std::move(value)});
}

void JournalEntry::AddStreamed(std::string key, uint64_t size, JournalStreamer stream) {
  streamed_key_ = std::move(key);
  streamed_size_ = size;
  streamed_ = std::move(stream);
}

StatusOr<std::string> JournalEntry::EncodeFixedFields() const {
  std::string out;
  for (const Field& f : fields_) {
    if (!IsValidJournalKey(f.key)) {
      return InvalidArgumentError(Format("journal: '%s' is not a field name", HexEscape(f.key)));
    }
    AppendField(&out, f.key, f.value);
  }
  if (streamed_ && !IsValidJournalKey(streamed_key_)) {
    return InvalidArgumentError(
        Format("journal: '%s' is not a field name", HexEscape(streamed_key_)));
  }
  return out;
}

Status JournalEntry::Stream(const JournalChunkSink& sink) const {
  if (!streamed_) return OkStatus();
  uint64_t produced = 0;
  Status s = streamed_([&](const void* data, size_t size) {
    produced += size;
    if (produced > streamed_size_) {
      return InternalError(Format("journal: field %s is longer than the %u bytes announced",
                                  streamed_key_, streamed_size_));
    }
    return sink(data, size);
  });
  if (!s.ok()) return s;
  if (produced != streamed_size_) {
    return InternalError(Format("journal: field %s has %u bytes, not the %u announced",
                                streamed_key_, produced, streamed_size_));
  }
  return OkStatus();
}

StatusOr<std::string> JournalEntry::Encode() const {
  StatusOr<std::string> out = EncodeFixedFields();
  if (!out.ok() || !streamed_) return out;
  std::string value;
  Status s = Stream([&](const void* data, size_t size) {
    value.append(static_cast<const char*>(data), size);
    return OkStatus();
  });
  if (!s.ok()) return s;
  AppendField(&*out, streamed_key_, value);
  return out;
}

StatusOr<JournalSendResult> SendToJournal(const JournalEntry& entry,
                                          const std::string& socket_path) {
  StatusOr<sockaddr_un> sa = SocketAddress(socket_path);
  if (!sa.ok()) return sa.status();
  UniqueFd sock(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return Errno(errno, "cannot make an AF_UNIX socket");
  auto no_journal = [&](int err) {
    JournalSendResult r;
    r.how = JournalSendResult::How::kNoJournal;
    r.note = Format("%s: %s", socket_path, strerror(err));
    return r;
  };

  // Small enough to hold: try one datagram first.
  std::string bytes;
  const bool inline_entry = entry.streamed_size() <= kJournalInlineLimit;
  if (inline_entry) {
    StatusOr<std::string> encoded = entry.Encode();
    if (!encoded.ok()) return encoded.status();
    bytes = *std::move(encoded);
    const int err = SendDatagram(sock.get(), *sa, bytes, -1);
    if (err == 0) return JournalSendResult{};
    if (NoJournal(err)) return no_journal(err);
    if (err != EMSGSIZE && err != ENOBUFS) {
      return Errno(err, Format("cannot send %u bytes to %s", bytes.size(), socket_path));
    }
  }

  // The memfd: the same bytes, sealed so that journald may read it in place.
  UniqueFd mem(memfd_create("saveoops-journal-entry", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem.valid()) return Errno(errno, "memfd_create");
  const std::string what = "the journal entry's memfd";
  if (inline_entry) {
    if (Status s = WriteFull(mem.get(), bytes.data(), bytes.size(), what); !s.ok()) return s;
  } else {
    StatusOr<std::string> fixed = entry.EncodeFixedFields();
    if (!fixed.ok()) return fixed.status();
    *fixed += StreamedHeader(entry.streamed_key(), entry.streamed_size());
    if (Status s = WriteFull(mem.get(), fixed->data(), fixed->size(), what); !s.ok()) return s;
    Status s = entry.Stream(
        [&](const void* data, size_t size) { return WriteFull(mem.get(), data, size, what); });
    if (s.ok()) s = WriteFull(mem.get(), "\n", 1, what);
    if (!s.ok()) return s;
  }
  if (fcntl(mem.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) !=
      0) {
    return Errno(errno, "cannot seal the memfd");
  }
  const int err = SendDatagram(sock.get(), *sa, {}, mem.get());
  if (err == 0) {
    JournalSendResult r;
    r.how = JournalSendResult::How::kMemfd;
    return r;
  }
  if (NoJournal(err)) return no_journal(err);
  return Errno(err, Format("cannot pass the entry's memfd to %s", socket_path));
}

StatusOr<std::vector<std::pair<std::string, std::string>>> DecodeJournalEntry(
    std::string_view bytes) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t nl = bytes.find('\n', pos);
    const size_t eq = bytes.find('=', pos);
    if (nl == std::string_view::npos) {
      return InvalidArgumentError(Format("journal entry: field at byte %u has no newline", pos));
    }
    if (eq != std::string_view::npos && eq < nl) {
      out.emplace_back(std::string(bytes.substr(pos, eq - pos)),
                       std::string(bytes.substr(eq + 1, nl - eq - 1)));
      pos = nl + 1;
      continue;
    }
    std::string key(bytes.substr(pos, nl - pos));
    pos = nl + 1;
    if (bytes.size() - pos < 8) {
      return InvalidArgumentError(Format("journal entry: %s: length cut at byte %u", key, pos));
    }
    uint64_t size = 0;
    for (int i = 0; i < 8; ++i) {
      size |= uint64_t{static_cast<unsigned char>(bytes[pos + i])} << (8 * i);
    }
    pos += 8;
    if (size >= bytes.size() - pos || bytes[pos + size] != '\n') {
      return InvalidArgumentError(
          Format("journal entry: %s: %u bytes announced at byte %u, not followed by a newline", key,
                 size, pos));
    }
    out.emplace_back(std::move(key), std::string(bytes.substr(pos, size)));
    pos += size + 1;
  }
  return out;
}

}  // namespace saveoops
