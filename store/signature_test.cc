#include "store/signature.h"

#include <string>

#include "gtest/gtest.h"

namespace saveoops {
namespace {

const char kOopsA[] =
    "[    3.912345] sysrq: Trigger a crash\n"
    "[    3.912999] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
    "[    3.913100] CPU: 0 PID: 1 Comm: sh Not tainted 6.1.0-56-amd64 #1\n"
    "[    3.913200] RIP: 0010:sysrq_handle_crash+0x16/0x20\n"
    "[    3.913300] RSP: 0018:ffffb3c2c0013e30 EFLAGS: 00010246\n"
    "[    3.913700] Call Trace:\n"
    "[    3.913800]  <TASK>\n"
    "[    3.914000]  __handle_sysrq.cold+0x43/0x11b\n"
    "[    3.914050]  ? foo_helper+0x1/0x2 [foo]\n"
    "[    3.914100]  write_sysrq_trigger+0x24/0x40\n"
    "[    3.914200]  proc_reg_write+0x51/0x90 [procmod]\n"
    "[    3.914300]  vfs_write+0xb8/0x3a0\n"
    "[    3.914400]  ksys_write+0x5f/0xe0\n"
    "[    3.914500]  do_syscall_64+0x58/0xc0\n"
    "[    3.914600]  </TASK>\n"
    "[    3.914700] Kernel panic - not syncing: Fatal exception\n";

const char kOopsB[] =
    "[  100.000001] sysrq: Trigger a crash\n"
    "[  100.000002] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
    "[  100.000003] CPU: 3 PID: 4711 Comm: sh Not tainted 6.1.0-56-amd64 #1\n"
    "[  100.000004] RIP: 0010:sysrq_handle_crash+0x12/0x24\n"
    "[  100.000005] RSP: 0018:ffffa000c0099e30 EFLAGS: 00010246\n"
    "[  100.000006] Call Trace:\n"
    "[  100.000007]  <TASK>\n"
    "[  100.000008]  __handle_sysrq.cold+0x40/0x100\n"
    "[  100.000009]  write_sysrq_trigger+0x20/0x44\n"
    "[  100.000010]  ? other_helper+0x5/0x9\n"
    "[  100.000011]  proc_reg_write+0x50/0x91\n"
    "[  100.000012]  vfs_write+0xb0/0x3a8\n"
    "[  100.000013]  ksys_write+0x50/0xe8\n"
    "[  100.000014]  do_syscall_64+0x50/0xc8\n"
    "[  100.000015]  </TASK>\n"
    "[  100.000016] Kernel panic - not syncing: Fatal exception\n";

const char kPanic[] =
    "[    3.912999] Kernel panic - not syncing: sysrq triggered crash\n"
    "[    3.913300] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0-56-amd64 #1\n"
    "[    3.913700] Call Trace:\n"
    "[    3.913800]  <TASK>\n"
    "[    3.914000]  dump_stack_lvl+0x44/0x5c\n"
    "[    3.914100]  panic+0x118/0x2ed\n"
    "[    3.914200]  sysrq_handle_crash+0x16/0x20\n";

TEST(NormaliseReason, ReplacesNumbers) {
  EXPECT_EQ(NormaliseReason("BUG: unable to handle page fault for address: ffffb3c2c0013e30"),
            "BUG: unable to handle page fault for address: <hex>");
  EXPECT_EQ(NormaliseReason("  watchdog: CPU 3  stuck for 22s! [kworker/3:1:4711]\n"),
            "watchdog: CPU <n> stuck for <n>s! [kworker/<n>:<n>:<n>]");
  EXPECT_EQ(NormaliseReason("at 0xDEADbeef1 now"), "at <hex> now");
  EXPECT_EQ(NormaliseReason("deadbeef is bad"), "<hex> is bad");
  EXPECT_EQ(NormaliseReason("cafe ok"), "cafe ok");
  EXPECT_EQ(NormaliseReason(""), "");
}

TEST(SignatureFrames, OopsTraceWithRip) {
  std::vector<std::string> want = {"sysrq_handle_crash",  "__handle_sysrq.cold",
                                   "write_sysrq_trigger", "proc_reg_write",
                                   "vfs_write",           "ksys_write"};
  EXPECT_EQ(SignatureFrames(kOopsA), want);
  EXPECT_EQ(SignatureFrames(kOopsB), want);
}

TEST(SignatureFrames, PanicTrace) {
  std::vector<std::string> want = {"dump_stack_lvl", "panic", "sysrq_handle_crash"};
  EXPECT_EQ(SignatureFrames(kPanic), want);
}

TEST(SignatureFrames, PanicAfterAMegabyteOfLogIsFound) {
  // The crash is at the log's end: a long log's first MiB must not hide it.
  std::string log;
  while (log.size() < 3 * kMaxSignatureLogBytes) log += "[    1.000000] some boot message\n";
  log += kPanic;
  std::vector<std::string> want = {"dump_stack_lvl", "panic", "sysrq_handle_crash"};
  EXPECT_EQ(SignatureFrames(log), want);
}

TEST(SignatureFrames, TraceWithoutCrashLine) {
  EXPECT_EQ(SignatureFrames("Call Trace:\n a+0x1/0x2\n b+0x3/0x4\nnext line\n"),
            (std::vector<std::string>{"a", "b"}));
}

TEST(Signature, SamePanicSameSignature) {
  CrashSignature a =
      ComputeSignature("BUG: kernel NULL pointer dereference, address: 0000000000000000", kOopsA);
  CrashSignature b =
      ComputeSignature("BUG: kernel NULL pointer dereference, address: 0000000000000000", kOopsB);
  EXPECT_EQ(a.hex.size(), 16u);
  EXPECT_EQ(a.hex, b.hex);
  EXPECT_EQ(a.reason, "BUG: kernel NULL pointer dereference, address: <hex>");
  CrashSignature c = ComputeSignature("Oops at CPU 1 pid 10 0xffff0000", kPanic);
  CrashSignature d = ComputeSignature("Oops at CPU 7 pid 99 0xffff1234", kPanic);
  EXPECT_EQ(c.hex, d.hex);
}

TEST(Signature, DifferentPanicsDiffer) {
  CrashSignature oops = ComputeSignature("Kernel panic - not syncing: Fatal exception", kOopsA);
  CrashSignature panic = ComputeSignature("Kernel panic - not syncing: Fatal exception", kPanic);
  EXPECT_NE(oops.hex, panic.hex);  // Different frames.
  CrashSignature other = ComputeSignature("Kernel panic - not syncing: VFS", kPanic);
  EXPECT_NE(panic.hex, other.hex);  // Different reason.
  std::string changed = kPanic;
  changed.replace(changed.find("panic+"), 5, "panik");
  EXPECT_NE(ComputeSignature("Kernel panic - not syncing: VFS", changed).hex, other.hex);
}

TEST(Signature, CanonicalStringIsTheDocumentedOne) {
  // SHA-256("Kernel panic - not syncing: sysrq triggered crash\ndump_stack_lvl\npanic\n"
  // "sysrq_handle_crash"), the README's example.
  EXPECT_EQ(ComputeSignature("Kernel panic - not syncing: sysrq triggered crash", kPanic).hex,
            "681f50337f5d2d23");
}

TEST(Signature, EmptyAndGarbageAreDefined) {
  CrashSignature empty = ComputeSignature("", "");
  EXPECT_EQ(empty.hex.size(), 16u);
  EXPECT_TRUE(empty.frames.empty());
  EXPECT_EQ(empty.reason, "");
  // SHA-256("\n") starts with 01ba4719c80b6fe9.
  EXPECT_EQ(empty.hex, "01ba4719c80b6fe9");
  std::string garbage("\xff\x00[[[Call Trace:\n\x01+0x\n", 22);
  CrashSignature g = ComputeSignature(std::string("\x00\xfe", 2), garbage);
  EXPECT_TRUE(g.frames.empty());
  EXPECT_EQ(g.hex, ComputeSignature(std::string("\x00\xfe", 2), "").hex);
  // No call trace: the signature comes from the reason alone.
  EXPECT_EQ(ComputeSignature("Kernel panic - not syncing: x", "no trace here").hex,
            ComputeSignature("Kernel panic - not syncing: x", "").hex);
}

}  // namespace
}  // namespace saveoops
