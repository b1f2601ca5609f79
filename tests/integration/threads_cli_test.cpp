// [reliability]: --threads above the hardware threads is capped with a warning (TBB would otherwise
// fall back to one worker silently); a negative count is a usage error.
#include <gtest/gtest.h>

#include <thread>

#include "test_support.hpp"

using namespace fieldseg;

TEST(ThreadsCli, TooManyThreadsAreCappedWithAWarningNegativeIsAUsageError) {
  test::TempDir dir;
  const std::vector<std::string> base = {
      "synth",           "--preset", "smallholder",        "--size", "96", "--seed", "3", "--out",
      dir.file("s.tif"), "--truth",  dir.file("s.geojson")};
  auto args = base;
  args.insert(args.end(), {"--threads", "1000"});
  auto r = test::runCli(args);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const std::string cores = std::to_string(std::thread::hardware_concurrency());
  EXPECT_NE(r.err.find("--threads 1000 exceeds the " + cores + " hardware threads; using " + cores),
            std::string::npos)
      << r.err;
  args = base;
  args.insert(args.end(), {"--threads", "-1", "--overwrite"});
  r = test::runCli(args);
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("must be >= 0"), std::string::npos) << r.err;
  r = test::runCli({"delineate", dir.file("s.tif"), "--probabilities-in", dir.file("s.tif"),
                    "--out", dir.file("f.geojson"), "--threads", "-3"});
  EXPECT_EQ(r.exitCode, 2) << r.err;
}
