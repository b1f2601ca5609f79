// Fault injection (fieldseg/file_env.hpp) on the model writer: a model written while the disk
// fails (the temp file refused, a write cut short, the rename refused) leaves the earlier model
// file byte for byte and no temp file beside it.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "failing_file_env.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg;
using fieldseg::test::entriesOf;
using fieldseg::test::FailingFileEnv;
using fieldseg::test::fileBytes;
using Fail = FailingFileEnv::Fail;

TEST(ModelFileFaults, AFailedModelWriteLeavesTheEarlierModel) {
  test::TempDir dir;
  const std::string shipped = std::string(FIELDSEG_SOURCE_DIR) + "/models/synth_smallholder.fsm";
  const std::string out = dir.file("m.fsm");
  fs::copy_file(shipped, out);
  const std::string before = fileBytes(out);
  const std::string card = readModelCard(out);
  for (Fail f : {Fail::Create, Fail::Write, Fail::Rename}) {
    FailingFileEnv env(f);
    ScopedFileEnv guard(env);
    EXPECT_THROW(writeModelCard(shipped, out, card), IoError);
    EXPECT_EQ(entriesOf(dir.path()), std::vector<std::string>{"m.fsm"});
    EXPECT_TRUE(fileBytes(out) == before) << "the earlier model changed";
  }
  writeModelCard(shipped, out, card);  // without a fault the same write goes through
  EXPECT_TRUE(isModelFile(out));
  EXPECT_EQ(nlohmann::json::parse(readModelCard(out)), nlohmann::json::parse(card));
  EXPECT_EQ(entriesOf(dir.path()), std::vector<std::string>{"m.fsm"});
}
