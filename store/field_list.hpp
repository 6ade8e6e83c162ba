// A head's fields as the proxy captured them (store/capture.hpp): in wire order, names as
// written, all in one buffer: one block per head, not one per field, which a capture built into
// an earlier one's buffers reuses (docs/proxy.md, "Allocations").
//
//   store::field_list f{{"Content-Type", "text/plain"}};
//   f.emplace_back("X-Id", "7");
//   for (const auto& [name, value] : f) use(name, value);
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

namespace sidecar::store {

class field_list {
 public:
  using value_type = std::pair<std::string_view, std::string_view>;

  /// Walks the fields; each is read from the buffer as a (name, value) pair of views.
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = field_list::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = value_type;

    iterator() = default;
    explicit iterator(const char* at) : at_(at) {}
    value_type operator*() const {
      const std::uint32_t n = length(at_);
      const std::uint32_t v = length(at_ + 4);
      return {{at_ + 8, n}, {at_ + 8 + n, v}};
    }
    iterator& operator++() {
      at_ += 8 + length(at_) + length(at_ + 4);
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator&) const = default;

   private:
    const char* at_ = nullptr;
  };

  field_list() = default;
  field_list(std::initializer_list<value_type> fields) {
    for (const auto& [name, value] : fields) emplace_back(name, value);
  }

  void emplace_back(std::string_view name, std::string_view value) {
    append_length(name.size());
    append_length(value.size());
    bytes_.append(name).append(value);
    ++count_;
  }

  /// The fields of a head (anything whose fields have name_string() and value()), in one
  /// buffer sized once and filled by copies.
  template <class Fields>
  static field_list of(const Fields& fields) {
    field_list out;
    out.assign(fields);
    return out;
  }

  /// The same, into this list's buffer, whose capacity it keeps: a capture built into the
  /// buffers of an earlier one allocates nothing for its heads (store/capture.hpp, reset()).
  template <class Fields>
  void assign(const Fields& fields) {
    std::size_t bytes = 0;
    std::size_t count = 0;
    for (const auto& f : fields) {
      bytes += 8 + f.name_string().size() + f.value().size();
      ++count;
    }
    bytes_.resize(bytes);
    char* at = bytes_.data();
    const auto put = [&](std::string_view s) {
      std::memcpy(at, s.data(), s.size());
      at += s.size();
    };
    for (const auto& f : fields) {
      const std::string_view name = f.name_string();
      const std::string_view value = f.value();
      const std::uint32_t lengths[2] = {static_cast<std::uint32_t>(name.size()),
                                        static_cast<std::uint32_t>(value.size())};
      std::memcpy(at, lengths, 8);
      at += 8;
      put(name);
      put(value);
    }
    count_ = count;
  }

  /// No fields; the buffer keeps its capacity.
  void clear() {
    bytes_.clear();
    count_ = 0;
  }
  bool operator==(const field_list&) const = default;

  [[nodiscard]] iterator begin() const { return iterator(bytes_.data()); }
  [[nodiscard]] iterator end() const { return iterator(bytes_.data() + bytes_.size()); }
  [[nodiscard]] std::size_t size() const { return count_; }
  [[nodiscard]] bool empty() const { return count_ == 0; }
  /// The buffer itself, for the memory accounting of the writer queue (store/capture.cpp).
  [[nodiscard]] const std::string& buffer() const { return bytes_; }

 private:
  // Each field: its name's length and its value's (4 bytes each, host order), then both.
  static std::uint32_t length(const char* at) {
    std::uint32_t n = 0;
    std::memcpy(&n, at, 4);
    return n;
  }
  void append_length(std::size_t n) {
    const auto v = static_cast<std::uint32_t>(n);
    bytes_.append(reinterpret_cast<const char*>(&v), 4);
  }

  std::string bytes_;
  std::size_t count_ = 0;
};

}  // namespace sidecar::store
