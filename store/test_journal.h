// A journal socket of a test's own: an AF_UNIX SOCK_DGRAM socket bound in a
// fresh directory under /tmp (sun_path is 108 bytes; Bazel's test
// directories are longer), and the entries received on it decoded with
// DecodeJournalEntry, whether they came as a datagram or as a sealed memfd.
#ifndef SAVEOOPS_STORE_TEST_JOURNAL_H_
#define SAVEOOPS_STORE_TEST_JOURNAL_H_

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "store/journal.h"

namespace saveoops {
namespace store_test {

// One received entry: its fields (a key given twice keeps the last value),
// and how it came.
struct ReceivedEntry {
  std::map<std::string, std::string> fields;
  bool via_memfd = false;
  int memfd_seals = 0;
};

class TestJournal {
 public:
  TestJournal() {
    char tmpl[] = "/tmp/saveoops-journal.XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/socket";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    path_.copy(sa.sun_path, sizeof(sa.sun_path) - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0) << path_;
    // Room for the big entries of the tests queued before they are read.
    const int size = 8 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  ~TestJournal() {
    close(fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

  // Every entry queued on the socket now (never waits).
  std::vector<ReceivedEntry> Drain() {
    std::vector<ReceivedEntry> out;
    std::vector<char> buf(8 << 20);
    while (true) {
      iovec iov{buf.data(), buf.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
      msghdr mh{};
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = control;
      mh.msg_controllen = sizeof(control);
      const ssize_t n = recvmsg(fd_, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (n < 0) break;
      EXPECT_EQ(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC), 0) << "datagram cut";
      ReceivedEntry e;
      std::string bytes(buf.data(), static_cast<size_t>(n));
      int fds = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int fd = -1;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        fds += static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        e.via_memfd = true;
        e.memfd_seals = fcntl(fd, F_GET_SEALS);
        struct stat st;
        EXPECT_EQ(fstat(fd, &st), 0);
        bytes.resize(static_cast<size_t>(st.st_size));
        size_t done = 0;
        while (done < bytes.size()) {
          const ssize_t r = pread(fd, &bytes[done], bytes.size() - done, done);
          if (r <= 0) break;
          done += static_cast<size_t>(r);
        }
        EXPECT_EQ(done, bytes.size());
        // The protocol: a memfd datagram carries no payload of its own.
        EXPECT_EQ(n, 0);
        close(fd);
      }
      EXPECT_LE(fds, 1) << "the protocol passes one descriptor";
      StatusOr<std::vector<std::pair<std::string, std::string>>> fields = DecodeJournalEntry(bytes);
      EXPECT_TRUE(fields.ok()) << fields.status();
      if (fields.ok()) {
        for (auto& [k, v] : *fields) e.fields[k] = v;
      }
      out.push_back(std::move(e));
    }
    return out;
  }

 private:
  std::string dir_, path_;
  int fd_ = -1;
};

}  // namespace store_test
}  // namespace saveoops

#endif  // SAVEOOPS_STORE_TEST_JOURNAL_H_
