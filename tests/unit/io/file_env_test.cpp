// Fault injection through the FileEnv seam (fieldseg/file_env.hpp): every io writer, made to fail
// at its temp file's creation or at the final rename (and whole-file writes also in the middle of
// the write), throws IoError and leaves the folder as it was: an earlier output under the same
// name unchanged, no new file, no temp file.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "failing_file_env.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/field_writer.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/quicklook.hpp"
#include "fieldseg/raster_source.hpp"
#include "fieldseg/temp_files.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg;
using fieldseg::test::entriesOf;
using fieldseg::test::FailingFileEnv;
using fieldseg::test::fileBytes;
using fieldseg::test::TempDir;
using Fail = FailingFileEnv::Fail;

namespace {

void putFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

FieldSet twoFields() {
  FieldSet fs;
  fs.crs = Crs::fromEpsg(32636);
  for (int i = 0; i < 2; ++i) {
    Field f;
    f.id = i + 1;
    const double x0 = 600000 + 200 * i, y0 = 110000;
    f.polygon.exterior = {{x0, y0}, {x0, y0 + 100}, {x0 + 100, y0 + 100}, {x0 + 100, y0}};
    fs.fields.push_back(f);
  }
  return fs;
}

GridSpec utmGrid(int w, int h) {
  return GridSpec(w, h, {600000, 3, 0, 110000, 0, -3}, Crs::fromEpsg(32636));
}

void writeTiff(const std::string& path, bool cog) {
  GeoTiffWriter w(path, utmGrid(300, 200), 2, GeoTiffWriter::Type::Byte, {"a", "b"}, 255.0);
  if (cog) w.writeCogOnClose();
  w.write(0, 0, Raster<float>(2, 200, 300, 7.0f));
  w.close();
}

// Runs `write` (which writes `name` in `dir`) with `env` installed; expects IoError and the folder
// exactly as before: `name` holding "old" and nothing else.
template <class F>
void expectFailsCleanly(const TempDir& dir, const std::string& name, FailingFileEnv env, F write,
                        const std::string& what) {
  SCOPED_TRACE(what);
  putFile(dir.file(name), "old");
  const std::vector<std::string> before = entriesOf(dir.path());
  {
    ScopedFileEnv guard(env);
    EXPECT_THROW(write(dir.file(name)), IoError);
  }
  EXPECT_EQ(entriesOf(dir.path()), before) << "a file was left beside the output";
  EXPECT_EQ(fileBytes(dir.file(name)), "old") << "the earlier output changed";
}

}  // namespace

TEST(FileEnvFaults, WholeFileWritesLeaveTheOldFileOnEveryFailure) {
  TempDir dir;
  const std::string big(1 << 20, 'x');
  auto write = [&](const std::string& p) { writeFileAtomically(p, big); };
  expectFailsCleanly(dir, "out.txt", FailingFileEnv(Fail::Create), write, "create");
  expectFailsCleanly(dir, "out.txt", FailingFileEnv(Fail::Write), write, "write cut short");
  expectFailsCleanly(dir, "out.txt", FailingFileEnv(Fail::Rename), write, "rename");
  // Without a fault the same call replaces the file, so the cases above did reach the writer.
  write(dir.file("out.txt"));
  EXPECT_EQ(fileBytes(dir.file("out.txt")), big);
  EXPECT_EQ(entriesOf(dir.path()), std::vector<std::string>{"out.txt"});
}

TEST(FileEnvFaults, FieldWritersLeaveTheOldFileOnEveryFailure) {
  TempDir dir;
  VectorWriteOptions o;
  o.overwrite = true;
  for (const std::string name : {"f.geojson", "f.gpkg", "f.fgb", "f.geojsonl"}) {
    auto write = [&](const std::string& p) { writeFields(twoFields(), p, o); };
    expectFailsCleanly(dir, name, FailingFileEnv(Fail::Create), write, name + " create");
    expectFailsCleanly(dir, name, FailingFileEnv(Fail::Rename), write, name + " rename");
    if (name.find(".geojson") != std::string::npos)  // fieldseg's own writer: write(2) is seen
      expectFailsCleanly(dir, name, FailingFileEnv(Fail::Write), write, name + " write");
    write(dir.file(name));
    EXPECT_NE(fileBytes(dir.file(name)), "old") << name;
    fs::remove(dir.file(name));
  }
  EXPECT_TRUE(entriesOf(dir.path()).empty());
}

TEST(FileEnvFaults, GeoTiffAndCogWritersLeaveTheOldFileOnEveryFailure) {
  TempDir dir;
  for (bool cog : {false, true}) {
    auto write = [&](const std::string& p) { writeTiff(p, cog); };
    const std::string kind = cog ? "COG" : "GeoTIFF";
    expectFailsCleanly(dir, "p.tif", FailingFileEnv(Fail::Create), write, kind + " create");
    expectFailsCleanly(dir, "p.tif", FailingFileEnv(Fail::Rename), write, kind + " rename");
    if (cog)  // the COG copy is a second temp file: refusing it must not leave the first
      expectFailsCleanly(dir, "p.tif", FailingFileEnv(Fail::Create, 1), write, "COG copy create");
    write(dir.file("p.tif"));
    EXPECT_GT(fs::file_size(dir.file("p.tif")), 100u) << kind;
  }
  EXPECT_EQ(entriesOf(dir.path()), std::vector<std::string>{"p.tif"});
}

TEST(FileEnvFaults, QuicklookWriterLeavesTheOldFileOnEveryFailure) {
  TempDir dir;
  RgbImage img;
  img.rows = 20;
  img.cols = 30;
  img.rgb.assign(20 * 30 * 3, 128);
  for (const std::string name : {"q.png", "q.jpg"}) {
    auto write = [&](const std::string& p) { writeQuicklook(img, p, /*overwrite=*/true); };
    expectFailsCleanly(dir, name, FailingFileEnv(Fail::Create), write, name + " create");
    expectFailsCleanly(dir, name, FailingFileEnv(Fail::Rename), write, name + " rename");
    write(dir.file(name));
    EXPECT_NE(fileBytes(dir.file(name)), "old") << name;
  }
  EXPECT_EQ(entriesOf(dir.path()), (std::vector<std::string>{"q.jpg", "q.png"}));
}
