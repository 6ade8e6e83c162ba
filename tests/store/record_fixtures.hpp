// Test helpers for record building: a config with a few accounts, and captures made from the
// Restcomm-shaped raw requests in tests/fixtures/restcomm/.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "conf/config.hpp"
#include "store/capture.hpp"
#include "store/form_scan.hpp"
#include "store/trace_record.hpp"
#include "support/ascii.hpp"

namespace sidecar::store::testing {

inline constexpr std::string_view acme = "ACae6e420f425248d6a26948c17a9e2acf";
inline constexpr std::string_view other = "AC00000000000000000000000000000001";     // traced
inline constexpr std::string_view untraced = "AC00000000000000000000000000000002";  // traces=false
inline constexpr std::string_view stranger = "AC0000000000000000000000000000ffff";  // not in config
inline constexpr std::string_view call_sid =
    "IDbb44ef8c2ebf4d4599d0378a2a8a2ea8-CAd9e08ede8b604e739ba7d0bd477fdf49";

inline std::shared_ptr<conf::config> make_config(std::size_t body_limit = 100 * 1024) {
  auto cfg = std::make_shared<conf::config>();
  cfg->store.body_limit = body_limit;
  conf::account a;
  a.sid = acme;
  a.auth_token = "0123456789abcdef0123456789abcdef";
  a.friendly_name = "Acme";
  a.org_sid = "ORfe81fe8a3d5f4d5391e901db0bf5755d";
  a.org_name = "acme.example.com";
  a.traces = true;
  cfg->accounts.push_back(a);
  conf::account b;
  b.sid = other;
  b.auth_token = "x";
  b.friendly_name = "Other";
  b.traces = true;
  cfg->accounts.push_back(b);
  conf::account c;
  c.sid = untraced;
  c.auth_token = "y";
  c.traces = false;
  cfg->accounts.push_back(c);
  return cfg;
}

inline std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(SIDECAR_FIXTURES_DIR) + "/restcomm/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "missing fixture " << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Sets the capture's URL as the proxy fills it: "scheme://authority" apart from the target.
/// A URL without "://" is a target alone.
inline void set_url(capture& c, std::string_view url) {
  const auto sep = url.find("://");
  const auto target =
      sep == std::string_view::npos ? 0 : std::min(url.find('/', sep + 3), url.size());
  c.upstream_url = std::string(url);
  c.target_at = target;
}

/// What the proxy's capture observer does for a webhook's form body (the body at hand is whole).
inline void scan_form_as_the_proxy_does(capture& c) {
  std::string_view type;
  std::string_view coding;
  for (const auto& [name, value] : c.request_headers) {
    if (ascii::iequals(name, "content-type")) type = value;
    if (ascii::iequals(name, "content-encoding")) coding = value;
  }
  if (c.direction == conf::direction::webhook && is_form_body(type, coding)) {
    c.request_form = scan_form(c.request_body.head);
  }
}

/// A completed 200 exchange of the raw request in `fixture`, sent to http://127.0.0.1:9000
/// with the "/apps/acme/" prefix replaced by "/".
/// (The form body of a webhook is scanned as the proxy scans it.)
inline capture capture_from(const std::string& fixture, conf::direction dir) {
  const std::string raw = read_fixture(fixture);
  capture c;
  c.direction = dir;
  c.completed_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1798419723456));
  c.latency = std::chrono::microseconds(12'345);
  c.client_address = "127.0.0.1:40000";
  const auto head_end = raw.find("\r\n\r\n");
  const std::string head = raw.substr(0, head_end);
  const std::string body = head_end == std::string::npos ? "" : raw.substr(head_end + 4);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  c.method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.rfind("/apps/acme/", 0) == 0) target = target.substr(10);
  set_url(c, "http://127.0.0.1:9000" + target);
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    c.request_headers.emplace_back(line.substr(0, colon), value);
  }
  c.request_body.head = body;
  c.request_body.size = body.size();
  scan_form_as_the_proxy_does(c);
  c.status_code = 200;
  c.reason = "OK";
  c.response_headers = {{"Content-Type", "application/xml"}, {"Content-Length", "43"}};
  c.response_body.head = "<Response><Say>hello world</Say></Response>";
  c.response_body.size = c.response_body.head.size();
  return c;
}

/// A bare capture: GET `url`, 200 with no body.
inline capture simple_capture(std::string url, conf::direction dir = conf::direction::webhook) {
  capture c;
  c.direction = dir;
  c.completed_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1798419723456));
  c.method = "GET";
  set_url(c, url);
  c.status_code = 200;
  c.reason = "OK";
  return c;
}

/// Whether `doc` is one valid JSON document.
inline bool parses_as_json(const std::string& doc) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  return parser.parse(doc).get(e) == simdjson::SUCCESS;
}

/// Every field of two records compared, each in its own expectation.
inline void expect_same_record(const trace_record& a, const trace_record& b) {
  EXPECT_EQ(a.sid, b.sid);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.account_sid, b.account_sid);
  EXPECT_EQ(a.account_friendly_name, b.account_friendly_name);
  EXPECT_EQ(a.org_sid, b.org_sid);
  EXPECT_EQ(a.org_name, b.org_name);
  EXPECT_EQ(a.session_sid, b.session_sid);
  EXPECT_EQ(a.completed, b.completed);
  EXPECT_EQ(a.direction, b.direction);
  EXPECT_EQ(a.latency_ms, b.latency_ms);
  EXPECT_EQ(a.request.path, b.request.path);
  EXPECT_EQ(a.request.url, b.request.url);
  EXPECT_EQ(a.request.method, b.request.method);
  EXPECT_EQ(a.request.headers, b.request.headers);
  EXPECT_EQ(a.request.body.body, b.request.body.body);
  EXPECT_EQ(a.request.body.size, b.request.body.size);
  EXPECT_EQ(a.response.code, b.response.code);
  EXPECT_EQ(a.response.phrase, b.response.phrase);
  EXPECT_EQ(a.response.headers, b.response.headers);
  EXPECT_EQ(a.response.body.body, b.response.body.body);
  EXPECT_EQ(a.response.body.base64, b.response.body.base64);
  EXPECT_EQ(a.response.body.truncated, b.response.body.truncated);
  EXPECT_EQ(a.response.body.size, b.response.body.size);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.node, b.node);
  EXPECT_EQ(a.replay_of, b.replay_of);
}

}  // namespace sidecar::store::testing
