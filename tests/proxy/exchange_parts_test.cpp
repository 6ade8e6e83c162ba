// proxy/exchange_parts: hop-by-hop removal, every Connection field's names included, however
// the fields are ordered; the capture's copy of a head.
#include "proxy/exchange_parts.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sidecar::proxy {
namespace {

std::vector<std::string> names_of(const head_fields& f) {
  std::vector<std::string> out;
  for (const auto& field : f) out.emplace_back(field.name_string());
  return out;
}

TEST(strip_hop_by_hop, RemovesTheFixedListAndWhatConnectionNames) {
  head_fields f;
  f.insert("X-First", "1");
  f.insert(http::field::connection, "keep-alive, X-Private");
  f.insert("X-Private", "secret");
  f.insert(http::field::keep_alive, "5");
  f.insert(http::field::proxy_authorization, "Basic abc");
  f.insert(http::field::te, "trailers");
  f.insert(http::field::upgrade, "websocket");
  f.insert("X-Last", "2");
  strip_hop_by_hop(f, false);
  EXPECT_EQ(names_of(f), (std::vector<std::string>{"X-First", "X-Last"}));
}

// Found in session 8 and left then: the names of a second Connection field that does not
// follow the first were kept.
TEST(strip_hop_by_hop, ASecondNonAdjacentConnectionFieldsNamesAreRemovedToo) {
  head_fields f;
  f.insert(http::field::connection, "X-One");
  f.insert("X-One", "1");
  f.insert("X-Kept", "k");
  f.insert(http::field::connection, "x-two, close");
  f.insert("X-Two", "2");
  strip_hop_by_hop(f, false);
  EXPECT_EQ(names_of(f), (std::vector<std::string>{"X-Kept"}));
}

TEST(strip_hop_by_hop, KeepsFramingHostAndAnUpgradeItIsToldToKeep) {
  head_fields f;
  f.insert(http::field::host, "a.example");
  f.insert(http::field::content_length, "5");
  f.insert(http::field::upgrade, "websocket");
  // A Connection that names itself, framing, Host and Upgrade: only Connection goes.
  f.insert(http::field::connection, "connection, content-length, host, upgrade");
  strip_hop_by_hop(f, true);
  EXPECT_EQ(names_of(f), (std::vector<std::string>{"Host", "Content-Length", "Upgrade"}));
}

// Beast's basic_fields get the same removals (the interim 1xx heads the proxy relays).
TEST(strip_hop_by_hop, BeastFieldsLoseTheSameFields) {
  http::fields f;
  f.insert("X-First", "1");
  f.insert(http::field::connection, "X-Private");
  f.insert("X-Private", "secret");
  f.insert(http::field::proxy_connection, "keep-alive");
  strip_hop_by_hop(f, false);
  std::vector<std::string> names;
  for (const auto& field : f) names.emplace_back(field.name_string());
  EXPECT_EQ(names, (std::vector<std::string>{"X-First"}));
}

// The capture's copy: every field in wire order, names as written, duplicates kept.
TEST(to_field_list, KeepsEveryFieldAsItIs) {
  head_fields f;
  f.insert("X-A", "1");
  f.insert(http::field::host, "h");
  f.insert("x-a", "");
  const store::field_list list = to_field_list(f);
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& [name, value] : list) got.emplace_back(name, value);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{
                     {"X-A", "1"}, {"Host", "h"}, {"x-a", ""}}));
  EXPECT_EQ(list.size(), 3u);
  EXPECT_TRUE(to_field_list(head_fields()).empty());
}

}  // namespace
}  // namespace sidecar::proxy
