// store/redact: the redaction scanners on their own: headers, forms, JSON (including cut and
// hostile input, and a property test over generated documents) and XML.
#include "store/redact.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>

namespace sidecar::store {
namespace {

const redact::secret_fields secrets({"Pin"});

std::string form(std::string_view in) {
  std::string out;
  redact::append_form(out, in, secrets);
  return out;
}
std::string json(std::string_view in) {
  std::string out;
  redact::append_json(out, in, secrets);
  return out;
}
std::string xml(std::string_view in) {
  std::string out;
  redact::append_xml(out, in, secrets);
  return out;
}

TEST(redact_fields, DefaultsAndExtrasMatchInAnyCase) {
  for (const char* n : {"AuthToken", "authtoken", "AUTH_TOKEN", "Password", "password", "secret",
                        "Secret", "api_key", "API_KEY", "pin", "PIN"}) {
    EXPECT_TRUE(secrets.matches(n)) << n;
  }
  for (const char* n : {"", "token", "auth", "passwords", "my_secret", "apikey", "pin "}) {
    EXPECT_FALSE(secrets.matches(n)) << n;
  }
}

TEST(redact_headers, DefaultsAndConfiguredOnes) {
  const std::vector<std::string> extra{"x-api-key"};
  for (const char* h :
       {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}) {
    EXPECT_TRUE(redact::is_secret_header(h, extra)) << h;
  }
  EXPECT_FALSE(redact::is_secret_header("accept", extra));
  EXPECT_FALSE(redact::is_secret_header("x-api-key", {}));
}

TEST(redact_headers, SchemeIsKeptOnlyWhenKnownAndAsked) {
  EXPECT_EQ(redact::header_value("Basic QUM6eA==", true), "Basic [REDACTED]");
  EXPECT_EQ(redact::header_value("  bearer abc", true), "bearer [REDACTED]");
  EXPECT_EQ(redact::header_value("Basic QUM6eA==", false), "[REDACTED]");
  EXPECT_EQ(redact::header_value("QUM6eA==", true), "[REDACTED]");
  EXPECT_EQ(redact::header_value("hunter2 hunter3", true), "[REDACTED]");
  EXPECT_EQ(redact::header_value("", true), "[REDACTED]");
}

TEST(redact_form, ReplacesOnlySecretValues) {
  EXPECT_EQ(form(""), "");
  EXPECT_EQ(form("a=1"), "a=1");
  EXPECT_EQ(form("password=x"), "password=[REDACTED]");
  EXPECT_EQ(form("a=1&Password=x&b=2"), "a=1&Password=[REDACTED]&b=2");
  EXPECT_EQ(form("password"), "password");  // a name without a value hides nothing
  EXPECT_EQ(form("&&password=x&"), "&&password=[REDACTED]&");
  EXPECT_EQ(form("a=1;secret=x"), "a=1;secret=[REDACTED]");
  EXPECT_EQ(form("api%5Fkey=x&auth+token=y"), "api%5Fkey=[REDACTED]&auth+token=y");
  EXPECT_EQ(form("pin=1=2"), "pin=[REDACTED]");
  // Both separators mixed, several secrets, a kept run between and after them.
  EXPECT_EQ(form("secret=a;b=1&password=2;pin=3&c;d=4"),
            "secret=[REDACTED];b=1&password=[REDACTED];pin=[REDACTED]&c;d=4");
}

TEST(redact_json, ReplacesValuesOfEveryKind) {
  EXPECT_EQ(json(R"({"password":"x"})"), R"({"password":"[REDACTED]"})");
  EXPECT_EQ(json(R"({"password":12.5e3})"), R"({"password":"[REDACTED]"})");
  EXPECT_EQ(json(R"({"password":true,"a":1})"), R"({"password":"[REDACTED]","a":1})");
  EXPECT_EQ(json(R"({"secret":[1,{"x":"]"}],"a":1})"), R"({"secret":"[REDACTED]","a":1})");
  EXPECT_EQ(json(R"({ "secret" :	{"b":"}"} })"), R"({ "secret" :	"[REDACTED]" })");
}

TEST(redact_json, LeavesStringsThatAreNotKeysAlone) {
  EXPECT_EQ(json(R"(["password","x"])"), R"(["password","x"])");
  EXPECT_EQ(json(R"({"a":"password:x"})"), R"({"a":"password:x"})");
  EXPECT_EQ(json(R"({"a":"\"password\":1"})"), R"({"a":"\"password\":1"})");
}

TEST(redact_json, CutInputLosesTheWholeSecretTail) {
  EXPECT_EQ(json(R"({"password":"abc)"), R"({"password":"[REDACTED]")");
  EXPECT_EQ(json(R"({"password":)"), R"({"password":"[REDACTED]")");
  EXPECT_EQ(json(R"({"password" )"), R"({"password" )");
  EXPECT_EQ(json(R"({"secret":{"a":"b)"), R"({"secret":"[REDACTED]")");
  EXPECT_EQ(json(R"({"passw)"), R"({"passw)");
}

TEST(redact_json, InvalidJsonNeverLetsTheSecretThrough) {
  EXPECT_EQ(json(R"({"password": hunter2 })"), R"({"password": "[REDACTED]"})");
  EXPECT_EQ(json(R"({"password":"a\"b\\","x":1})"), R"({"password":"[REDACTED]","x":1})");
}

// Generates a random JSON value; secret members get values containing "SECRET".
void gen(std::mt19937& rng, std::string& out, int depth) {
  static const char* keys[] = {"a", "sid", "password", "AuthToken", "x y", "pin", "n\\u0041me"};
  switch (depth > 3 ? rng() % 4 : rng() % 6) {
    case 0:
      out += std::to_string(static_cast<int>(rng() % 2000) - 1000);
      break;
    case 1:
      out += "\"s\\\"t:r,}]\"";
      break;
    case 2:
      out += (rng() % 2) ? "true" : "null";
      break;
    case 3:
      out += "-1.5e+3";
      break;
    case 4: {
      out += '[';
      for (unsigned i = 0, n = rng() % 4; i < n; ++i) {
        if (i) out += ',';
        gen(rng, out, depth + 1);
      }
      out += ']';
      break;
    }
    default: {
      out += "{ ";
      for (unsigned i = 0, n = rng() % 4; i < n; ++i) {
        if (i) out += " ,";
        const std::string k = keys[rng() % 7];
        out += "\"" + k + "\" : ";
        if (secrets.matches(k)) {
          out += (rng() % 2) ? "\"SECRET\"" : "{\"v\":[\"SECRET\",{\"password\":1}]}";
        } else {
          gen(rng, out, depth + 1);
        }
      }
      out += '}';
    }
  }
}

TEST(redact_json, GeneratedDocumentsStayValidAndLoseEverySecret) {
  std::mt19937 rng(1234);
  simdjson::dom::parser parser;
  for (int i = 0; i < 3000; ++i) {
    std::string doc;
    gen(rng, doc, 0);
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(doc).get(e), simdjson::SUCCESS) << doc;
    const std::string out = json(doc);
    ASSERT_EQ(parser.parse(out).get(e), simdjson::SUCCESS) << doc << "\n" << out;
    EXPECT_EQ(out.find("SECRET"), std::string::npos) << out;
    // Cut anywhere, the secret still never shows.
    const std::size_t cut = rng() % (doc.size() + 1);
    EXPECT_EQ(json(doc.substr(0, cut)).find("SECRET"), std::string::npos) << doc.substr(0, cut);
    if (doc.find("SECRET") == std::string::npos) {
      EXPECT_EQ(out, doc);  // nothing to redact: untouched
    }
  }
}

TEST(redact_xml, ReplacesElementContent) {
  EXPECT_EQ(xml("<A><Password>x</Password><B>y</B></A>"),
            "<A><Password>[REDACTED]</Password><B>y</B></A>");
  EXPECT_EQ(xml("<a:AuthToken xmlns:a='u'>x</a:AuthToken>"),
            "<a:AuthToken xmlns:a='u'>[REDACTED]</a:AuthToken>");
  EXPECT_EQ(xml("<secret><v>1</v><v>2</v></secret>"), "<secret>[REDACTED]</secret>");
  EXPECT_EQ(xml("<Password/><B>y</B>"), "<Password/><B>y</B>");
  EXPECT_EQ(xml("<!-- <Password>x</Password> --><?xml?>"),
            "<!-- <Password>[REDACTED]</Password> --><?xml?>");
}

TEST(redact_xml, CutInputLosesTheSecretTail) {
  EXPECT_EQ(xml("<R><Password>abc"), "<R><Password>[REDACTED]");
  EXPECT_EQ(xml("<R><Password"), "<R><Password");
  EXPECT_EQ(xml("<"), "<");
  EXPECT_EQ(xml("<R><Password>x</Passwo"), "<R><Password>[REDACTED]");
}

}  // namespace
}  // namespace sidecar::store
