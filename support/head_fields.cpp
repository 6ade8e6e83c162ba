// A message head's fields in one buffer: see head_fields.hpp. Each rule mirrors the one of
// Beast's basic_fields that it replaces (boost/beast/http/impl/fields.hpp in Boost 1.81), and
// tests/support/head_fields_test.cpp checks them against it.
#include "support/head_fields.hpp"

#include <algorithm>
#include <boost/beast/http/rfc7230.hpp>
#include <limits>
#include <stdexcept>

#include "support/ascii.hpp"

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
  insert(http::string_to_field(name), name, value);
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
  const http::field known = http::string_to_field(name);
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
  return erase(http::string_to_field(name), name);
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
