// src/mysql/connection.cpp: connecting (mysql_real_connect_start/_cont),
// waiting on Connector/C's socket with corio's loop, KILL QUERY for a
// cancelled call, and the connection's own calls (commit, rollback, begin,
// autocommit, ping, close, transaction()).
#include <sys/socket.h>

#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include <corio/context/with.hpp>
#include <corio/detail/event_loop.hpp>
#include <corio/detail/socket.hpp>
#include <corio/mysql/connection.hpp>
#include <corio/time/sleep.hpp>
#include <corio/time/timeout.hpp>

#include "state.hpp"

namespace corio::mysql {
namespace detail {

connection_state::connection_state(connect_options o) : options(std::move(o)) {
    if (!options.unix_socket.empty())
        where = options.unix_socket;
    else
        where = options.host + ":" + std::to_string(options.port);
}

connection_state::~connection_state() { close_now(); }

void connection_state::forget_socket() noexcept {
    if (polled_fd >= 0 && corio::detail::tls_loop != nullptr) corio::detail::tls_loop->io().forget(polled_fd);
    polled_fd = -1;
}

void connection_state::drop_statements() noexcept {
    active_stmt = nullptr;
    for (auto& [sql, entry] : statements) mysql_stmt_close(entry.stmt);
    statements.clear();
    lru.clear();
}

void connection_state::close_now() noexcept {
    if (mysql == nullptr) return;
    // shutdown first: mysql_close's COM_QUIT must not wait on a peer that is gone.
    if (broken || !connected) {
        if (int fd = mysql_get_socket(mysql); fd >= 0) ::shutdown(fd, SHUT_RDWR);
    }
    forget_socket();
    // Statements die with the handle: mysql_close detaches them, mysql_stmt_close frees them.
    active_stmt = nullptr;
    std::vector<MYSQL_STMT*> stmts;
    for (auto& [sql, entry] : statements) stmts.push_back(entry.stmt);
    statements.clear();
    lru.clear();
    mysql_close(mysql);
    for (MYSQL_STMT* st : stmts) mysql_stmt_close(st);
    mysql = nullptr;
    broken = true;
    connected = false;
}

task<> connection_state::close_gracefully() {
    // COM_QUIT is one small write that the socket's buffer takes at once, and
    // the server sends no reply: mysql_close needs no wait on the loop.
    close_now();
    co_return;
}

void connection_state::check_usable(const char* operation, std::string_view what) const {
    if (mysql != nullptr && !broken) return;
    std::string text = operation;
    if (!what.empty()) {
        text += ' ';
        text.append(what);
    }
    text += ": the connection to " + where + " is closed";
    throw operational_error(text, CR_SERVER_GONE_ERROR, "HY000");
}

static void mark_if_lost(connection_state& s, unsigned code) {
    // Lost, gone, killed or shut down: the handle is of no further use.
    if (code == CR_SERVER_LOST || code == CR_SERVER_GONE_ERROR || code == 2055 /* CR_SERVER_LOST_EXTENDED */ ||
        code == 1927 /* ER_CONNECTION_KILLED */ || code == 1053 /* ER_SERVER_SHUTDOWN */ ||
        code == CR_COMMANDS_OUT_OF_SYNC)
        s.broken = true;
}

void connection_state::fail(const char* operation, std::string_view what) {
    const unsigned code = mysql_errno(mysql);
    const std::string message = ::mysql_error(mysql);
    const std::string state = mysql_sqlstate(mysql);
    mark_if_lost(*this, code);
    throw_error(code, state.c_str(), message.c_str(), operation, what, false);
}

void connection_state::fail_stmt(MYSQL_STMT* stmt, const char* operation, std::string_view what) {
    const unsigned code = mysql_stmt_errno(stmt);
    const std::string message = mysql_stmt_error(stmt);
    const std::string state = mysql_stmt_sqlstate(stmt);
    mark_if_lost(*this, code);
    throw_error(code, state.c_str(), message.c_str(), operation, what, false);
}

task<int> wait_status(connection_state& s, int status, const char* operation,
                      std::optional<clock::time_point> deadline) {
    short events = 0;
    if (status & MYSQL_WAIT_READ) events |= POLLIN;
    if (status & MYSQL_WAIT_WRITE) events |= POLLOUT;
    if (status & MYSQL_WAIT_EXCEPT) events |= POLLPRI;
    bool connector_timeout = false;
    if (status & MYSQL_WAIT_TIMEOUT) {
        const auto t = clock::now() + std::chrono::milliseconds(mysql_get_timeout_value_ms(s.mysql));
        if (!deadline || t < *deadline) {
            deadline = t;
            connector_timeout = true;
        }
    }
    const int fd = mysql_get_socket(s.mysql);
    if (fd != s.polled_fd) {
        s.forget_socket();  // Connector/C moved to another socket (a retried address)
        s.polled_fd = fd;
    }
    int seen = 0;
    if (events == 0 && deadline) {
        co_await corio::sleep_until(*deadline);
        co_return connector_timeout ? MYSQL_WAIT_TIMEOUT : 0;
    }
    if (!deadline) {
        seen = co_await corio::detail::wait_ready(fd, events, operation);
    } else {
        auto scope = corio::move_on_at(deadline);
        auto body = [&]() -> task<> { seen = co_await corio::detail::wait_ready(fd, events, operation); };
        co_await corio::with(scope, body);
        if (scope.cancelled_caught()) co_return connector_timeout ? MYSQL_WAIT_TIMEOUT : 0;
    }
    int ready = 0;
    if (seen & (POLLIN | POLLHUP | POLLERR)) ready |= MYSQL_WAIT_READ;
    if (seen & (POLLOUT | POLLHUP | POLLERR)) ready |= MYSQL_WAIT_WRITE;
    if (seen & POLLPRI) ready |= MYSQL_WAIT_EXCEPT;
    if (ready == 0) ready = status & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_EXCEPT);
    co_return ready;
}

task<> connection_state::open(const char* operation) {
    mysql = mysql_init(nullptr);
    if (mysql == nullptr) throw std::bad_alloc();
    mysql_options(mysql, MYSQL_OPT_NONBLOCK, nullptr);
    mysql_options(mysql, MYSQL_SET_CHARSET_NAME, options.charset.c_str());
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(options.connect_timeout).count();
    const unsigned timeout = seconds < 1 ? 1u : static_cast<unsigned>(seconds);
    mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    const unsigned protocol = options.unix_socket.empty() && options.host != "localhost" ? MYSQL_PROTOCOL_TCP
                                                                                        : MYSQL_PROTOCOL_SOCKET;
    mysql_options(mysql, MYSQL_OPT_PROTOCOL, &protocol);
    const my_bool no = 0, yes = 1;
    mysql_options(mysql, MYSQL_OPT_LOCAL_INFILE, &no);
    // autocommit and init_command: run by Connector/C inside the handshake call.
    mysql_options(mysql, MYSQL_INIT_COMMAND, options.autocommit ? "SET autocommit=1" : "SET autocommit=0");
    if (!options.init_command.empty()) mysql_options(mysql, MYSQL_INIT_COMMAND, options.init_command.c_str());
    if (options.tls.mode != tls_mode::disabled) {
        auto opt = [](const std::string& v) { return v.empty() ? nullptr : v.c_str(); };
        mysql_ssl_set(mysql, opt(options.tls.key), opt(options.tls.cert), opt(options.tls.ca), nullptr, nullptr);
        if (options.tls.mode != tls_mode::preferred) mysql_options(mysql, MYSQL_OPT_SSL_ENFORCE, &yes);
        const my_bool verify = options.tls.mode == tls_mode::verify_ca || options.tls.mode == tls_mode::verify_identity;
        mysql_options(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }
    MYSQL* ret = nullptr;
    const char* host = options.unix_socket.empty() ? options.host.c_str() : "localhost";
    const char* db = options.db.empty() ? nullptr : options.db.c_str();
    const char* socket = options.unix_socket.empty() ? nullptr : options.unix_socket.c_str();
    int status = mysql_real_connect_start(&ret, mysql, host, options.user.c_str(), options.password.c_str(), db,
                                          options.port, socket, CLIENT_MULTI_RESULTS);
    auto cont = [this, &ret](int ready) { return mysql_real_connect_cont(&ret, mysql, ready); };
    co_await drive(*this, status, operation, cont);
    if (ret == nullptr) {
        const unsigned code = mysql_errno(mysql);
        const std::string message = ::mysql_error(mysql);
        const std::string state = mysql_sqlstate(mysql);
        close_now();
        throw_error(code, state.c_str(), message.c_str(), operation, where, true);
    }
    // Connector/C 3.3 enforces TLS only together with certificate
    // verification: `required` (TLS, no verification) is checked here.
    if (options.tls.mode != tls_mode::disabled && options.tls.mode != tls_mode::preferred &&
        mysql_get_ssl_cipher(mysql) == nullptr) {
        close_now();
        throw_error(CR_SSL_CONNECTION_ERROR, "HY000", "TLS/SSL error: TLS is required, but the server does not support it",
                    operation, where, true);
    }
    connected = true;
    broken = false;
    thread_id = mysql_thread_id(mysql);
    opened_at = clock::now();
    transaction_depth = 0;
}

task<> kill_query(const connect_options& options, std::uint64_t thread_id) {
    connect_options o = options;
    o.init_command.clear();
    o.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(drain_bound);
    connection_state killer(std::move(o));
    auto scope = corio::move_on_after(drain_bound);
    auto body = [&]() -> task<> {
        try {
            co_await killer.open("mysql: KILL QUERY for a cancelled call");
        } catch (const mysql_error&) {
            co_return;  // the server is gone or full: the drain bound closes our connection instead
        }
        const std::string sql = "KILL QUERY " + std::to_string(thread_id);
        int ret = 0;
        int status = mysql_real_query_start(&ret, killer.mysql, sql.data(), sql.size());
        auto cont = [&](int ready) { return mysql_real_query_cont(&ret, killer.mysql, ready); };
        co_await drive(killer, status, "mysql: KILL QUERY", cont);
        co_await killer.close_gracefully();
    };
    co_await corio::with(scope, body);
    killer.close_now();
}

task<> drain_results(connection_state& s, clock::time_point deadline) {
    bool ok = true;
    while (ok && s.mysql != nullptr) {
        const auto st = s.mysql->status;
        if (st == MYSQL_STATUS_GET_RESULT) {
            MYSQL_RES* res = nullptr;
            int status = mysql_store_result_start(&res, s.mysql);
            auto cont = [&](int ready) { return mysql_store_result_cont(&res, s.mysql, ready); };
            ok = co_await finish_within(s, status, cont, deadline);
            if (res != nullptr) mysql_free_result(res);
        } else if ((st == MYSQL_STATUS_STMT_RESULT || st == MYSQL_STATUS_USE_RESULT) && s.active_stmt != nullptr) {
            my_bool ret = 0;
            MYSQL_STMT* stmt = s.active_stmt;
            int status = mysql_stmt_free_result_start(&ret, stmt);
            auto cont = [&](int ready) { return mysql_stmt_free_result_cont(&ret, stmt, ready); };
            ok = co_await finish_within(s, status, cont, deadline);
        } else if (st == MYSQL_STATUS_READY && mysql_more_results(s.mysql)) {
            int ret = 0;
            int status = mysql_next_result_start(&ret, s.mysql);
            auto cont = [&](int ready) { return mysql_next_result_cont(&ret, s.mysql, ready); };
            ok = co_await finish_within(s, status, cont, deadline) && ret <= 0;
        } else {
            break;
        }
    }
    // Anything else (a state we cannot drain, a lost connection): never reused.
    if (s.mysql != nullptr && (!ok || s.mysql->status != MYSQL_STATUS_READY || mysql_more_results(s.mysql) ||
                               mysql_errno(s.mysql) == CR_SERVER_LOST || mysql_errno(s.mysql) == CR_SERVER_GONE_ERROR))
        s.close_now();
}

task<std::string> first_cell(connection_state& s, std::string sql, const char* operation) {
    s.check_usable(operation, quote_sql(sql));
    int ret = 0;
    int status = mysql_real_query_start(&ret, s.mysql, sql.data(), sql.size());
    auto cont = [&](int ready) { return mysql_real_query_cont(&ret, s.mysql, ready); };
    co_await drive(s, status, operation, cont);
    if (ret != 0) s.fail(operation, quote_sql(sql));
    MYSQL_RES* res = nullptr;
    status = mysql_store_result_start(&res, s.mysql);
    auto store = [&](int ready) { return mysql_store_result_cont(&res, s.mysql, ready); };
    co_await drive(s, status, operation, store);
    if (res == nullptr) s.fail(operation, quote_sql(sql));
    std::string out;
    if (MYSQL_ROW row = mysql_fetch_row(res); row != nullptr && row[0] != nullptr) {
        const unsigned long* lengths = mysql_fetch_lengths(res);
        out.assign(row[0], lengths[0]);
    }
    mysql_free_result(res);
    co_return out;
}

task<> simple_query(connection_state& s, std::string sql, const char* operation) {
    s.check_usable(operation, quote_sql(sql));
    int ret = 0;
    int status = mysql_real_query_start(&ret, s.mysql, sql.data(), sql.size());
    auto cont = [&](int ready) { return mysql_real_query_cont(&ret, s.mysql, ready); };
    co_await drive(s, status, operation, cont);
    if (ret != 0) s.fail(operation, quote_sql(sql));
    // A statement that returns rows (none of ours should) is read and dropped.
    if (mysql_field_count(s.mysql) > 0) {
        MYSQL_RES* res = nullptr;
        status = mysql_store_result_start(&res, s.mysql);
        auto store = [&](int ready) { return mysql_store_result_cont(&res, s.mysql, ready); };
        co_await drive(s, status, operation, store);
        if (res != nullptr) mysql_free_result(res);
    }
}

}  // namespace detail

using detail::connection_state;

connection::connection() noexcept = default;
connection::connection(std::shared_ptr<connection_state> state) noexcept : state_(std::move(state)) {}
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;
connection::~connection() = default;  // the state's destructor closes a handle still open

cursor_manager connection::cursor() { return cursor_manager(state_); }
cursor_manager connection::dict_cursor() { return cursor_manager(state_); }

static void need_state(const std::shared_ptr<connection_state>& s, const char* operation) {
    if (!s) throw std::logic_error(std::string(operation) + ": the connection was moved from or never connected");
}

namespace {
// One Connector/C call that gives a status (commit, rollback, autocommit,
// ping): the connection's turn, the non-blocking start/cont pair driven on
// the loop, an error naming the operation and `what`.
template <class Ret, class Start, class Cont>
task<> call(std::shared_ptr<connection_state> s, const char* operation, std::string what, Start start, Cont resume) {
    need_state(s, operation);
    auto guard = co_await s->busy.scoped();
    s->check_usable(operation, what);
    Ret ret = 0;
    int status = start(&ret, s->mysql);
    auto cont = [&](int ready) { return resume(&ret, s->mysql, ready); };
    co_await detail::drive(*s, status, operation, cont);
    if (ret != 0) s->fail(operation, what);
}
}  // namespace

task<> connection::commit() {
    co_await call<my_bool>(state_, "mysql::connection::commit", "", mysql_commit_start, mysql_commit_cont);
}

task<> connection::rollback() {
    co_await call<my_bool>(state_, "mysql::connection::rollback", "", mysql_rollback_start, mysql_rollback_cont);
}

task<> connection::begin() {
    need_state(state_, "mysql::connection::begin");
    auto s = state_;
    auto guard = co_await s->busy.scoped();
    s->reset_needed = true;
    co_await detail::simple_query(*s, "START TRANSACTION", "mysql::connection::begin");
}

task<> connection::autocommit(bool on) {
    if (state_) state_->reset_needed = true;
    // Named first: a capturing lambda inside a co_await expression is what
    // g++ 12 destroys twice (workaround(gcc-12)).
    auto start = [on](my_bool* ret, MYSQL* m) { return mysql_autocommit_start(ret, m, on ? 1 : 0); };
    co_await call<my_bool>(state_, "mysql::connection::autocommit", on ? "true" : "false", start, mysql_autocommit_cont);
}

task<> connection::ping() {
    const std::string where = state_ ? state_->where : std::string();
    co_await call<int>(state_, "mysql::connection::ping", where, mysql_ping_start, mysql_ping_cont);
}

task<> connection::close() {
    if (!state_) co_return;
    auto s = state_;
    auto guard = co_await s->busy.scoped();
    co_await s->close_gracefully();
}

bool connection::closed() const noexcept { return !state_ || !state_->is_open(); }
std::uint64_t connection::thread_id() const noexcept { return state_ ? state_->thread_id : 0; }
bool connection::in_transaction() const noexcept {
    if (!state_ || !state_->is_open()) return false;
    unsigned int status = 0;
    if (mariadb_get_infov(state_->mysql, MARIADB_CONNECTION_SERVER_STATUS, &status) != 0) return false;
    return (status & SERVER_STATUS_IN_TRANS) != 0;
}
const std::string& connection::where() const noexcept {
    static const std::string none;
    return state_ ? state_->where : none;
}

mysql::transaction connection::transaction() {
    need_state(state_, "mysql::connection::transaction");
    return mysql::transaction(state_);
}

task<connection&> connection::aenter() { co_return *this; }
task<> connection::aexit(std::exception_ptr) { co_await close(); }

task<transaction&> transaction::aenter() {
    auto s = conn_;
    auto guard = co_await s->busy.scoped();
    depth_ = s->transaction_depth;
    s->reset_needed = true;
    const std::string sql = depth_ == 0 ? std::string("START TRANSACTION")
                                        : "SAVEPOINT corio_" + std::to_string(depth_);
    co_await detail::simple_query(*s, sql, "mysql::connection::transaction");
    ++s->transaction_depth;
    entered_ = true;
    co_return *this;
}

task<> transaction::aexit(std::exception_ptr error) {
    if (!entered_) co_return;
    entered_ = false;
    auto s = conn_;
    auto guard = co_await s->busy.scoped();
    if (s->transaction_depth > 0) --s->transaction_depth;
    std::string sql;
    if (depth_ == 0)
        sql = error ? "ROLLBACK" : "COMMIT";
    else
        sql = (error ? "ROLLBACK TO SAVEPOINT corio_" : "RELEASE SAVEPOINT corio_") + std::to_string(depth_);
    if (!error) {
        co_await detail::simple_query(*s, sql, "mysql::connection::transaction");
        co_return;
    }
    // The body failed: roll back, but its exception is what the caller sees.
    // A connection already lost or closed rolls back on the server by itself.
    if (!s->is_open()) co_return;
    try {
        co_await detail::simple_query(*s, sql, "mysql::connection::transaction");
    } catch (const mysql_error&) {
        s->broken = true;  // the transaction's state is unknown: never reuse this connection
    }
}

task<connection> connect(connect_options options) {
    auto s = std::make_shared<connection_state>(std::move(options));
    co_await s->open("mysql::connect");
    co_return connection(std::move(s));
}

}  // namespace corio::mysql
