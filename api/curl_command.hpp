// GET .../Traces/{TraceSid}.curl (docs/api.md): a bash command that sends a recorded request
// again to its request.url, byte for byte, with nothing recorded able to make the shell do
// anything else.
//
// Every recorded value is single-quoted (a quote inside written '\''), so bash expands
// nothing in it. The body goes through stdin: `printf '...' | curl ... --data-binary @-`, the
// printf format holding printable ASCII as is and every other byte (and ', \ and %) as a
// three-digit octal escape, so NUL and any binary byte survive and printf interprets nothing
// else. Host, Content-Length and hop-by-hop headers are left to curl; the headers curl would
// add on its own (Accept, User-Agent, Content-Type, Expect) are switched off unless recorded.
#pragma once

#include <string>
#include <string_view>

#include "store/trace_record.hpp"

namespace sidecar::api {

/// The command, ending with a newline; a cut body is sent as kept, with a comment line above
/// the command saying how many bytes of how many were kept.
[[nodiscard]] std::string curl_command(const store::trace_record& r);

/// `s` in single quotes for bash: 'it'\''s'.
void append_shell_quoted(std::string& out, std::string_view s);

}  // namespace sidecar::api
