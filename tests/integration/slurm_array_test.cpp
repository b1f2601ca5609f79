// Acceptance 1 of the batch issue: a real one-node Slurm cluster (munge, slurmctld, slurmd on
// localhost) runs `fieldseg delineate --grid` as an array job; the merged result equals the
// single-process run, and a task killed mid-cell is completed by a resubmission with nothing lost
// or duplicated. The work is in slurm_array_test.sh; this test runs it. Needs root (munged runs as
// user munge, slurmd as root) and the Debian packages slurm-wlm and munge (tools/setup.sh). About
// a minute.
#include <gtest/gtest.h>
#include <unistd.h>

#include "test_support.hpp"

namespace fieldseg::test {

TEST(SlurmArray, ShardedRunEqualsSingleProcessAndSurvivesAKilledTask) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "the Slurm integration test must run as root (it starts munged as user munge "
                    "and slurmd as root); run the suite as root, as CI does";
  }
  TempDir work;
  const std::string src = FIELDSEG_SOURCE_DIR;
  CliResult r = runShell("bash '" + src + "/tests/integration/slurm_array_test.sh' '" +
                         std::string(FIELDSEG_CLI) + "' '" + src + "' '" + work.path() + "' 2>&1");
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("rerun of shard 1: processed"), std::string::npos) << r.out;
  std::cout << r.out;
}

}  // namespace fieldseg::test
