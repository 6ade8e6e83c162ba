// The fields of a message head as the proxy holds them (docs/proxy.md, "Heads"): a model of
// Beast's Fields concept, so `http::header<isRequest, head_fields>` and Beast's parser work with
// it, that keeps a head in one buffer with an entry of offsets per field.
//
// Beast's basic_fields allocates every field and links it into a case-insensitive tree as well
// as a list; the proxy reads a head's few fields a few times and writes it once in wire order,
// so here a lookup is a scan of a dozen entries comparing Beast's field enum, and a head costs
// two buffers that a connection keeps from one exchange to the next (recycle()).
//
//   sidecar::request_head h;
//   h.insert(http::field::host, "example.com");
//   h.set("X-Forwarded-For", "10.0.0.1");
//   for (const auto& f : h) use(f.name_string(), f.value());
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/net.hpp"

namespace sidecar {

class head_fields {
  struct entry {
    http::field name;
    std::uint32_t name_at;
    std::uint32_t name_size;
    std::uint32_t value_at;
    std::uint32_t value_size;
  };

 public:
  /// One field, as basic_fields' value_type presents it: views into the head's buffer, valid
  /// until the head changes.
  class value_type {
   public:
    value_type(http::field name, std::string_view name_string, std::string_view value)
        : name_(name), name_string_(name_string), value_(value) {}
    [[nodiscard]] http::field name() const { return name_; }
    [[nodiscard]] std::string_view name_string() const { return name_string_; }
    [[nodiscard]] std::string_view value() const { return value_; }

   private:
    http::field name_;
    std::string_view name_string_;
    std::string_view value_;
  };

  /// Walks the fields in wire order. An index, so it stays valid across insertions; erase()
  /// returns the iterator to go on with.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = head_fields::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = value_type;

    // operator-> hands out a field held by value (the field is made on the fly).
    struct arrow {
      value_type field;
      const value_type* operator->() const { return &field; }
    };

    const_iterator() = default;
    const_iterator(const head_fields* fields, std::size_t at) : fields_(fields), at_(at) {}
    value_type operator*() const { return fields_->field_at(at_); }
    arrow operator->() const { return arrow{**this}; }
    const_iterator& operator++() {
      ++at_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++at_;
      return old;
    }
    bool operator==(const const_iterator& o) const { return at_ == o.at_; }

   private:
    friend class head_fields;
    const head_fields* fields_ = nullptr;
    std::size_t at_ = 0;
  };
  using iterator = const_iterator;

  head_fields() = default;

  [[nodiscard]] const_iterator begin() const { return {this, 0}; }
  [[nodiscard]] const_iterator end() const { return {this, entries_.size()}; }
  [[nodiscard]] const_iterator cbegin() const { return begin(); }
  [[nodiscard]] const_iterator cend() const { return end(); }
  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] bool empty() const { return entries_.empty(); }

  /// The first field of that name (wire order), or end().
  [[nodiscard]] const_iterator find(http::field name) const {
    std::size_t i = 0;
    while (i < entries_.size() && entries_[i].name != name) ++i;
    return {this, i};
  }
  [[nodiscard]] const_iterator find(std::string_view name) const;
  [[nodiscard]] std::size_t count(http::field name) const;
  [[nodiscard]] std::size_t count(std::string_view name) const;
  /// The first such field's value, or empty.
  [[nodiscard]] std::string_view operator[](http::field name) const;
  [[nodiscard]] std::string_view operator[](std::string_view name) const;

  /// Appends a field (its value trimmed of spaces and tabs at both ends, as Beast does).
  void insert(http::field name, std::string_view value);
  void insert(std::string_view name, std::string_view value);
  void insert(http::field name, std::string_view name_string, std::string_view value);
  /// Removes every field of that name, then appends one.
  void set(http::field name, std::string_view value);
  void set(std::string_view name, std::string_view value);
  /// Removes one field; returns the iterator to the one after it.
  const_iterator erase(const_iterator at);
  /// Removes every field of that name; returns how many.
  std::size_t erase(http::field name);
  std::size_t erase(std::string_view name);
  /// Removes every field for which drop(name, name_string) holds; returns how many.
  template <class Drop>
  std::size_t erase_fields(Drop drop) {
    return static_cast<std::size_t>(std::erase_if(entries_, [&](const entry& e) {
      return drop(e.name, view({e.name_at, e.name_size}));
    }));
  }

  /// Empties the head, method, target and reason included, keeping the buffers' capacity.
  void clear();
  /// Empties the head and takes `spare`'s buffers (capacity included) for its own: how a
  /// connection reuses the storage of its last exchange's head. Buffers larger than a usual
  /// head's (kept_bytes, kept_fields) are freed instead, so that an idle connection never
  /// holds what one large head (up to max_header_bytes) grew.
  void recycle(head_fields&& spare);
  static constexpr std::size_t kept_bytes = 4096;
  static constexpr std::size_t kept_fields = 64;
  /// The bytes its buffer has room for: what a connection holds for this head while idle.
  [[nodiscard]] std::size_t held_bytes() const { return text_.capacity(); }

  /// Copies `bytes` (a whole head, as read) to the end of the buffer and returns the copy: a
  /// parser given that copy makes every field a view of the buffer, stored without a second
  /// copy (store()). The buffer keeps room for what the parse may add (a folded value joined)
  /// so that the copy does not move while it is parsed; nothing else may be added meanwhile.
  [[nodiscard]] std::string_view hold(std::string_view bytes);

  /// The bytes of the fields as HTTP writes them, "name: value" CRLF each: what write_lines
  /// writes.
  [[nodiscard]] std::size_t lines_size() const;
  /// Writes the fields there (lines_size() bytes), in wire order, and returns the end. A run of
  /// fields that are still in the held head as they were read, each line exactly in that form,
  /// is copied at once.
  char* write_lines(char* out) const;

  /// Adds the fields of `held` (a whole request or response head that hold() returned) without
  /// Beast's parser, when the head is plain: a first line, then only field lines
  /// `token ":" OWS value OWS CRLF` with no control byte but HTAB in a value and no line folded
  /// (obs-fold), then the blank line. Each field is added as Beast's parser adds it (the value
  /// trimmed, the name's field enum). Returns a copy, in the buffer, of the lines that Beast
  /// must still read to frame the body and tell keep-alive and upgrade: the first line, the
  /// fields its parser acts on, and the blank line. A head that is not plain adds nothing and
  /// returns nullopt: Beast parses it whole, and rejects it if it must (docs/proxy.md, "Heads").
  [[nodiscard]] std::optional<std::string_view> split_plain(std::string_view held, bool request);

 protected:
  // The Fields concept's hooks, which http::header calls (Beast's names).
  [[nodiscard]] beast::string_view get_method_impl() const { return view(method_); }
  [[nodiscard]] beast::string_view get_target_impl() const { return view(target_or_reason_); }
  [[nodiscard]] beast::string_view get_reason_impl() const { return view(target_or_reason_); }
  [[nodiscard]] bool get_chunked_impl() const;
  [[nodiscard]] bool get_keep_alive_impl(unsigned version) const;
  [[nodiscard]] bool has_content_length_impl() const {
    return count(http::field::content_length) != 0;
  }
  void set_method_impl(beast::string_view s) { method_ = store(s); }
  void set_target_impl(beast::string_view s) { target_or_reason_ = store(s); }
  void set_reason_impl(beast::string_view s) { target_or_reason_ = store(s); }
  void set_chunked_impl(bool value);
  void set_content_length_impl(const boost::optional<std::uint64_t>& value);
  void set_keep_alive_impl(unsigned version, bool keep_alive);

 private:
  struct span {
    std::uint32_t at = 0;
    std::uint32_t size = 0;
  };
  [[nodiscard]] value_type field_at(std::size_t i) const {
    const entry& e = entries_[i];
    return {
        e.name, {text_.data() + e.name_at, e.name_size}, {text_.data() + e.value_at, e.value_size}};
  }
  [[nodiscard]] std::string_view view(span s) const { return {text_.data() + s.at, s.size}; }
  [[nodiscard]] std::optional<span> own(std::string_view s) const;  // s's place if in text_
  // s's place in text_: where it already is (a view of the held head), else appended.
  span store(std::string_view s);
  template <class Match>
  std::size_t erase_if(Match match);
  std::size_t erase(http::field known, std::string_view name);  // known: field_of(name)

  // Names, values, method and target (or reason), appended; a changed value is appended anew.
  std::string text_;
  std::vector<entry> entries_;
  span method_;            // only for a method Beast has no verb for
  span target_or_reason_;  // a request's target, a response's reason
};

/// A request head and a response head of the proxy.
using request_head = http::header<true, head_fields>;
using response_head = http::header<false, head_fields>;

}  // namespace sidecar
