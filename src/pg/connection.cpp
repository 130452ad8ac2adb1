// src/pg/connection.cpp: connect() (PQconnectStartParams + PQconnectPoll
// waiting on corio's loop), connection's calls and transaction.
#include <libpq-fe.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <corio/detail/backend.hpp>
#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/detail/socket.hpp>
#include <corio/context/with.hpp>
#include <corio/errors.hpp>
#include <corio/pg/connection.hpp>
#include <corio/pg/transaction.hpp>
#include <corio/time/timeout.hpp>

#include "conn_state.hpp"

namespace corio::pg {

namespace {

void forget_fd(int fd) noexcept {
    if (fd >= 0 && corio::detail::tls_loop != nullptr) corio::detail::tls_loop->io().forget(fd);
}

std::string trimmed(const char* s) {
    std::string out = s == nullptr ? "" : s;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

std::string peer_of(PGconn* c) {
    const char* host = PQhost(c);
    const char* port = PQport(c);
    std::string h = host != nullptr && *host != '\0' ? host : "localhost";
    if (h.front() == '/') return h + "/.s.PGSQL." + (port != nullptr && *port != '\0' ? port : "5432");
    return h + ":" + (port != nullptr && *port != '\0' ? port : "5432");
}

// libpq's options value for server_settings: -c name=value, spaces escaped.
std::string settings_option(const std::map<std::string, std::string>& settings) {
    std::string out;
    for (const auto& [name, value] : settings) {
        if (!out.empty()) out.push_back(' ');
        out += "-c ";
        for (char ch : name + "=" + value) {
            if (ch == ' ' || ch == '\\') out.push_back('\\');
            out.push_back(ch);
        }
    }
    return out;
}

// Owns a PGconn until connect hands it over.
struct pending_conn {
    PGconn* c = nullptr;
    int fd = -1;
    ~pending_conn() {
        if (c != nullptr) {
            forget_fd(fd);
            PQfinish(c);
        }
    }
};

void silence(void*, const char*) {}

task<void> poll_connect(pending_conn& pc) {
    for (;;) {
        const PostgresPollingStatusType st = PQconnectPoll(pc.c);
        if (st == PGRES_POLLING_OK) co_return;
        if (st == PGRES_POLLING_FAILED) {
            throw connection_error("pg::connect " + peer_of(pc.c) + ": " + trimmed(PQerrorMessage(pc.c)));
        }
        const int fd = PQsocket(pc.c);
        // libpq may close its socket and open a new one between polls (the
        // next host; sslmode=prefer retrying without TLS after a refusal),
        // and the new one may get the same number: the loop must forget
        // what it knew of that number every time (an epoll registration of
        // the closed socket is gone). Connecting is rare; the cost is an
        // epoll_ctl per wait.
        forget_fd(fd);
        pc.fd = fd;
        const short events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
        try {
            co_await corio::detail::wait_ready(fd, events, "pg::connect");
        } catch (const std::system_error& e) {
            throw connection_error("pg::connect " + peer_of(pc.c) + ": " + e.what());
        }
    }
}

}  // namespace

connector connect(std::string dsn) {
    connect_options o;
    o.dsn = std::move(dsn);
    return connector(std::move(o));
}

connector connect(connect_options options) { return connector(std::move(options)); }

task<connection&> connector::aenter() {
    if (conn_) throw interface_error("pg::connect: this connector was already entered");
    conn_.emplace(co_await detail::open_connection(options_));
    co_return *conn_;
}

task<void> connector::aexit(std::exception_ptr) {
    if (conn_) co_await conn_->close();
}

namespace {
// libpq 15 runs its own OpenSSL and takes its trusted CAs only from a file
// (sslrootcert). A tls_context's CAs are written, as PEM, into an anonymous
// memory file that libpq opens by its /proc path during the handshake: no
// file on disk, gone when closed after the connect.
class ca_bundle {
public:
    explicit ca_bundle(const corio::tls_context& ctx) {
        if (ctx.is_server())
            throw interface_error("pg::connect: tls must be a client tls_context (tls_context::client())");
        fd_ = ::memfd_create("corio-pg-ca", MFD_CLOEXEC);
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "pg::connect: memfd_create");
        BIO* out = BIO_new(BIO_s_mem());
        if (out == nullptr) throw std::bad_alloc();
        // The system's bundle (the context loaded the default paths, whose
        // folder lookups are lazy and cannot be listed), then every CA the
        // context's store holds (load_verify_file's among them).
        const char* env = std::getenv(X509_get_default_cert_file_env());
        append_file(out, env != nullptr ? env : X509_get_default_cert_file());
        append_file(out, std::string(X509_get_default_cert_dir()) + "/ca-certificates.crt");
        auto* ssl_ctx = static_cast<SSL_CTX*>(ctx.native_handle());
        X509_STORE* store = SSL_CTX_get_cert_store(ssl_ctx);
        STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
        for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
            X509* cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
            if (cert != nullptr) PEM_write_bio_X509(out, cert);
        }
        char* data = nullptr;
        const long size = BIO_get_mem_data(out, &data);
        std::size_t written = 0;
        while (size > 0 && written < static_cast<std::size_t>(size)) {
            const ssize_t n = ::write(fd_, data + written, static_cast<std::size_t>(size) - written);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                const int e = errno;
                BIO_free(out);
                throw std::system_error(e, std::generic_category(), "pg::connect: writing the tls_context's CAs");
            }
            written += static_cast<std::size_t>(n);
        }
        BIO_free(out);
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    ~ca_bundle() {
        if (fd_ >= 0) ::close(fd_);
    }
    ca_bundle(const ca_bundle&) = delete;
    ca_bundle& operator=(const ca_bundle&) = delete;
    const std::string& path() const noexcept { return path_; }

private:
    static void append_file(BIO* out, const std::string& path) {
        if (::access(path.c_str(), R_OK) != 0) return;
        BIO* in = BIO_new_file(path.c_str(), "r");
        if (in == nullptr) return;
        char buf[16384];
        int n;
        while ((n = BIO_read(in, buf, sizeof buf)) > 0) BIO_write(out, buf, n);
        BIO_write(out, "\n", 1);
        BIO_free(in);
    }
    int fd_ = -1;
    std::string path_;
};
}  // namespace

task<connection> detail::open_connection(connect_options o) {
    std::optional<ca_bundle> cas;
    if (o.tls) {
        if (!o.sslmode.empty() && o.sslmode != "verify-full")
            throw interface_error("pg::connect: with tls (a corio tls_context) the sslmode is verify-full, not '" +
                                  o.sslmode + "'");
        cas.emplace(*o.tls);
        o.sslmode = "verify-full";
    }
    std::vector<const char*> keys;
    std::vector<const char*> values;
    const std::string port = o.port != 0 ? std::to_string(o.port) : std::string();
    const std::string timeout = o.connect_timeout.count() > 0 ? std::to_string(o.connect_timeout.count()) : "";
    const std::string settings = settings_option(o.server_settings);
    auto add = [&](const char* k, const std::string& v) {
        if (!v.empty()) {
            keys.push_back(k);
            values.push_back(v.c_str());
        }
    };
    add("dbname", o.dsn);  // expanded (expand_dbname): a URI or key=value string
    add("host", o.host);
    add("port", port);
    add("user", o.user);
    add("password", o.password);
    if (!o.database.empty()) add("dbname", o.database);
    add("sslmode", o.sslmode);
    if (cas) add("sslrootcert", cas->path());
    add("application_name", o.application_name);
    add("connect_timeout", timeout);
    add("options", settings);
    keys.push_back(nullptr);
    values.push_back(nullptr);

    pending_conn pc;
    pc.c = PQconnectStartParams(keys.data(), values.data(), 1);
    if (pc.c == nullptr) throw std::bad_alloc();
    if (PQstatus(pc.c) == CONNECTION_BAD) {
        // A DSN libpq cannot parse: its message never holds the password.
        throw connection_error("pg::connect " + peer_of(pc.c) + ": " + trimmed(PQerrorMessage(pc.c)));
    }
    // PQconnectPoll does not enforce connect_timeout; this does.
    int limit_s = 0;
    if (PQconninfoOption* info = PQconninfo(pc.c)) {
        for (PQconninfoOption* i = info; i->keyword != nullptr; ++i)
            if (std::string_view(i->keyword) == "connect_timeout" && i->val != nullptr) limit_s = std::atoi(i->val);
        PQconninfoFree(info);
    }
    if (limit_s > 0) {
        bool expired = false;
        try {
            co_await corio::wait_for(poll_connect(pc), std::chrono::seconds(limit_s));
        } catch (const corio::timeout_error&) {
            expired = true;
        }
        if (expired)
            throw connection_error("pg::connect " + peer_of(pc.c) + ": no answer within connect_timeout (" +
                                   std::to_string(limit_s) + " s)");
    } else {
        co_await poll_connect(pc);
    }
    if (PQsetnonblocking(pc.c, 1) != 0 || PQenterPipelineMode(pc.c) != 1)
        throw connection_error("pg::connect " + peer_of(pc.c) + ": " + trimmed(PQerrorMessage(pc.c)));
    // Notices (a ROLLBACK with no transaction open) are not errors; asyncpg
    // logs them, libpq would print them on stderr.
    PQsetNoticeProcessor(pc.c, &silence, nullptr);
    std::string peer = peer_of(pc.c);
    auto state = std::make_shared<detail::conn_state>(pc.c, std::move(o), std::move(peer));
    state->fd = PQsocket(pc.c);
    pc.c = nullptr;
    co_return connection(std::move(state));
}

// ---- connection

connection& connection::operator=(connection&& other) noexcept {
    if (this != &other) {
        if (state_ && state_.use_count() == 1) state_->finish();
        state_ = std::move(other.state_);
    }
    return *this;
}

connection::~connection() {
    if (state_ && state_.use_count() == 1) state_->finish();
}

task<connection&> connection::aenter() { co_return *this; }

task<void> connection::aexit(std::exception_ptr) { co_await close(); }

task<void> connection::close() {
    if (!state_) co_return;
    auto s = state_;
    co_await s->close();
}

bool connection::is_closed() const noexcept {
    return !state_ || state_->conn == nullptr || state_->closing || state_->broken;
}

bool connection::in_transaction() const noexcept {
    if (!state_ || state_->conn == nullptr) return false;
    if (state_->transaction_depth > 0) return true;
    const auto t = PQtransactionStatus(state_->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

int connection::backend_pid() const noexcept {
    return state_ && state_->conn != nullptr ? PQbackendPID(state_->conn) : 0;
}

std::size_t connection::state_pending() const noexcept { return state_ ? state_->pending.size() : 0; }

std::string connection::peer() const { return state_ ? state_->peer : std::string(); }

void connection::throw_no_row() const {
    throw interface_error("pg::connection::fetchval: the query gave no row (read it as std::optional)");
}

namespace {
std::shared_ptr<detail::conn_state> need(const std::shared_ptr<detail::conn_state>& s, const char* op) {
    if (!s) throw interface_error(std::string(op) + ": the connection was moved from");
    return s;
}
}  // namespace

task<std::string> connection::execute_encoded(std::string sql, detail::encoded_params params) {
    auto s = need(state_, "pg::connection::execute");
    std::string op = detail::describe("pg::connection::execute", sql);
    detail::query_result r = co_await s->query(std::move(op), std::move(sql), std::move(params));
    co_return std::move(r.tag);
}

namespace {
std::vector<record> records_of(const std::shared_ptr<const detail::result>& rows) {
    std::vector<record> out;
    if (!rows) return out;
    const std::size_t n = detail::result_rows(*rows);
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(rows, i);
    return out;
}
}  // namespace

task<std::vector<record>> connection::fetch_encoded(std::string sql, detail::encoded_params params) {
    auto s = need(state_, "pg::connection::fetch");
    std::string op = detail::describe("pg::connection::fetch", sql);
    detail::query_result r = co_await s->query(std::move(op), std::move(sql), std::move(params));
    co_return records_of(r.rows);
}

task<std::optional<record>> connection::fetchrow_encoded(std::string sql, detail::encoded_params params) {
    auto s = need(state_, "pg::connection::fetchrow");
    std::string op = detail::describe("pg::connection::fetchrow", sql);
    detail::query_result r = co_await s->query(std::move(op), std::move(sql), std::move(params));
    if (!r.rows || detail::result_rows(*r.rows) == 0) co_return std::nullopt;
    co_return record(r.rows, 0);
}

task<void> connection::executemany_encoded(std::string sql, std::vector<detail::encoded_params> rows) {
    auto s = need(state_, "pg::connection::executemany");
    std::string op = detail::describe("pg::connection::executemany", sql);
    // Atomic as asyncpg's: inside the caller's transaction, or one of its own.
    if (in_transaction() || rows.empty()) {
        co_await s->query_many(std::move(op), std::move(sql), std::move(rows));
        co_return;
    }
    auto tx = transaction();
    auto body = [s, op, sql, rows = std::move(rows)](pg::transaction&) mutable -> task<void> {
        co_await s->query_many(std::move(op), std::move(sql), std::move(rows));
    };
    co_await corio::with(tx, body);
}

pg::transaction connection::transaction() { return pg::transaction(need(state_, "pg::connection::transaction"), transaction_options()); }
pg::transaction connection::transaction(transaction_options options) {
    return pg::transaction(need(state_, "pg::connection::transaction"), options);
}

// ---- transaction

namespace {
std::string begin_sql(const transaction_options& o) {
    std::string sql = "BEGIN";
    if (o.isolation) {
        switch (*o.isolation) {
            case isolation_level::read_committed: sql += " ISOLATION LEVEL READ COMMITTED"; break;
            case isolation_level::repeatable_read: sql += " ISOLATION LEVEL REPEATABLE READ"; break;
            case isolation_level::serializable: sql += " ISOLATION LEVEL SERIALIZABLE"; break;
            case isolation_level::read_uncommitted: sql += " ISOLATION LEVEL READ UNCOMMITTED"; break;
        }
    }
    if (o.readonly) sql += " READ ONLY";
    if (o.deferrable) sql += " DEFERRABLE";
    return sql;
}

task<void> control(std::shared_ptr<detail::conn_state> s, const char* op, std::string sql) {
    std::string what = detail::describe(op, sql);
    co_await s->query(std::move(what), std::move(sql), detail::encoded_params(), false);
}
}  // namespace

task<transaction&> transaction::aenter() {
    co_await start();
    co_return *this;
}

task<void> transaction::start() {
    if (phase_ != phase::created) throw interface_error("pg::transaction::start: the transaction was already started");
    const int depth = state_->transaction_depth;
    if (depth > 0 && (options_.isolation || options_.readonly || options_.deferrable))
        throw interface_error("pg::transaction::start: a nested transaction (a savepoint) takes no options");
    if (depth == 0) co_await control(state_, "pg::transaction::start", begin_sql(options_));
    else co_await control(state_, "pg::transaction::start", "SAVEPOINT corio_savepoint_" + std::to_string(depth));
    depth_ = depth;
    state_->transaction_depth = depth + 1;
    phase_ = phase::started;
}

task<void> transaction::commit() {
    if (phase_ != phase::started)
        throw interface_error("pg::transaction::commit: the transaction is not started, or already ended");
    phase_ = phase::done;
    state_->transaction_depth = depth_;
    if (depth_ == 0) co_await control(state_, "pg::transaction::commit", "COMMIT");
    else co_await control(state_, "pg::transaction::commit", "RELEASE SAVEPOINT corio_savepoint_" + std::to_string(depth_));
}

task<void> transaction::rollback() {
    if (phase_ != phase::started)
        throw interface_error("pg::transaction::rollback: the transaction is not started, or already ended");
    phase_ = phase::done;
    state_->transaction_depth = depth_;
    if (depth_ == 0) {
        co_await control(state_, "pg::transaction::rollback", "ROLLBACK");
    } else {
        const std::string name = "corio_savepoint_" + std::to_string(depth_);
        co_await control(state_, "pg::transaction::rollback", "ROLLBACK TO SAVEPOINT " + name);
        co_await control(state_, "pg::transaction::rollback", "RELEASE SAVEPOINT " + name);
    }
}

task<void> transaction::aexit(std::exception_ptr error) {
    if (phase_ != phase::started) co_return;  // ended by hand inside the body
    if (!error) {
        co_await commit();
        co_return;
    }
    // The body failed: roll back. On a dead connection there is nothing to
    // roll back (the server did); the body's exception is what matters.
    if (!state_->usable()) {
        phase_ = phase::done;
        state_->transaction_depth = depth_;
        co_return;
    }
    bool lost = false;
    try {
        co_await rollback();
    } catch (const connection_error&) {
        lost = true;
    }
    (void)lost;
}

}  // namespace corio::pg
