#include "initramfs/modules.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "initramfs/test_tempdir.h"

namespace saveoops {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The base names (without directories) of `paths`, for readable checks.
std::vector<std::string> BaseNames(const std::vector<std::string>& paths) {
  std::vector<std::string> names;
  for (const std::string& p : paths) names.push_back(p.substr(p.rfind('/') + 1));
  return names;
}

size_t IndexOf(const std::vector<std::string>& names, const std::string& n) {
  auto it = std::find(names.begin(), names.end(), n);
  EXPECT_NE(it, names.end()) << n << " missing from " << absl::StrJoin(names, " ");
  return it - names.begin();
}

ModuleIndex IndexFromDep(absl::string_view dep_text) {
  absl::StatusOr<std::map<std::string, ModuleDep>> modules = ParseModulesDep(dep_text);
  EXPECT_TRUE(modules.ok()) << modules.status();
  ModuleIndex index;
  if (modules.ok()) index.modules = *modules;
  return index;
}

// ------------------------------------------------------------- real index

// The installed modules directory of the Debian kernel the e2e tests boot
// (linux-image-amd64); the test fails if there is none.
std::string InstalledModulesDir() {
  glob_t g;
  std::string dir;
  if (glob("/lib/modules/*/modules.dep", 0, nullptr, &g) == 0 && g.gl_pathc > 0) {
    const std::string dep = g.gl_pathv[g.gl_pathc - 1];
    dir = dep.substr(0, dep.size() - std::string("/modules.dep").size());
  }
  globfree(&g);
  return dir;
}

class InstalledModulesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(InstalledModulesDir());
    if (dir_->empty()) return;
    absl::StatusOr<ModuleIndex> index = LoadModuleIndex(*dir_);
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = new ModuleIndex(*std::move(index));
  }
  static void TearDownTestSuite() {
    delete index_;
    delete dir_;
    index_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_FALSE(dir_->empty()) << "no /lib/modules/*/modules.dep: install linux-image-amd64";
    ASSERT_NE(index_, nullptr);
  }

  static std::vector<std::string> Resolve(const std::vector<std::string>& names) {
    absl::StatusOr<std::vector<std::string>> paths = ResolveModules(*index_, names);
    EXPECT_TRUE(paths.ok()) << paths.status();
    if (!paths.ok()) return {};
    // Every path names a file that exists.
    for (const std::string& p : *paths) {
      struct stat st;
      EXPECT_EQ(stat((*dir_ + "/" + p).c_str(), &st), 0) << p;
    }
    std::set<std::string> unique(paths->begin(), paths->end());
    EXPECT_EQ(unique.size(), paths->size()) << "a module listed twice";
    return *paths;
  }

  static std::string* dir_;
  static ModuleIndex* index_;
};
std::string* InstalledModulesTest::dir_ = nullptr;
ModuleIndex* InstalledModulesTest::index_ = nullptr;

TEST_F(InstalledModulesTest, IndexLooksLikeADistroKernel) {
  EXPECT_GT(index_->modules.size(), 1000u);
  EXPECT_GT(index_->builtin.size(), 10u);
  EXPECT_GT(index_->aliases.size(), 1000u);
  EXPECT_EQ(index_->modules_dir, *dir_);
}

TEST_F(InstalledModulesTest, VirtioLoadsDependenciesFirst) {
  const std::vector<std::string> paths = Resolve({"virtio_blk", "virtio_pci"});
  EXPECT_THAT(paths,
              ElementsAre("kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
                          "kernel/drivers/block/virtio_blk.ko",
                          "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
                          "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
                          "kernel/drivers/virtio/virtio_pci.ko"));
  const std::vector<std::string> names = BaseNames(paths);
  EXPECT_LT(IndexOf(names, "virtio_ring.ko"), IndexOf(names, "virtio.ko"));
  EXPECT_LT(IndexOf(names, "virtio.ko"), IndexOf(names, "virtio_blk.ko"));
  EXPECT_LT(IndexOf(names, "virtio_pci_modern_dev.ko"), IndexOf(names, "virtio_pci.ko"));
  EXPECT_LT(IndexOf(names, "virtio_pci_legacy_dev.ko"), IndexOf(names, "virtio_pci.ko"));
}

TEST_F(InstalledModulesTest, AhciSdModAndNvme) {
  const std::vector<std::string> names = BaseNames(Resolve({"ahci", "sd_mod", "nvme"}));
  EXPECT_LT(IndexOf(names, "scsi_common.ko"), IndexOf(names, "scsi_mod.ko"));
  EXPECT_LT(IndexOf(names, "scsi_mod.ko"), IndexOf(names, "libata.ko"));
  EXPECT_LT(IndexOf(names, "libata.ko"), IndexOf(names, "libahci.ko"));
  EXPECT_LT(IndexOf(names, "libahci.ko"), IndexOf(names, "ahci.ko"));
  EXPECT_LT(IndexOf(names, "t10-pi.ko"), IndexOf(names, "sd_mod.ko"));
  EXPECT_LT(IndexOf(names, "crc64.ko"), IndexOf(names, "crc64-rocksoft.ko"));
  EXPECT_LT(IndexOf(names, "nvme-core.ko"), IndexOf(names, "nvme.ko"));
  EXPECT_EQ(names.back(), "nvme.ko");
}

// Every module's dependencies come before it, for the whole default set of
// the capture initramfs, checked against modules.dep directly.
TEST_F(InstalledModulesTest, OrderRespectsEveryModulesDepLine) {
  const std::vector<std::string> paths =
      Resolve({"virtio_pci", "virtio_blk", "ahci", "sd_mod", "nvme"});
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < paths.size(); ++i) {
    position[*ModuleNameFromPath(paths[i])] = i;
  }
  for (const std::string& p : paths) {
    const std::string name = *ModuleNameFromPath(p);
    for (const std::string& dep : index_->modules.at(name).deps) {
      ASSERT_TRUE(position.count(dep)) << name << " needs " << dep;
      EXPECT_LT(position[dep], position[name]) << name << " needs " << dep;
    }
  }
}

TEST_F(InstalledModulesTest, DashesAndUnderscoresAreOneName) {
  EXPECT_EQ(Resolve({"nvme-core"}), Resolve({"nvme_core"}));
  EXPECT_EQ(Resolve({"virtio-blk"}), Resolve({"virtio_blk"}));
  EXPECT_EQ(BaseNames(Resolve({"t10_pi"})).back(), "t10-pi.ko");
}

TEST_F(InstalledModulesTest, BuiltInModulesNeedNoFile) {
  // Any name from modules.builtin that modules.dep does not also list.
  std::string builtin;
  for (const std::string& name : index_->builtin) {
    if (!index_->modules.count(name)) {
      builtin = name;
      break;
    }
  }
  ASSERT_FALSE(builtin.empty());
  EXPECT_THAT(Resolve({builtin}), IsEmpty()) << builtin;
  EXPECT_EQ(Resolve({builtin, "virtio_blk"}), Resolve({"virtio_blk"}));
}

TEST_F(InstalledModulesTest, DeviceAliasFindsTheDriver) {
  // The modalias a virtio block device announces (virtio:d<device>v<vendor>,
  // device 2 = block, include/uapi/linux/virtio_ids.h).
  const std::vector<std::string> names = BaseNames(Resolve({"virtio:d00000002v00001AF4"}));
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.back(), "virtio_blk.ko");
}

TEST_F(InstalledModulesTest, UnknownNameIsAnErrorNamingIt) {
  absl::StatusOr<std::vector<std::string>> paths =
      ResolveModules(*index_, {"virtio_blk", "no_such_module_xyz"});
  ASSERT_FALSE(paths.ok());
  EXPECT_EQ(paths.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(paths.status().message(), HasSubstr("'no_such_module_xyz'"));
  EXPECT_THAT(paths.status().message(), HasSubstr(*dir_));
}

// ------------------------------------------------------------ synthetic

constexpr char kSmallDep[] =
    "kernel/a/top.ko: kernel/b/mid-one.ko kernel/b/mid_two.ko.xz "
    "kernel/c/base.ko.zst\n"
    "kernel/b/mid-one.ko: kernel/c/base.ko.zst\n"
    "\n"
    "kernel/b/mid_two.ko.xz:\tkernel/c/base.ko.zst\n"
    "kernel/c/base.ko.zst:\n"
    "kernel/d/alone.ko.gz:";  // no final newline

TEST(ModulesDepTest, ParsesPathsNamesAndDependencies) {
  absl::StatusOr<std::map<std::string, ModuleDep>> m = ParseModulesDep(kSmallDep);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), 5u);
  const ModuleDep& top = m->at("top");
  EXPECT_EQ(top.path, "kernel/a/top.ko");
  EXPECT_THAT(top.deps, ElementsAre("mid_one", "mid_two", "base"));
  EXPECT_EQ(top.line, 1);
  EXPECT_EQ(m->at("mid_two").line, 4);
  EXPECT_EQ(m->at("mid_two").path, "kernel/b/mid_two.ko.xz");
  EXPECT_THAT(m->at("alone").deps, IsEmpty());
}

TEST(ModulesDepTest, ResolvesInLoadOrderKeepingCompressedNames) {
  ModuleIndex index = IndexFromDep(kSmallDep);
  absl::StatusOr<std::vector<std::string>> paths =
      ResolveModules(index, {"top", "alone", "mid-one"});
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_THAT(*paths,
              ElementsAre("kernel/c/base.ko.zst", "kernel/b/mid_two.ko.xz", "kernel/b/mid-one.ko",
                          "kernel/a/top.ko", "kernel/d/alone.ko.gz"));
  EXPECT_TRUE(IsCompressedModulePath((*paths)[0]));
  EXPECT_TRUE(IsCompressedModulePath((*paths)[1]));
  EXPECT_FALSE(IsCompressedModulePath((*paths)[2]));
  EXPECT_TRUE(IsCompressedModulePath((*paths)[4]));
}

TEST(ModulesDepTest, RejectsMalformedLines) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"kernel/a.ko\n", "line 1: no ':'"},
      {"kernel/a.ko:\n/abs/b.ko:\n",
       "line 2: module path '/abs/b.ko' is "
       "absolute"},
      {"kernel/../a.ko:\n", "component '..'"},
      {"kernel//a.ko:\n", "component ''"},
      {"./a.ko:\n", "component '.'"},
      {"kernel/a.o:\n", "'kernel/a.o' is not a module file name"},
      {"kernel/.ko:\n", "not a module file name"},
      {":\n", "empty module path"},
      {" kernel/a.ko:\n", "whitespace or a control byte"},
      {"kernel/a\x01.ko:\n", "'kernel/a\\001.ko' contains whitespace"},
      {"kernel/a.ko: kernel/b.ko.bz2\n", "'kernel/b.ko.bz2' is not a module"},
      {"kernel/a.ko:\nkernel/x/a.ko:\n",
       "line 2: module 'a' (kernel/x/a.ko) "
       "already has line 1"},
      {"kernel/a-b.ko:\nkernel/a_b.ko:\n", "module 'a_b'"},
      {"kernel/a.ko: kernel/b.ko\n",
       "line 1: dependency 'kernel/b.ko' has no "
       "line of its own"},
      {"kernel/a.ko: kernel/x/b.ko\nkernel/b.ko:\n",
       "dependency 'kernel/x/b.ko' is module 'b', whose line 2 says it is "
       "'kernel/b.ko'"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::map<std::string, ModuleDep>> m = ParseModulesDep(c.text);
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(m.status().message(), HasSubstr("modules.dep line ")) << c.text;
    EXPECT_THAT(m.status().message(), HasSubstr(c.want)) << c.text;
  }
}

TEST(ModulesDepTest, CycleIsAnErrorNamingItsModules) {
  ModuleIndex index = IndexFromDep(
      "kernel/a.ko: kernel/b.ko\n"
      "kernel/b.ko: kernel/c.ko\n"
      "kernel/c.ko: kernel/a.ko\n"
      "kernel/d.ko: kernel/a.ko\n"
      "kernel/self.ko: kernel/self.ko\n");
  absl::StatusOr<std::vector<std::string>> paths = ResolveModules(index, {"d"});
  ASSERT_FALSE(paths.ok());
  EXPECT_THAT(paths.status().message(), HasSubstr("module dependency cycle: a -> b -> c -> a "
                                                  "(modules.dep lines 1, 2, 3)"));
  paths = ResolveModules(index, {"self"});
  ASSERT_FALSE(paths.ok());
  EXPECT_THAT(paths.status().message(), HasSubstr("cycle: self -> self"));
}

TEST(ModulesDepTest, EmptyNameAndHandBuiltIndexErrors) {
  ModuleIndex index = IndexFromDep(kSmallDep);
  EXPECT_THAT(ResolveModules(index, {""}).status().message(), HasSubstr("empty module name"));
  index.modules["top"].deps.push_back("ghost");
  absl::StatusOr<std::vector<std::string>> paths = ResolveModules(index, {"top"});
  ASSERT_FALSE(paths.ok());
  EXPECT_THAT(paths.status().message(), HasSubstr("module 'top' needs 'ghost'"));
}

TEST(ModuleNameTest, NamesFromPaths) {
  EXPECT_EQ(*ModuleNameFromPath("kernel/drivers/nvme/host/nvme-core.ko"), "nvme_core");
  EXPECT_EQ(*ModuleNameFromPath("x.ko.zst"), "x");
  EXPECT_EQ(*ModuleNameFromPath("d/x-y.ko.gz"), "x_y");
  EXPECT_EQ(*ModuleNameFromPath("d/x.ko.xz"), "x");
  EXPECT_FALSE(ModuleNameFromPath("d/x.ko.bz2").ok());
  EXPECT_FALSE(ModuleNameFromPath("d/.ko").ok());
  EXPECT_FALSE(ModuleNameFromPath("d.ko/").ok());
  EXPECT_EQ(NormalizeModuleName("a-b_c-"), "a_b_c_");
}

TEST(ModulesBuiltinTest, ParsesAndRejects) {
  absl::StatusOr<std::set<std::string>> b =
      ParseModulesBuiltin("kernel/lib/crc32.ko\n\nkernel/mm/z-pool.ko\n");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(*b, ElementsAre("crc32", "z_pool"));
  absl::StatusOr<std::set<std::string>> bad =
      ParseModulesBuiltin("kernel/lib/crc32.ko\nnonsense\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("modules.builtin line 2"));
}

TEST(ModulesAliasTest, ParsesAndRejects) {
  absl::StatusOr<std::vector<ModuleAlias>> a = ParseModulesAlias(
      "# Aliases extracted from modules themselves.\n"
      "alias crypto-crc64-rocksoft crc64_rocksoft-generic\n"
      "alias pci:v00008086d*sv*sd*bc01sc06i01* ahci\n"
      "alias usb:v[0-9A-F]*-x* foo\n");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0].pattern, "crypto_crc64_rocksoft");
  EXPECT_EQ((*a)[0].module, "crc64_rocksoft_generic");
  EXPECT_EQ((*a)[2].pattern, "usb:v[0-9A-F]*_x*");  // '-' kept in [...]
  for (const char* bad : {"alias onlytwo\n", "alias a b c\n", "alis a b\n"}) {
    absl::StatusOr<std::vector<ModuleAlias>> r = ParseModulesAlias(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(r.status().message(), HasSubstr("modules.alias line 1"));
  }
}

TEST(ModulesAliasTest, BuiltinModinfo) {
  static constexpr char kModinfo[] =
      "hmac.alias=crypto-hmac\0hmac.license=GPL\0dh_generic.alias=dh";
  const std::string modinfo(kModinfo, sizeof(kModinfo));  // with final NUL
  absl::StatusOr<std::vector<ModuleAlias>> a = ParseBuiltinModinfoAliases(modinfo);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].pattern, "crypto_hmac");
  EXPECT_EQ((*a)[0].module, "hmac");
  EXPECT_EQ((*a)[1].module, "dh_generic");
  EXPECT_FALSE(ParseBuiltinModinfoAliases("hmac.alias=x").ok());  // no NUL
  EXPECT_FALSE(ParseBuiltinModinfoAliases(std::string("noequals\0", 9)).ok());
  EXPECT_FALSE(ParseBuiltinModinfoAliases(std::string("a=b.c\0", 6)).ok());
}

TEST(ResolveModulesTest, AliasesAndBuiltins) {
  ModuleIndex index = IndexFromDep(kSmallDep);
  index.builtin = {"crc32", "hmac"};
  index.aliases = {
      {"dev:top*", "top"}, {"both", "alone"}, {"both", "hmac"}, {"ghost_alias", "ghost"}};
  absl::StatusOr<std::vector<std::string>> paths =
      ResolveModules(index, {"dev:top-v1", "both", "crc32"});
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_THAT(BaseNames(*paths),
              ElementsAre("base.ko.zst", "mid_two.ko.xz", "mid-one.ko", "top.ko", "alone.ko.gz"));
  absl::StatusOr<std::vector<std::string>> ghost = ResolveModules(index, {"ghost-alias"});
  ASSERT_FALSE(ghost.ok());
  EXPECT_THAT(ghost.status().message(), HasSubstr("'ghost-alias' is an alias of 'ghost'"));
}

// Random DAGs whose dependency lists are shuffled (not in depmod's order):
// the load order must still put every module after all it needs, contain
// exactly what the wanted modules need, and list each module once.
TEST(ResolveModulesTest, RandomGraphsProperty) {
  std::mt19937_64 rng(20240601);
  for (int iteration = 0; iteration < 300; ++iteration) {
    const int n = 1 + rng() % 30;
    std::vector<std::string> path(n);
    for (int i = 0; i < n; ++i) {
      path[i] = absl::StrCat("k/m", i, rng() % 2 ? ".ko" : ".ko.xz");
    }
    std::vector<std::vector<int>> deps(n);
    std::string text;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < i; ++j) {
        if (rng() % 4 == 0) deps[i].push_back(j);
      }
      std::shuffle(deps[i].begin(), deps[i].end(), rng);
      absl::StrAppend(&text, path[i], ":");
      for (int d : deps[i]) absl::StrAppend(&text, " ", path[d]);
      text += "\n";
    }
    ModuleIndex index = IndexFromDep(text);
    ASSERT_EQ(index.modules.size(), static_cast<size_t>(n)) << text;
    std::vector<std::string> wanted;
    std::set<int> closure;
    for (int k = rng() % 4; k >= 0; --k) {
      const int w = rng() % n;
      wanted.push_back(absl::StrCat("m", w));
      std::vector<int> todo = {w};
      while (!todo.empty()) {
        const int m = todo.back();
        todo.pop_back();
        if (!closure.insert(m).second) continue;
        todo.insert(todo.end(), deps[m].begin(), deps[m].end());
      }
    }
    absl::StatusOr<std::vector<std::string>> paths = ResolveModules(index, wanted);
    ASSERT_TRUE(paths.ok()) << paths.status() << "\n" << text;
    ASSERT_EQ(paths->size(), closure.size()) << text;
    std::map<std::string, size_t> position;
    for (size_t i = 0; i < paths->size(); ++i) {
      ASSERT_TRUE(position.emplace(*ModuleNameFromPath((*paths)[i]), i).second);
    }
    for (int m : closure) {
      const std::string name = absl::StrCat("m", m);
      ASSERT_TRUE(position.count(name)) << name;
      for (int d : deps[m]) {
        EXPECT_LT(position[absl::StrCat("m", d)], position[name]);
      }
    }
  }
}

// A chain far deeper than a recursive walk could take.
TEST(ResolveModulesTest, DeepChainDoesNotRecurse) {
  std::string text;
  const int n = 10000;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&text, "m", i, ".ko:");
    if (i > 0) absl::StrAppend(&text, " m", i - 1, ".ko");
    text += "\n";
  }
  ModuleIndex index = IndexFromDep(text);
  absl::StatusOr<std::vector<std::string>> paths =
      ResolveModules(index, {absl::StrCat("m", n - 1)});
  ASSERT_TRUE(paths.ok()) << paths.status();
  ASSERT_EQ(paths->size(), static_cast<size_t>(n));
  EXPECT_EQ(paths->front(), "m0.ko");
  EXPECT_EQ(paths->back(), absl::StrCat("m", n - 1, ".ko"));
}

// ------------------------------------------------------------ files

TEST(LoadModuleIndexTest, OptionalFilesMayBeMissing) {
  TempDir dir;
  dir.Write("modules.dep", kSmallDep);
  absl::StatusOr<ModuleIndex> index = LoadModuleIndex(dir.path());
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->modules.size(), 5u);
  EXPECT_TRUE(index->builtin.empty());
  EXPECT_TRUE(index->aliases.empty());
}

TEST(LoadModuleIndexTest, ReadsAllFourFiles) {
  TempDir dir;
  dir.Write("modules.dep", kSmallDep);
  dir.Write("modules.builtin", "kernel/crypto/hmac.ko\n");
  dir.Write("modules.alias", "alias pci:v1* top\n");
  dir.Write("modules.builtin.modinfo", std::string("hmac.alias=crypto-hmac\0", 23));
  absl::StatusOr<ModuleIndex> index = LoadModuleIndex(dir.path());
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_THAT(index->builtin, ElementsAre("hmac"));
  ASSERT_EQ(index->aliases.size(), 2u);
  absl::StatusOr<std::vector<std::string>> paths =
      ResolveModules(*index, {"crypto-hmac", "pci:v1234"});
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->back(), "kernel/a/top.ko");
}

TEST(LoadModuleIndexTest, ErrorsNameTheFile) {
  TempDir dir;
  absl::StatusOr<ModuleIndex> missing = LoadModuleIndex(dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(dir.path() + "/modules.dep"));
  dir.Write("modules.dep", "kernel/a.ko\n");
  absl::StatusOr<ModuleIndex> bad = LoadModuleIndex(dir.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr(dir.path() + "/modules.dep line 1"));
  dir.Write("modules.dep", kSmallDep);
  dir.Write("modules.alias", "garbage\n");
  bad = LoadModuleIndex(dir.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr(dir.path() + "/modules.alias line 1"));
}

TEST(ReadHostFileTest, ReadsAndReportsErrno) {
  TempDir dir;
  const std::string big(200000, 'z');
  dir.Write("f", big);
  absl::StatusOr<std::string> got = ReadHostFile(dir.path() + "/f");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, big);
  absl::StatusOr<std::string> none = ReadHostFile(dir.path() + "/nope");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(),
              HasSubstr("cannot open file " + dir.path() + "/nope: No such file or directory"));
  absl::StatusOr<std::string> is_dir = ReadHostFile(dir.path());
  ASSERT_FALSE(is_dir.ok());
  EXPECT_THAT(is_dir.status().message(), HasSubstr("is a directory"));
  absl::StatusOr<std::string> zero = ReadHostFile("/dev/zero");
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.status().message(), HasSubstr("is a character device"));
}

}  // namespace
}  // namespace saveoops
