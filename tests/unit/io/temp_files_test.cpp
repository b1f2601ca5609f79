// Temp-file names (fieldseg/temp_files.hpp): a rerun removes the leftovers of dead processes of
// this host only, never a live process's file nor another host's (shared cluster folders).
#include "fieldseg/temp_files.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg;

TEST(TempFiles, OnlyDeadProcessesOfThisHostAreStale) {
  const std::string mine = fs::path(tempSibling("/x/fields.gpkg")).filename().string();
  EXPECT_EQ(mine.rfind("fields.fieldseg-tmp-", 0), 0u) << mine;
  EXPECT_EQ(fs::path(mine).extension(), ".gpkg");
  EXPECT_FALSE(isStaleTempName(mine)) << "this process is alive";

  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  waitpid(child, nullptr, 0);  // now dead
  const std::string host = mine.substr(mine.find('@') + 1, mine.rfind('@') - mine.find('@') - 1);
  const std::string dead = "f.fieldseg-tmp-" + std::to_string(child) + "@" + host + "@0.tif";
  EXPECT_TRUE(isStaleTempName(dead)) << dead;
  EXPECT_FALSE(isStaleTempName("f.fieldseg-tmp-" + std::to_string(child) + "@other-node@0.tif"));
  EXPECT_FALSE(isStaleTempName("f.fieldseg-tmp-abc@" + host + "@0.tif"));
  EXPECT_FALSE(isStaleTempName("fields.geojson"));

  test::TempDir dir;
  std::ofstream(dir.file(dead)) << "x";
  std::ofstream(dir.file("f.fieldseg-tmp-" + std::to_string(child) + "@other-node@0.tif")) << "x";
  std::ofstream(dir.file(mine)) << "x";
  EXPECT_EQ(removeStaleTemps(dir.path()), 1);
  EXPECT_FALSE(fs::exists(dir.file(dead)));
  EXPECT_TRUE(fs::exists(dir.file(mine)));
}
