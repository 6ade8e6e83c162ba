// fleet::sql::quote over any bytes: the literal is one literal (it ends exactly at its last
// byte, so nothing after it can be SQL), holds no raw control byte, and reads back as the input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fleet/sql.hpp"
#include "tests/fleet/sql_literal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string quoted = sidecar::fleet::sql::quote(input);
  for (const char c : quoted) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
  }
  std::size_t used = 0;
  const auto back = sidecar::fleet::testing::read_literal(quoted, used);
  if (!back || used != quoted.size() || *back != input) std::abort();
  // Appended after SQL text, it still ends where it should.
  std::string sql = "SELECT 1 WHERE x = ";
  sidecar::fleet::sql::append_quoted(sql, input);
  if (sql.compare(0, 19, "SELECT 1 WHERE x = ") != 0 || sql.substr(19) != quoted) std::abort();
  return 0;
}
