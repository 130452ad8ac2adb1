// Private to src/http and src/web: bytes read from a connection and not yet
// parsed, shared by the client's responses and the server's connections.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace corio::http::detail {

// Bytes read from a connection and not yet parsed. Grows without clearing
// what it adds (std::string::resize zero-fills: a 16 KiB memset per read,
// 5% of a small request's CPU); what was parsed is dropped from the front.
class read_area {
public:
    std::string_view held() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
    bool empty() const noexcept { return begin_ == end_; }
    std::size_t size() const noexcept { return end_ - begin_; }
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }
    /// Room for at least `want` more bytes after what is held.
    std::span<std::byte> space(std::size_t want) {
        if (cap_ - end_ < want) {
            const std::size_t held_now = size();
            if (cap_ - held_now >= want && begin_ > 0) {
                std::memmove(data_.get(), data_.get() + begin_, held_now);
            } else {
                const std::size_t cap = std::max(cap_ * 2, held_now + want);
                auto bigger = std::make_unique_for_overwrite<char[]>(cap);
                if (held_now > 0) std::memcpy(bigger.get(), data_.get() + begin_, held_now);
                data_ = std::move(bigger);
                cap_ = cap;
            }
            begin_ = 0;
            end_ = held_now;
        }
        return {reinterpret_cast<std::byte*>(data_.get() + end_), cap_ - end_};
    }
    void commit(std::size_t n) noexcept { end_ += n; }

private:
    std::unique_ptr<char[]> data_;
    std::size_t cap_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

}  // namespace corio::http::detail
