// Fault injection (fieldseg/file_env.hpp) on the chip manifest: an update that fails (temp file
// refused, write cut short, rename refused) leaves the earlier manifest.jsonl line for line.
#include <fstream>
#include <sstream>

#include "failing_file_env.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/weak_labels.hpp"
#include "test_support.hpp"

using namespace fieldseg;
using fieldseg::test::entriesOf;
using fieldseg::test::FailingFileEnv;
using fieldseg::test::fileBytes;
using Fail = FailingFileEnv::Fail;

TEST(ManifestFaults, AFailedUpdateLeavesTheEarlierManifest) {
  test::TempDir dir;
  const std::string a = R"({"image":"img/a.tif","label":"lbl/a.tif","source_image":"a.tif"})";
  const std::string b = R"({"image":"img/b.tif","label":"lbl/b.tif","source_image":"b.tif"})";
  ASSERT_EQ(updateManifest(dir.path(), "a.tif", {a}), 0);
  const std::string before = fileBytes(dir.file("manifest.jsonl"));
  for (Fail f : {Fail::Create, Fail::Write, Fail::Rename}) {
    FailingFileEnv env(f);
    ScopedFileEnv guard(env);
    EXPECT_THROW(updateManifest(dir.path(), "b.tif", {b}), IoError);
    EXPECT_EQ(fileBytes(dir.file("manifest.jsonl")), before);
    EXPECT_EQ(entriesOf(dir.path()), std::vector<std::string>{"manifest.jsonl"});
  }
  EXPECT_EQ(updateManifest(dir.path(), "b.tif", {b}), 0);
  EXPECT_EQ(fileBytes(dir.file("manifest.jsonl")), a + "\n" + b + "\n");
}
