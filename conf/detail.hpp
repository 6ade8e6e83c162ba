// Internal to conf/: the helpers that the loader (load.cpp) and the data directory's files
// (data_dir.cpp) share. Not for other modules.
#pragma once

#include <toml++/toml.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "conf/config.hpp"

namespace sidecar::conf::detail {

/// Throws config_error with the line "<source>: <where>: <problem>" (no "<where>: " when it is
/// empty), control characters replaced so that it stays one line.
[[noreturn]] void fail(std::string_view source, std::string_view where, std::string_view problem);

/// strerror(err).
[[nodiscard]] std::string errno_text(int err);

/// The whole of a small file, or nullopt with the reason in `why` ("cannot read it: No such
/// file or directory"). Bounded: a file larger than `limit` is refused, not read.
[[nodiscard]] std::optional<std::string> read_small_file(const std::filesystem::path& path,
                                                         std::size_t limit, std::string& why);

/// Parses TOML; a syntax error fails with "<source>:<line>:<column>: <description>".
[[nodiscard]] toml::table parse_toml(std::string_view text, std::string_view source);

/// "a string", "an integer", ... for the type errors.
[[nodiscard]] std::string_view type_name(toml::node_type t);

/// Whether `s` holds a control character (below 0x20, or 0x7f).
[[nodiscard]] bool has_control(std::string_view s);

/// Creates the data directory (its parents too) readable by its owner only (0700). An
/// existing directory is kept as it is, with a warning when others may read it. Throws
/// config_error when it cannot be created or is not a directory.
void ensure_data_dir(const std::filesystem::path& dir);

/// What ensure_data_dir() checks, without creating or changing anything: an existing `dir`
/// must be a directory this process can enter and write; a missing one needs an existing
/// parent directory (or one that can be created). Throws config_error.
void check_data_dir(const std::filesystem::path& dir);

/// The local account kept in `file`, read and validated without writing anything; when the
/// file does not exist yet, a stand-in for the one startup would generate. Throws
/// config_error.
[[nodiscard]] account read_local_account(const std::filesystem::path& file);

/// The local account kept in `file` (the embedded default's): read back and validated, or
/// generated (SID and 128-bit token from the CSPRNG) and written there atomically, mode 0600,
/// on first start. Throws config_error.
[[nodiscard]] account local_account(const std::filesystem::path& file);

}  // namespace sidecar::conf::detail
