// SHA-256 against the FIPS 180-4 examples and against coreutils' sha256sum on a file that spans
// several internal blocks.
#include "fieldseg/checksum.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "fieldseg/error.hpp"
#include "test_support.hpp"

using namespace fieldseg;

TEST(Checksum, Sha256KnownAnswers) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Checksum, FileMatchesSha256sum) {
  test::TempDir dir;
  const std::string path = dir.file("x.bin");
  {
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 3 * (1 << 20) + 17; ++i) f.put(static_cast<char>((i * 7919) & 0xff));
  }
  const auto r = test::runShell("sha256sum '" + path + "'");
  if (r.exitCode != 0) GTEST_SKIP() << "sha256sum not available";
  EXPECT_EQ(sha256File(path), r.out.substr(0, 64));
  EXPECT_THROW((void)sha256File(dir.file("absent")), IoError);
}
