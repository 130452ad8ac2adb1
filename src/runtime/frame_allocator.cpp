// The owner of this thread's frame cache (detail/frame_allocator.hpp): made
// on first use, it frees the cached frames when the thread ends.
#include <corio/detail/frame_allocator.hpp>

namespace corio::detail {
namespace {

struct frame_cache_owner {
    frame_cache cache;
    ~frame_cache_owner() {
        tls_frame_cache = nullptr;
        for (std::size_t k = 0; k < frame_cache::classes; ++k) {
            void* p = cache.heads[k];
            while (p != nullptr) {
                void* next = *static_cast<void**>(p);
                ::operator delete(p);
                p = next;
            }
        }
    }
};

}  // namespace

frame_cache* make_frame_cache() {
    thread_local frame_cache_owner owner;
    tls_frame_cache = &owner.cache;
    return tls_frame_cache;
}

}  // namespace corio::detail
