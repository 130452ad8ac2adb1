// corio/context/with.hpp: `with`, Python's `async with`, and the async_context_manager concept.
//
//   co_await corio::with(manager, [](manager_value& v) -> corio::task<> { ... });
//   auto text = co_await corio::with(open_thing(), [](thing& t) { return t.read(); });
//   co_await corio::with(lock_a, lock_b, [](corio::lock&, corio::lock&) -> corio::task<> { ... });
//
// Semantics (docs/reference.md, "with"), as `async with` desugars:
//  1. aenter() is awaited; if it throws, aexit is not called.
//  2. The body gets the value aenter gave, by reference (nothing when void),
//     or no argument at all when it takes none (`async with lock:`); a body
//     that fits neither is a static_assert naming what the managers give.
//     A coroutine body is awaited; a plain one's result comes out as it is.
//  3. aexit(e) is awaited with the body's exception (cancellation included),
//     shielded from the cancellations already in effect when the body ended;
//     a cancellation that starts later still applies.
//  4. true from aexit suppresses the exception of a void body; a body that
//     returns a value always propagates its exception.
//  5. An exception from aexit replaces the body's.
//  6. Several managers enter left to right and exit right to left; if the
//     second's aenter throws, the first's aexit sees that exception.
//  7. An lvalue manager is used by reference; an rvalue one is moved in when
//     `with(...)` is called and lives until its aexit returns. The body is
//     stored by value while it runs (a capturing lambda is safe). Nothing
//     runs until the result is awaited; it may be stored and awaited later,
//     once (a second await is std::logic_error).
// Allocation: none for one manager (the `with` is itself the frame that
// runs the block, inside its awaiter's). For several, per manager, from the
// frame cache: the coroutine frame of its level, and at its exit the frames
// of the unwinder every exit shares (detail/exit_record.hpp) and of its aexit. Cancellation: every await inside is
// the manager's or the body's own; `with` adds none.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

#include <corio/context/async_context_manager.hpp>
#include <corio/context/exits.hpp>
#include <corio/detail/awaitable_traits.hpp>
#include <corio/detail/event_loop.hpp>
#include <corio/detail/exit_shield.hpp>
#include <corio/detail/transfer.hpp>
#include <corio/detail/source_location.hpp>
#include <corio/task.hpp>

namespace corio {

namespace detail {

// The body is called with one reference per manager whose aenter gives a
// value or, when it takes no arguments (`async with lock:` has no `as`), with
// none. `managers_give` and `body_accepts` exist to name the types in the
// diagnostic of a body that fits neither.
template <class... Values>
struct managers_give {};

template <class Body, class Gives>
struct body_accepts;
template <class Body, class... Values>
struct body_accepts<Body, managers_give<Values...>>
    : std::bool_constant<std::is_invocable_v<Body&, Values&...> || std::is_invocable_v<Body&>> {};

// Instantiated by `with` to check its body: the compilers name this
// template's arguments (the body, what the managers give) in the error.
template <class Body, class ManagersGive>
struct with_body_check {
    static constexpr bool ok = body_accepts<Body, ManagersGive>::value;
    static_assert(ok, "corio::with: the body must take one reference per value the managers' aenter give, "
                      "in order (the types in managers_give<...>), or no arguments at all");
};

struct unusable_body {};  // what a body that fits neither "returns": the static_assert speaks first

template <class Body, class... Values>
struct body_call {
    using type = unusable_body;
};
template <class Body, class... Values>
    requires std::is_invocable_v<Body&, Values&...>
struct body_call<Body, Values...> {
    using type = std::invoke_result_t<Body&, Values&...>;
};
template <class Body, class... Values>
    requires(!std::is_invocable_v<Body&, Values&...> && std::is_invocable_v<Body&>)
struct body_call<Body, Values...> {
    using type = std::invoke_result_t<Body&>;
};

template <class Body, class... Values>
using body_call_t = typename body_call<Body, Values...>::type;

template <class Body, class... Values>
decltype(auto) call_body(Body& body, Values&... values) {
    if constexpr (std::is_invocable_v<Body&, Values&...>) return std::invoke(body, values...);
    else return std::invoke(body);
}

template <class R>
struct awaited_or_plain {
    using type = R;
};
template <class R>
    requires awaitable<R>
struct awaited_or_plain<R> {
    using type = await_result_t<R>;
};

template <class Body, class... Values>
using body_result_t = typename awaited_or_plain<body_call_t<Body, Values...>>::type;

template <class T>
struct enter_values {
    using type = std::tuple<T>;
};
template <>
struct enter_values<void> {
    using type = std::tuple<>;
};

// Starts what runs inside manager I-1: the next level, or the body itself
// (whose result is awaited by the caller when awaitable), so that the body
// costs no frame of its own.
template <class R, std::size_t I, std::size_t N, class Items, class... Values>
decltype(auto) start_inner(Items& items, source_location where, Values&... values);

// What a with of `Items` (the managers, then the body) gives (`type`) and
// what its managers give the body (`gives`).
template <std::size_t I, std::size_t N, class Items, class... Values>
struct with_shape;
template <std::size_t N, class Items, class... Values>
struct with_shape<N, N, Items, Values...> {
    using gives = managers_give<Values...>;
    using type = body_result_t<std::tuple_element_t<N, Items>, Values...>;
};
template <std::size_t I, std::size_t N, class Items, class... Values>
    requires(I < N)
struct with_shape<I, N, Items, Values...> {
    using manager = std::remove_reference_t<std::tuple_element_t<I, Items>>;
    using entered = enter_result_t<manager>;
    template <class... Extra>
    static auto pick(std::tuple<Extra...>*) -> with_shape<I + 1, N, Items, Values..., Extra...>;
    using next = decltype(pick(static_cast<typename enter_values<std::remove_reference_t<entered>>::type*>(nullptr)));
    using gives = typename next::gives;
    using type = typename next::type;
};

// Starts what runs inside manager I-1 given what it entered (nothing when
// its aenter gives void).
template <class R, std::size_t I, std::size_t N, class Items, class E, class... Values>
decltype(auto) start_next(Items& items, source_location where, result_slot<E>& entered, Values&... values) {
    if constexpr (std::is_void_v<E>) return start_inner<R, I, N>(items, where, values...);
    else return start_inner<R, I, N>(items, where, values..., entered.get());
}

// Enters manager I of `items`, runs managers I+1.. and the body inside it,
// and exits it through the unwinder every exit shares (a record in this
// frame: no allocation). `ItemsParam` is the tuple by value at level 0 (so
// the coroutine frame owns the managers and the body) and by reference below.
template <class R, std::size_t I, std::size_t N, class ItemsParam, class... Values>
task<R> with_level(ItemsParam items, source_location where, Values&... values) {
    auto& manager = std::get<I>(items);
    using M = std::remove_reference_t<decltype(manager)>;
    using E = enter_result_t<M>;
    result_slot<E> entered;
    if constexpr (std::is_void_v<E>) co_await manager.aenter();
    else entered.set(co_await manager.aenter());
    manager_tracker tracker("with", where);
    std::exception_ptr error;
    [[maybe_unused]] result_slot<R> result;
    try {
        using Inner = decltype(start_next<R, I + 1, N>(items, where, entered, values...));
        if constexpr (!awaitable<Inner>) {
            if constexpr (std::is_void_v<R>) start_next<R, I + 1, N>(items, where, entered, values...);
            else result.set(start_next<R, I + 1, N>(items, where, entered, values...));
        } else if constexpr (std::is_void_v<R>) {
            co_await start_next<R, I + 1, N>(items, where, entered, values...);
        } else {
            result.set(co_await start_next<R, I + 1, N>(items, where, entered, values...));
        }
    } catch (...) {
        error = std::current_exception();
    }
    // Rules 3-5; a body that returns a value always propagates its exception.
    manager_ref_exit<M> exit(manager);
    exit_record* exits = &exit;
    error = co_await unwind_exits(exits, std::move(error), std::is_void_v<R>);
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<R>) co_return result.take();
}

template <class R, std::size_t I, std::size_t N, class Items, class... Values>
decltype(auto) start_inner(Items& items, source_location where, Values&... values) {
    if constexpr (I == N) {
        (void)where;
        return call_body(std::get<N>(items), values...);
    } else {
        return with_level<R, I, N, Items&>(items, where, values...);
    }
}

// The header of a coroutine frame as g++ and clang lay it out (the Itanium
// C++ coroutine ABI): a coroutine_handle made from its address resumes by
// calling `resume` with that address. A with of one manager is such a frame,
// written by hand and kept inside the awaiting coroutine's own frame, so that
// `with` costs no allocation and no coroutine of its own: aenter's, the
// body's and aexit's awaitables are awaited from it as a coroutine would.
// tests/context/with_test.cpp (handmade_frame_*) checks the layout on each compiler.
struct handmade_frame {
    void (*resume)(void*);
    void (*destroy)(void*);
};

// How a handmade frame's resume goes on to `next`. A coroutine returns it
// from await_suspend and the compiler makes the resume a tail call. clang
// lets a plain function promise the same ([[clang::musttail]] on a call of
// next's own resume function, which the frame layout above gives). Elsewhere
// `next` is left in the transfer slot, which the loop drains as soon as this
// returns (every resume goes through resume_with_trampoline), before
// anything else runs: the same order, at the cost of a return to the loop.
#if defined(__clang__) && !defined(CORIO_NO_MUSTTAIL)
#define CORIO_HANDMADE_TAIL_CALL(next)                                            \
    do {                                                                          \
        void* corio_next_ = (next).address();                                     \
        [[clang::musttail]] return (*static_cast<void (**)(void*)>(corio_next_))(corio_next_); \
    } while (false)
#else
#define CORIO_HANDMADE_TAIL_CALL(next)                                            \
    do {                                                                          \
        if ((next).address() != std::noop_coroutine().address())                  \
            ::corio::detail::tls_transfer = (next).address();                     \
        return;                                                                   \
    } while (false)
#endif

// Awaits `w` on behalf of `self`: false when it completed without suspending
// (await_resume may be called now), true when `next` is where to go.
template <class W>
bool suspend_on(W& w, std::coroutine_handle<> self, std::coroutine_handle<>& next) {
    if (w.await_ready()) return false;
    using S = decltype(w.await_suspend(self));
    if constexpr (std::is_void_v<S>) {
        w.await_suspend(self);
        next = std::noop_coroutine();
    } else if constexpr (std::is_same_v<S, bool>) {
        if (!w.await_suspend(self)) return false;
        next = std::noop_coroutine();
    } else {
        next = w.await_suspend(self);
    }
    return true;
}

// What the body of a one-manager with returns, given what aenter gives.
template <class Body, class Entered>
struct body_return_of {
    using type = body_call_t<Body, std::remove_reference_t<Entered>>;
};
template <class Body>
struct body_return_of<Body, void> {
    using type = body_call_t<Body>;
};

// An awaitable and its awaiter, held while a handmade frame awaits it, as a
// coroutine frame holds the temporaries of a co_await.
template <class A>
class await_slot {
    static_assert(!std::is_reference_v<A>, "await_slot holds awaitables by value");
    using awaiter_ref = decltype(get_awaiter(std::declval<A>()));
    static constexpr bool own_awaiter = !std::is_reference_v<awaiter_ref>;
    using awaiter_type = std::remove_reference_t<awaiter_ref>;
    using awaiter_store = std::conditional_t<own_awaiter, awaiter_type, awaiter_type*>;

public:
    await_slot() noexcept {}
    await_slot(const await_slot&) = delete;
    await_slot& operator=(const await_slot&) = delete;
    ~await_slot() { reset(); }

    // Makes the awaitable with make() (a prvalue: built in place) and gets its awaiter.
    template <class Make>
    void start(Make&& make) {
        ::new (static_cast<void*>(&awaitable_)) A(make());
        held_ = true;
        if constexpr (own_awaiter) ::new (static_cast<void*>(&awaiter_)) awaiter_store(get_awaiter(std::move(awaitable_)));
        else {
            auto&& awaiter = get_awaiter(std::move(awaitable_));  // the awaitable itself, or a part of it
            ::new (static_cast<void*>(&awaiter_)) awaiter_store(std::addressof(awaiter));
        }
    }
    awaiter_type& awaiter() noexcept {
        if constexpr (own_awaiter) return awaiter_;
        else return *awaiter_;
    }
    void reset() noexcept {
        if (held_) {
            if constexpr (own_awaiter) awaiter_.~awaiter_store();
            awaitable_.~A();
            held_ = false;
        }
    }

private:
    union {
        A awaitable_;
    };
    union {
        awaiter_store awaiter_;
    };
    bool held_ = false;
};

// `with` of one manager, as a handmade frame (see above). Movable until it
// is awaited; awaited once.
template <class R, class Items>
class frameless_with : handmade_frame {
    using manager_type = std::remove_reference_t<std::tuple_element_t<0, Items>>;
    using entered_type = enter_result_t<manager_type>;
    using enter_awaitable = decltype(std::declval<manager_type&>().aenter());
    using exit_awaitable = decltype(std::declval<manager_type&>().aexit(std::exception_ptr{}));

public:
    frameless_with(Items&& items, source_location where) : items_(std::move(items)), where_(where) { init(); }
    frameless_with(frameless_with&& other) : items_(std::move(other.items_)), where_(other.where_) {
        if (other.started_) throw std::logic_error("with: moved after it was awaited");
        init();
    }
    frameless_with& operator=(frameless_with&&) = delete;

    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) {
        if (started_) throw std::logic_error("with: awaited twice (a with runs once)");
        started_ = true;
        continuation_ = caller;
        // A noop handle means "suspended", or, where transfer() parks (g++
        // without tail calls), that an inner await_suspend already parked
        // where to go: only a real handle is passed on through the slot.
        std::coroutine_handle<> next = start_enter();
        return next.address() == std::noop_coroutine().address() ? next : transfer(next);
    }
    R await_resume() {
        if (error_ && !suppressed_) std::rethrow_exception(std::move(error_));
        if constexpr (!std::is_void_v<R>) return result_.take();
    }

private:
    void init() noexcept {
        resume = nullptr;  // set before each suspension
        destroy = &destroy_frame;
    }
    std::coroutine_handle<> self() noexcept { return std::coroutine_handle<>::from_address(static_cast<handmade_frame*>(this)); }
    manager_type& manager() noexcept { return std::get<0>(items_); }
    using body_type = std::tuple_element_t<1, Items>;
    decltype(auto) call() {
        if constexpr (std::is_void_v<entered_type>) return call_body(std::get<1>(items_));
        else return call_body(std::get<1>(items_), entered_.get());
    }
    using body_return = typename body_return_of<body_type, entered_type>::type;
    static constexpr bool body_awaits = awaitable<body_return>;
    using body_awaitable = std::conditional_t<body_awaits, std::remove_cvref_t<body_return>, std::tuple<>>;

    // The frame's resume, set before each suspension to the step that
    // follows it (a coroutine's resume index, without the switch).
    template <std::coroutine_handle<> (frameless_with::*Step)() noexcept>
    static void resume_at(void* frame) {
        auto* me = static_cast<frameless_with*>(static_cast<handmade_frame*>(frame));
        std::coroutine_handle<> next = (me->*Step)();
        CORIO_HANDMADE_TAIL_CALL(next);
    }
    // The frame lives in its awaiter's; nothing destroys it through a handle.
    static void destroy_frame(void*) { std::terminate(); }

    // Rule 1: aenter is awaited; if it throws, aexit is not called.
    std::coroutine_handle<> start_enter() noexcept {
        std::coroutine_handle<> next;
        try {
            enter_.start([this] { return manager().aenter(); });
            resume = &resume_at<&frameless_with::after_enter>;
            if (suspend_on(enter_.awaiter(), self(), next)) return next;
        } catch (...) {
            enter_.reset();
            error_ = std::current_exception();
            return finish();
        }
        return after_enter();
    }
    std::coroutine_handle<> after_enter() noexcept {
        try {
            if constexpr (std::is_void_v<entered_type>) enter_.awaiter().await_resume();
            else entered_.set(enter_.awaiter().await_resume());
        } catch (...) {
            enter_.reset();
            error_ = std::current_exception();
            return finish();
        }
        enter_.reset();
        tracker_.start("with", where_);
        return start_body();
    }

    // Rule 2: the body gets the value aenter gave (or nothing); an awaitable
    // result is awaited, a plain one kept as it is.
    std::coroutine_handle<> start_body() noexcept {
        try {
            if constexpr (body_awaits) {
                std::coroutine_handle<> next;
                body_.start([this] { return call(); });
                resume = &resume_at<&frameless_with::after_body>;
                if (suspend_on(body_.awaiter(), self(), next)) return next;
            } else if constexpr (std::is_void_v<R>) {
                call();
                return start_exit();
            } else {
                result_.set(call());
                return start_exit();
            }
        } catch (...) {
            error_ = std::current_exception();
            return start_exit();
        }
        return after_body();
    }
    std::coroutine_handle<> after_body() noexcept {
        if constexpr (body_awaits) {
            try {
                if constexpr (std::is_void_v<R>) body_.awaiter().await_resume();
                else result_.set(body_.awaiter().await_resume());
            } catch (...) {
                error_ = std::current_exception();
            }
            body_.reset();
        }
        return start_exit();
    }

    // Rules 3-5: aexit(e) is awaited, shielded from the cancellations in
    // effect now; true suppresses for a void body; its exception replaces.
    std::coroutine_handle<> start_exit() noexcept {
        shield_.emplace();
        std::coroutine_handle<> next;
        try {
            exit_.start([this] { return manager().aexit(error_); });
            resume = &resume_at<&frameless_with::after_exit>;
            if (suspend_on(exit_.awaiter(), self(), next)) return next;
        } catch (...) {
            exit_.reset();
            error_ = std::current_exception();
            return end_exit();
        }
        return after_exit();
    }
    std::coroutine_handle<> after_exit() noexcept {
        try {
            if constexpr (std::is_void_v<exit_result_t<manager_type>>) exit_.awaiter().await_resume();
            else suppressed_ = static_cast<bool>(exit_.awaiter().await_resume()) && std::is_void_v<R> && error_;
        } catch (...) {
            error_ = std::current_exception();
            suppressed_ = false;
        }
        exit_.reset();
        return end_exit();
    }
    std::coroutine_handle<> end_exit() noexcept {
        shield_.reset();
        tracker_.stop();
        return finish();
    }
    std::coroutine_handle<> finish() noexcept {
        return continuation_;
    }

    Items items_;
    std::coroutine_handle<> continuation_;
    std::exception_ptr error_;
    [[no_unique_address]] result_slot<entered_type> entered_;
    [[no_unique_address]] result_slot<R> result_;
    await_slot<enter_awaitable> enter_;
    [[no_unique_address]] std::conditional_t<body_awaits, await_slot<body_awaitable>, std::tuple<>> body_;
    await_slot<exit_awaitable> exit_;
    std::optional<exit_shield> shield_;
    manager_tracker tracker_;
    source_location where_;
    bool started_ = false;
    bool suppressed_ = false;
};

// `with` of several managers: one coroutine level per manager (with_level).
template <class R, std::size_t N, class Items>
class nested_with {
public:
    nested_with(Items&& items, source_location where)
        : task_(with_level<R, 0, N, Items>(std::move(items), where)) {}
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) {
        if (!task_.valid() || task_.handle().promise().continuation)
            throw std::logic_error("with: awaited twice (a with runs once)");
        return typename task<R>::awaiter{task_.handle()}.await_suspend(caller);
    }
    R await_resume() { return typename task<R>::awaiter{task_.handle()}.await_resume(); }

private:
    task<R> task_;
};

}  // namespace detail

/// `async with`: see the file comment. Constructed by CTAD:
/// `co_await corio::with(managers..., body)`. It is its own awaiter: with one
/// manager it is the frame that runs the block (no allocation).
template <class... Args>
class [[nodiscard]] with {
    static_assert(sizeof...(Args) >= 2, "corio::with needs at least one manager and a body");
    static constexpr std::size_t managers = sizeof...(Args) - 1;
    using body_type = std::decay_t<std::tuple_element_t<managers, std::tuple<Args...>>>;

    template <std::size_t... I>
    static auto items_type(std::index_sequence<I...>)
        -> std::tuple<std::tuple_element_t<I, std::tuple<Args...>>..., body_type>;
    using items = decltype(items_type(std::make_index_sequence<managers>{}));

    template <std::size_t... I>
    static constexpr bool all_managers(std::index_sequence<I...>) {
        return (async_context_manager<std::remove_reference_t<std::tuple_element_t<I, items>>> && ...);
    }
    static constexpr bool managers_ok = all_managers(std::make_index_sequence<managers>{});
    static_assert(managers_ok,
                  "corio::with: every argument before the body must be an async context manager "
                  "(aenter() and aexit(std::exception_ptr) returning awaitables)");

    struct no_shape {
        using gives = detail::managers_give<>;
        using type = void;
    };
    using shape = std::conditional_t<managers_ok, detail::with_shape<0, managers, items>, no_shape>;
    // The first error a user reads for a body that does not fit, naming the
    // body and, in managers_give<...>, what the managers' aenters give.
    // (The check is instantiated through sizeof, and body_ok is computed
    // apart from it: clang 14 takes a member of a class whose static_assert
    // failed for a non-constant, which would be a second error.)
    static constexpr bool body_ok = !managers_ok || detail::body_accepts<body_type, typename shape::gives>::value;
    static constexpr std::size_t body_checked =
        sizeof(std::conditional_t<managers_ok, detail::with_body_check<body_type, typename shape::gives>, char>);

public:
    using result_type = std::conditional_t<body_ok && body_checked != 0, typename shape::type, void>;

private:
    struct unusable {  // stands in when a static_assert above failed, so that it is the only error
        unusable(items&&, source_location) {}
        bool await_ready() const noexcept { return true; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) const noexcept { return caller; }
        void await_resume() const noexcept {}
    };
    using impl = std::conditional_t<!(managers_ok && body_ok), unusable,
                                    std::conditional_t<managers == 1, detail::frameless_with<result_type, items>,
                                                       detail::nested_with<result_type, managers, items>>>;

public:
    with(Args&&... args, source_location where = source_location::current())
        : impl_(items(std::forward<Args>(args)...), where) {}

    bool await_ready() const noexcept { return impl_.await_ready(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) { return impl_.await_suspend(caller); }
    result_type await_resume() { return impl_.await_resume(); }

    /// The whole block as a lazy task (to hand to gather, spawn, wait_for).
    task<result_type> as_task() && { return run(std::move(*this)); }

private:
    static task<result_type> run(with self) { co_return co_await self; }

    impl impl_;
};

template <class... Args>
with(Args&&...) -> with<Args...>;

}  // namespace corio
