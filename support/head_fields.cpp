// A message head's fields in one buffer: see head_fields.hpp. Each rule mirrors the one of
// Beast's basic_fields that it replaces (boost/beast/http/impl/fields.hpp in Boost 1.81), and
// tests/support/head_fields_test.cpp checks them against it.
#include "support/head_fields.hpp"

#include <algorithm>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/container/small_vector.hpp>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "support/ascii.hpp"
#include "support/head_syntax.hpp"

namespace sidecar {

namespace {

// The tokens of a comma-separated list but those `drop` rejects, joined by ", " (Beast's
// filter_token_list).
template <class Drop>
std::string filter_tokens(std::string_view list, Drop drop) {
  std::string out;
  for (const auto token : http::token_list{list}) {
    if (drop(std::string_view(token))) continue;
    if (!out.empty()) out += ", ";
    out.append(token.data(), token.size());
  }
  return out;
}

bool has_token(std::string_view list, std::string_view token) {
  return http::token_list{list}.exists(token);
}

// The fields Beast's parser acts on (basic_parser::do_field): all it needs of a head to frame
// the body and to tell keep-alive and upgrade. In HTTP/1.1 but for a Connection of only
// "keep-alive": HTTP/1.1's default, which changes none of Beast's answers (its keep-alive flag
// counts in HTTP/1.0 alone), and the Connection of most upstreams' responses.
bool beast_reads(http::field name, std::string_view value, bool http11) {
  switch (name) {
    case http::field::connection:
      return !http11 || !ascii::iequals(value, "keep-alive");
    case http::field::content_length:
    case http::field::transfer_encoding:
    case http::field::proxy_connection:
    case http::field::upgrade:
      return true;
    default:
      return false;
  }
}

// A request line that ends in " HTTP/1.1", a status line that starts with "HTTP/1.1 ".
bool says_http11(std::string_view first_line, bool request) {
  return request ? first_line.ends_with(" HTTP/1.1") : first_line.starts_with("HTTP/1.1 ");
}

// One field line of a plain head, starting at `at` in a head that ends in CRLF CRLF (every scan
// stops at a CR at the latest): where its name ends, its value (trimmed, a view of `held`),
// where the next line starts; nullopt when the line is not `token ":" OWS value OWS CRLF` with
// no control byte but HTAB, or the next line folds it.
struct plain_line {
  std::size_t name_end = 0;
  std::string_view value;
  std::size_t next = 0;
};

std::optional<plain_line> read_plain_line(std::string_view held, std::size_t at) {
  using head_syntax::next_control_byte;
  const std::size_t name_end = head_syntax::token_end(held, at);
  if (name_end == at || held[name_end] != ':') return std::nullopt;
  std::size_t cr = next_control_byte(held, name_end + 1);
  while (held[cr] == '\t') cr = next_control_byte(held, cr + 1);
  if (held[cr] != '\r' || held[cr + 1] != '\n' || held[cr + 2] == ' ' || held[cr + 2] == '\t') {
    return std::nullopt;
  }
  return plain_line{name_end, ascii::trim(held.substr(name_end + 1, cr - name_end - 1)), cr + 2};
}

}  // namespace

std::optional<head_fields::span> head_fields::own(std::string_view s) const {
  if (s.data() < text_.data() || s.data() >= text_.data() + text_.size()) return std::nullopt;
  return span{static_cast<std::uint32_t>(s.data() - text_.data()),
              static_cast<std::uint32_t>(s.size())};
}

// A view of this head's own bytes (the held head being parsed, or h.target(h.target())) is
// already there.
head_fields::span head_fields::store(std::string_view s) {
  if (const auto mine = own(s)) return *mine;
  if (text_.size() + s.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("message head too large");
  }
  const span out{static_cast<std::uint32_t>(text_.size()), static_cast<std::uint32_t>(s.size())};
  text_.append(s);
  return out;
}

// The copy is parsed in place, so the buffer must not move until the head is parsed: room for
// the copy and as much again, since the only bytes stored meanwhile are those of a value Beast
// hands over from a buffer of its own (a value folded over lines, obs-fold, joined), and the
// joined values of a head are never longer than the head (found by the response fuzzer).
std::string_view head_fields::hold(std::string_view bytes) {
  text_.reserve(text_.size() + 2 * bytes.size());
  const span s = store(bytes);
  return view(s);
}

// One pass over the head: each line's end is its first control byte (sixteen bytes at a time),
// which must be a CR with its LF (a tab in a value is passed over); a name is token bytes up to
// the colon. Beast's rules (basic_parser_base::parse_field) for every head this accepts; any
// other head is left to Beast, which reads it with the same rules and the forms this does not
// take (a folded value, a byte Beast rejects).
std::optional<std::string_view> head_fields::split_plain(std::string_view held, bool request) {
  using head_syntax::next_control_byte;
  if (!own(held) || held.size() < 4 || !held.ends_with("\r\n\r\n")) return std::nullopt;
  const std::size_t first_end = next_control_byte(held, 0);
  if (first_end == 0 || !held.substr(first_end).starts_with("\r\n")) return std::nullopt;
  const bool http11 = says_http11(held.substr(0, first_end), request);
  const std::size_t fields_before = entries_.size();
  const auto give_up = [&] {
    entries_.resize(fields_before);
    return std::nullopt;
  };
  const auto held_at = static_cast<std::uint32_t>(held.data() - text_.data());
  boost::container::small_vector<std::string_view, 4> beast_lines;
  std::size_t at = first_end + 2;
  while (held[at] != '\r') {
    const auto line = read_plain_line(held, at);
    if (!line) return give_up();
    const http::field name = head_syntax::field_of(held.substr(at, line->name_end - at));
    const auto value_at = static_cast<std::size_t>(line->value.data() - held.data());
    entries_.push_back({name, held_at + static_cast<std::uint32_t>(at),
                        static_cast<std::uint32_t>(line->name_end - at),
                        held_at + static_cast<std::uint32_t>(value_at),
                        static_cast<std::uint32_t>(line->value.size())});
    if (beast_reads(name, line->value, http11)) {
      beast_lines.push_back(held.substr(at, line->next - at));
    }
    at = line->next;
  }
  if (at + 2 != held.size()) return give_up();  // a CR that is not the blank line's

  // The copy for Beast goes after the held head, in the room hold() kept: no view moves.
  std::size_t size = first_end + 4;
  for (const std::string_view line : beast_lines) size += line.size();
  if (text_.capacity() - text_.size() < size) return give_up();
  const std::size_t copy_at = text_.size();
  text_.append(held.substr(0, first_end + 2));
  for (const std::string_view line : beast_lines) text_.append(line);
  text_.append("\r\n", 2);
  return std::string_view(text_.data() + copy_at, size);
}

std::size_t head_fields::lines_size() const {
  std::size_t size = 0;
  for (const entry& e : entries_) size += e.name_size + e.value_size + 4;
  return size;
}

// A field read from the head and left as it was is the bytes "name: value" CRLF of the held
// head (when its sender wrote one space after the colon and none after the value), and the
// next such field follows it: a head from a usual client or server goes out in one or two
// copies rather than four per field.
char* head_fields::write_lines(char* out) const {
  const char* text = text_.data();
  const auto put = [&](const char* from, std::size_t n) {
    std::memcpy(out, from, n);
    out += n;
  };
  std::size_t run_at = 0;
  std::size_t run_end = 0;
  for (const entry& e : entries_) {
    const std::size_t colon = e.name_at + e.name_size;
    const std::size_t line_end = std::size_t{e.value_at} + e.value_size + 2;
    const bool as_read = e.value_at == colon + 2 && line_end <= text_.size() &&
                         text[colon] == ':' && text[colon + 1] == ' ' &&
                         text[line_end - 2] == '\r' && text[line_end - 1] == '\n';
    if (as_read && e.name_at == run_end && run_end != run_at) {
      run_end = line_end;  // the run goes on
      continue;
    }
    put(text + run_at, run_end - run_at);
    run_at = run_end = 0;
    if (as_read) {
      run_at = e.name_at;
      run_end = line_end;
      continue;
    }
    put(text + e.name_at, e.name_size);
    put(": ", 2);
    put(text + e.value_at, e.value_size);
    put("\r\n", 2);
  }
  put(text + run_at, run_end - run_at);
  return out;
}

head_fields::const_iterator head_fields::find(std::string_view name) const {
  const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const entry& e) {
    return ascii::iequals(view({e.name_at, e.name_size}), name);
  });
  return {this, static_cast<std::size_t>(it - entries_.begin())};
}

std::size_t head_fields::count(http::field name) const {
  return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(),
                                                [&](const entry& e) { return e.name == name; }));
}

std::size_t head_fields::count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(), [&](const entry& e) {
        return ascii::iequals(view({e.name_at, e.name_size}), name);
      }));
}

std::string_view head_fields::operator[](http::field name) const {
  const auto it = find(name);
  return it == end() ? std::string_view() : it->value();
}

std::string_view head_fields::operator[](std::string_view name) const {
  const auto it = find(name);
  return it == end() ? std::string_view() : it->value();
}

void head_fields::insert(http::field name, std::string_view value) {
  const beast::string_view s = http::to_string(name);
  insert(name, std::string_view(s.data(), s.size()), value);
}

void head_fields::insert(std::string_view name, std::string_view value) {
  insert(head_syntax::field_of(name), name, value);
}

void head_fields::insert(http::field name, std::string_view name_string, std::string_view value) {
  value = ascii::trim(value);
  if (entries_.empty()) entries_.reserve(16);  // a head of a dozen fields: one allocation
  const auto own_name = own(name_string);
  const auto own_value = own(value);
  if (own_name && own_value) {  // a field of the held head, as the parser hands it over
    entries_.push_back({name, own_name->at, own_name->size, own_value->at, own_value->size});
    return;
  }
  // Room first for what is not already here: a view of text_ must not move while it is read.
  text_.reserve(text_.size() + (own_name ? 0 : name_string.size()) +
                (own_value ? 0 : value.size()));
  const span n = own_name ? *own_name : store(name_string);
  const span v = own_value ? *own_value : store(value);
  entries_.push_back({name, n.at, n.size, v.at, v.size});
}

void head_fields::set(http::field name, std::string_view value) {
  erase(name);
  insert(name, value);
}

void head_fields::set(std::string_view name, std::string_view value) {
  const http::field known = head_syntax::field_of(name);
  erase(known, name);
  insert(known, name, value);
}

head_fields::const_iterator head_fields::erase(const_iterator at) {
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(at.at_));
  return {this, at.at_};
}

template <class Match>
std::size_t head_fields::erase_if(Match match) {
  return static_cast<std::size_t>(std::erase_if(entries_, match));
}

std::size_t head_fields::erase(http::field name) {
  return erase_if([&](const entry& e) { return e.name == name; });
}

std::size_t head_fields::erase(std::string_view name) {
  return erase(head_syntax::field_of(name), name);
}

// A field Beast knows is found by its enum; one it does not know, among those it does not
// know, by its name.
std::size_t head_fields::erase(http::field known, std::string_view name) {
  if (known != http::field::unknown) return erase(known);
  return erase_if([&](const entry& e) {
    return e.name == http::field::unknown && ascii::iequals(view({e.name_at, e.name_size}), name);
  });
}

void head_fields::clear() {
  text_.clear();
  entries_.clear();
  method_ = {};
  target_or_reason_ = {};
}

void head_fields::recycle(head_fields&& spare) {
  text_.swap(spare.text_);
  entries_.swap(spare.entries_);
  clear();
  // A large head's buffers are not kept: an idle connection holds at most these.
  if (text_.capacity() > kept_bytes) std::string().swap(text_);
  if (entries_.capacity() > kept_fields) std::vector<entry>().swap(entries_);
}

// The last Transfer-Encoding coding is chunked (of the first such field, as Beast reads it).
bool head_fields::get_chunked_impl() const {
  const http::token_list codings{(*this)[http::field::transfer_encoding]};
  bool last_chunked = false;
  for (const auto coding : codings) last_chunked = beast::iequals(coding, "chunked");
  return last_chunked;
}

bool head_fields::get_keep_alive_impl(unsigned version) const {
  const auto it = find(http::field::connection);
  if (version < 11) return it != end() && has_token(it->value(), "keep-alive");
  return it == end() || !has_token(it->value(), "close");
}

void head_fields::set_chunked_impl(bool value) {
  const auto it = find(http::field::transfer_encoding);
  if (value) {
    if (it == end()) {
      set(http::field::transfer_encoding, "chunked");
    } else if (!get_chunked_impl()) {
      set(http::field::transfer_encoding, std::string(it->value()) + ", chunked");
    }
    return;
  }
  if (it == end()) return;
  // Only a last chunked goes.
  std::string kept;
  std::string_view last;
  for (const auto coding : http::token_list{it->value()}) {
    if (!last.empty()) {
      if (!kept.empty()) kept += ", ";
      kept += last;
    }
    last = std::string_view(coding.data(), coding.size());
  }
  if (!last.empty() && !ascii::iequals(last, "chunked")) {
    if (!kept.empty()) kept += ", ";
    kept += last;
  }
  if (kept.empty()) {
    erase(http::field::transfer_encoding);
  } else {
    set(http::field::transfer_encoding, kept);
  }
}

void head_fields::set_content_length_impl(const boost::optional<std::uint64_t>& value) {
  if (!value) {
    erase(http::field::content_length);
  } else {
    set(http::field::content_length, std::to_string(*value));
  }
}

// Beast's keep_alive_impl: HTTP/1.0 keeps a connection with "keep-alive", HTTP/1.1 closes one
// with "close"; the other tokens of Connection stay.
void head_fields::set_keep_alive_impl(unsigned version, bool keep_alive) {
  const std::string_view value = (*this)[http::field::connection];
  std::string out;
  if (version < 11) {
    if (keep_alive) {
      out = filter_tokens(value, [](std::string_view t) { return ascii::iequals(t, "close"); });
      if (out.empty()) {
        out = "keep-alive";
      } else if (!has_token(value, "keep-alive")) {
        out += ", keep-alive";
      }
    } else {
      out = filter_tokens(value, [](std::string_view t) {
        return ascii::iequals(t, "close") || ascii::iequals(t, "keep-alive");
      });
    }
  } else if (keep_alive) {
    out = filter_tokens(value, [](std::string_view t) {
      return ascii::iequals(t, "close") || ascii::iequals(t, "keep-alive");
    });
  } else {
    out = filter_tokens(value, [](std::string_view t) { return ascii::iequals(t, "keep-alive"); });
    if (out.empty()) {
      out = "close";
    } else if (!has_token(value, "close")) {
      out += ", close";
    }
  }
  if (out.empty()) {
    erase(http::field::connection);
  } else {
    set(http::field::connection, out);
  }
}

}  // namespace sidecar
