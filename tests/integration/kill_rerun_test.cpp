// [reliability] crash safety: `fieldseg delineate` with the shipped model killed with SIGKILL at
// several points leaves nothing that blocks or confuses the rerun. After every kill the folder
// holds either both outputs (the run had finished) or neither (only temp files named
// *.fieldseg-tmp-<pid>@<host>@*), never the probabilities without the fields; the rerun, without
// --overwrite, succeeds, removes those temp files and leaves none of its own.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg;

namespace {

int tempFiles(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".fieldseg-tmp-") != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST(KillRerun, SigkillAtAnyPointLeavesNothingThatBlocksTheRerun) {
  const std::string model = std::string(FIELDSEG_SOURCE_DIR) + "/models/smallholder.fsm";
  if (!fs::exists(model)) GTEST_SKIP() << model << " absent";
  test::TempDir dir;
  const std::string img = dir.file("k.tif"), fields = dir.file("kf.geojson"),
                    probs = dir.file("kp.tif");
  auto r = test::runCli({"-q", "synth", "--preset", "smallholder", "--size", "1024", "--gsd", "4.8",
                         "--seed", "9", "--out", img, "--truth", dir.file("k.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const std::string run = std::string("'") + FIELDSEG_CLI + "' -q delineate '" + img +
                          "' --model '" + model + "' --out '" + fields + "' --probabilities '" +
                          probs + "' --threads 2";
  int killedMidRun = 0;
  for (const char* delay : {"0.3", "1", "2", "3", "4.5"}) {
    SCOPED_TRACE(std::string("kill -9 after ") + delay + " s");
    r = test::runShell("(" + run + ") & p=$!; sleep " + delay +
                       "; if kill -9 $p 2>/dev/null; then echo killed; fi; wait $p; true");
    const bool haveFields = fs::exists(fields), haveProbs = fs::exists(probs);
    EXPECT_EQ(haveFields, haveProbs) << "one output without the other";
    if (haveFields) {  // it had finished: start the next round from scratch
      EXPECT_EQ(tempFiles(dir.path()), 0);
      fs::remove(fields);
      fs::remove(probs);
      fs::remove(dir.file("kf.geojson.run.json"));
    } else if (r.out.find("killed") != std::string::npos) {
      ++killedMidRun;
    }
  }
  r = test::runShell(run);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(fs::exists(fields));
  EXPECT_TRUE(fs::exists(probs));
  EXPECT_EQ(tempFiles(dir.path()), 0) << "temp files left behind";
  // The point of the test: at least one kill landed while the run was working.
  EXPECT_GE(killedMidRun, 1);
}
