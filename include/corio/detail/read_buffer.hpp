// corio/detail/read_buffer.hpp: the buffered-reader part that stream and
// file share: bytes read from the kernel ahead of the reader, the search
// for a separator in them, and taking them out.
//
// The bytes [begin, end) of one heap block are buffered. Taking bytes only
// moves `begin`; the memory moves only in reserve() (which compacts or
// grows) and clear(), so a view of bytes just taken stays valid until the
// owner next refills the buffer: that is what lets lines() yield views
// without copying. No allocation happens except when reserve() grows.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace corio::detail {

class read_buffer {
public:
    static constexpr std::size_t npos = std::string_view::npos;

    read_buffer() noexcept = default;
    read_buffer(read_buffer&& other) noexcept
        : storage_(std::move(other.storage_)),
          capacity_(std::exchange(other.capacity_, 0)),
          begin_(std::exchange(other.begin_, 0)),
          end_(std::exchange(other.end_, 0)) {}
    read_buffer& operator=(read_buffer&& other) noexcept {
        storage_ = std::move(other.storage_);
        capacity_ = std::exchange(other.capacity_, 0);
        begin_ = std::exchange(other.begin_, 0);
        end_ = std::exchange(other.end_, 0);
        return *this;
    }

    std::size_t size() const noexcept { return end_ - begin_; }
    bool empty() const noexcept { return end_ == begin_; }
    std::size_t capacity() const noexcept { return capacity_; }
    bool allocated() const noexcept { return storage_ != nullptr; }
    const char* data() const noexcept { return storage_.get() + begin_; }
    std::string_view view() const noexcept { return {data(), size()}; }

    /// Drops the first `n` buffered bytes (n <= size()); their memory stays
    /// as it is until the next reserve() or clear().
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }
    /// The first `n` buffered bytes, as a string, consumed.
    std::string take(std::size_t n) {
        std::string out(data(), n);
        consume(n);
        return out;
    }
    /// Copies up to `n` buffered bytes into `into`, consumed; gives how many.
    std::size_t take_into(char* into, std::size_t n) noexcept {
        n = std::min(n, size());
        if (n == 0) return 0;  // memcpy may not take a null block
        std::memcpy(into, data(), n);
        consume(n);
        return n;
    }
    void clear() noexcept { begin_ = end_ = 0; }

    /// Where the next read from the kernel goes, and how much fits.
    char* space() noexcept { return storage_.get() + end_; }
    std::size_t room() const noexcept { return capacity_ - end_; }
    /// `n` bytes were read into space().
    void commit(std::size_t n) noexcept { end_ += n; }

    /// Room for at least one byte more, and for `want` more if that fits by
    /// moving the buffered bytes to the front; when full, the block doubles
    /// (from `first_capacity` for the first).
    void reserve(std::size_t want, std::size_t first_capacity) {
        if (begin_ > 0 && (end_ == capacity_ || capacity_ - end_ < want)) {
            std::memmove(storage_.get(), data(), size());
            end_ -= begin_;
            begin_ = 0;
        }
        if (end_ < capacity_) return;
        const std::size_t capacity = std::max(capacity_ * 2, first_capacity);
        auto bigger = std::make_unique<char[]>(capacity);
        if (end_ > 0) std::memcpy(bigger.get(), storage_.get(), end_);
        storage_ = std::move(bigger);
        capacity_ = capacity;
    }

    /// Where `separator` starts in the buffered bytes, searching from
    /// `from`; npos if it is not there.
    std::size_t find(std::string_view separator, std::size_t from = 0) const noexcept {
        if (separator.size() == 1) {  // a line: memchr, the fastest search there is
            if (from >= size()) return npos;
            const void* at = std::memchr(data() + from, separator[0], size() - from);
            return at == nullptr ? npos : static_cast<std::size_t>(static_cast<const char*>(at) - data());
        }
        return view().find(separator, from);
    }
    /// The length of the first buffered line with its '\n'; 0 if no '\n'
    /// is buffered.
    std::size_t line_length() const noexcept {
        const std::size_t at = find("\n");
        return at == npos ? 0 : at + 1;
    }

    /// The whole block (empty buffer only), for an owner that also writes
    /// through it (file: the read-ahead and the write buffer are never in
    /// use at once).
    char* block() noexcept { return storage_.get(); }

private:
    std::unique_ptr<char[]> storage_;
    std::size_t capacity_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

}  // namespace corio::detail
