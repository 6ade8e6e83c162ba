// The media cache's entry file on its own: metadata lines round-trip, the body starts on a page
// boundary, and a file that is not a complete entry (wrong magic, a fill never committed,
// sizes that do not add up, a body over the limit, a malformed line) is never read as one.
#include "cache/entry_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/common/temp_dir.hpp"

namespace sidecar::cache::entry_file {
namespace {

using std::chrono::seconds;

entry_meta sample() {
  entry_meta m;
  m.url = "http://app.example.com/media/hold-music.wav?v=2";
  m.status = 200;
  m.reason = "OK";
  m.headers = {{"Content-Type", "audio/wav"}, {"ETag", "\"abc\""}, {"X-Empty", ""}};
  m.stored_at = clock::time_point{seconds{1'700'000'000}};
  m.expires_at = m.stored_at + seconds{300};
  m.initial_age = seconds{12};
  return m;
}

/// An entry file as a fill writes it: head bytes, body, then the body size.
std::filesystem::path write_entry(const testing_support::temp_dir& dir, const entry_meta& m,
                                  std::string_view body, bool commit = true) {
  const auto path = dir / "e.entry";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0);
  const auto head = head_bytes(m);
  EXPECT_TRUE(head.has_value());
  EXPECT_TRUE(write_all(fd, *head));
  EXPECT_TRUE(write_all(fd, body));
  if (commit) {
    EXPECT_TRUE(set_body_size(fd, body.size()));
  }
  ::close(fd);
  return path;
}

std::optional<entry_meta> read_path(const std::filesystem::path& path, std::uint64_t max_body) {
  const file_handle file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!file || ::fstat(file.get(), &st) != 0) return std::nullopt;
  return read(file.get(), static_cast<std::uint64_t>(st.st_size), max_body);
}

TEST(entry_file, MetadataRoundTrips) {
  const entry_meta m = sample();
  const auto back = decode_meta(encode_meta(m));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->url, m.url);
  EXPECT_EQ(back->status, 200);
  EXPECT_EQ(back->reason, "OK");
  EXPECT_EQ(back->headers, m.headers);
  EXPECT_EQ(back->stored_at, m.stored_at);
  EXPECT_EQ(back->expires_at, m.expires_at);
  EXPECT_EQ(back->initial_age, seconds{12});
}

TEST(entry_file, AWrittenEntryReadsBackWithItsBodyOnAPageBoundary) {
  const testing_support::temp_dir dir;
  const std::string body(10'000, 'w');
  const auto back = read_path(write_entry(dir, sample(), body), 1 << 20);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->url, sample().url);
  EXPECT_EQ(back->body_size, body.size());
  EXPECT_EQ(back->body_offset % 4096, 0u);
  EXPECT_EQ(std::filesystem::file_size(dir / "e.entry"), back->body_offset + body.size());
}

TEST(entry_file, AFillNeverCommittedIsNotAnEntry) {
  const testing_support::temp_dir dir;
  EXPECT_FALSE(read_path(write_entry(dir, sample(), "partial body", false), 1 << 20));
}

TEST(entry_file, ABodyOverTheLimitOrAFileCutShortIsNotAnEntry) {
  const testing_support::temp_dir dir;
  const auto path = write_entry(dir, sample(), std::string(5000, 'b'));
  EXPECT_FALSE(read_path(path, 4999));
  EXPECT_TRUE(read_path(path, 5000));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1);
  EXPECT_FALSE(read_path(path, 1 << 20));
}

TEST(entry_file, AnotherFormatIsNotAnEntry) {
  const testing_support::temp_dir dir;
  EXPECT_FALSE(read_path(dir.write("x.entry", std::string(64, 'x')), 1 << 20));
  EXPECT_FALSE(read_path(dir.write("short.entry", "TSCACHE1"), 1 << 20));
}

TEST(entry_file, MalformedMetadataIsRefusedAndUnknownTagsSkipped) {
  const std::string good = "url http://a/\nstatus 200\nstored_ms 1\nexpires_ms 2\n";
  EXPECT_TRUE(decode_meta(good));
  EXPECT_TRUE(decode_meta(good + "newer-tag something\n"));
  EXPECT_FALSE(decode_meta("url http://a/\nstatus 200\nstored_ms 1\n"));  // no expires_ms
  EXPECT_FALSE(decode_meta(good + "status x\n"));
  EXPECT_FALSE(decode_meta(good + "header NoColon\n"));
  EXPECT_FALSE(decode_meta(good + "no-newline-at-end"));
  EXPECT_FALSE(decode_meta(good + "lonetag\n"));
}

TEST(entry_file, KeysAndStorableValues) {
  EXPECT_TRUE(is_key(std::string(64, 'a')));
  EXPECT_FALSE(is_key(std::string(64, 'A')));
  EXPECT_FALSE(is_key(std::string(63, 'a')));
  EXPECT_FALSE(is_key(std::string(63, 'a') + "g"));
  EXPECT_TRUE(storable("audio/wav; rate=8000"));
  EXPECT_FALSE(storable("a\r\nInjected: 1"));
  EXPECT_FALSE(storable("a\nb"));
}

}  // namespace
}  // namespace sidecar::cache::entry_file
