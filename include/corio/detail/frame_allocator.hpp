// Per-thread recycling of coroutine frames.
//
// Every corio coroutine type allocates its frame here, so that in steady
// state creating a task pops a free list instead of calling malloc. Frames
// are grouped in 16-byte size classes up to 1 KiB; larger ones go to
// operator new. A class asks malloc for 8 bytes less than a multiple of 16
// (120, 136, ...): glibc adds an 8-byte header and rounds the chunk to 16,
// so a 120-byte frame takes a 128-byte chunk, where asking for 128 would
// take 144 (a million sleeping tasks: 16 MB). A free list keeps at most `max_cached` frames so that a burst
// (a million tasks) does not pin its memory forever. Under AddressSanitizer
// the cache is bypassed so that use-after-free of a frame is still caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define CORIO_DETAIL_NO_FRAME_CACHE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO_DETAIL_NO_FRAME_CACHE 1
#endif
#endif

namespace corio::detail {

struct frame_cache {
    static constexpr std::size_t granularity = 16;
    static constexpr std::size_t max_size = 1024;
    static constexpr std::size_t classes = max_size / granularity + 1;
    static constexpr std::uint32_t max_cached = 1u << 14;
    static constexpr std::size_t header = 8;  // glibc's chunk header
    // Class k holds frames of up to class_size(k) = 16 (k + 1) - 8 bytes
    // (k = 0 takes up to 16: malloc's smallest chunk holds 24 anyway).
    static constexpr std::size_t class_of(std::size_t n) noexcept {
        return n <= granularity ? 0 : (n + header - 1) / granularity;
    }
    static constexpr std::size_t class_size(std::size_t k) noexcept {
        return k == 0 ? granularity : (k + 1) * granularity - header;
    }
    void* heads[classes] = {};
    std::uint32_t counts[classes] = {};
};

// Trivial so that the hot path reads it without a TLS init guard; the owner
// that frees the lists at thread exit lives in frame_allocator.cpp.
constinit inline thread_local frame_cache* tls_frame_cache = nullptr;

frame_cache* make_frame_cache();

inline void* allocate_frame(std::size_t n) {
#ifndef CORIO_DETAIL_NO_FRAME_CACHE
    if (n <= frame_cache::max_size) {
        frame_cache* c = tls_frame_cache;
        if (c == nullptr) c = make_frame_cache();
        const std::size_t k = frame_cache::class_of(n);
        if (void* p = c->heads[k]) {
            c->heads[k] = *static_cast<void**>(p);
            --c->counts[k];
            return p;
        }
        return ::operator new(frame_cache::class_size(k));
    }
#endif
    return ::operator new(n);
}

inline void deallocate_frame(void* p, [[maybe_unused]] std::size_t n) noexcept {
#ifndef CORIO_DETAIL_NO_FRAME_CACHE
    if (n <= frame_cache::max_size) {
        frame_cache* c = tls_frame_cache;
        const std::size_t k = frame_cache::class_of(n);
        if (c != nullptr && c->counts[k] < frame_cache::max_cached) {
            *static_cast<void**>(p) = c->heads[k];
            c->heads[k] = p;
            ++c->counts[k];
            return;
        }
        ::operator delete(p);
        return;
    }
#endif
    ::operator delete(p);
}

/// Mixed into every promise type so that frames come from the cache.
struct frame_allocated {
    static void* operator new(std::size_t n) { return allocate_frame(n); }
    static void operator delete(void* p, std::size_t n) noexcept { deallocate_frame(p, n); }
};

}  // namespace corio::detail
