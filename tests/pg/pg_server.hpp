// tests/pg/pg_server.hpp: where the tests' PostgreSQL server is.
//
// Under ctest, the server_postgres fixture started one (scripts/servers/
// postgres.sh) and $CORIO_TEST_SERVERS/postgres/env says where. A test binary
// run by hand starts its own with the same script in a temporary folder and
// stops it at exit. private_server starts one more for a test that must
// restart or stop its server without disturbing tests running in parallel.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include <corio/pg.hpp>

namespace corio_pg_test {

inline std::string source_dir() {
#ifdef CORIO_SOURCE_DIR
    return CORIO_SOURCE_DIR;
#else
    // tests/pg/pg_server.hpp -> the repository root.
    std::string f = __FILE__;
    return f.substr(0, f.rfind("/tests/pg/"));
#endif
}

inline std::map<std::string, std::string> read_env(const std::string& path) {
    std::map<std::string, std::string> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
}

/// A server started by the script in its own folder, stopped when destroyed.
class private_server {
public:
    private_server() {
        char tmpl[] = "/tmp/corio-pg-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        ::chmod(tmpl, 0755);  // the server runs as `postgres` when the tests run as root
        dir_ = tmpl;
        dir_ += "/server";
        start();
    }
    ~private_server() {
        stop();
        std::system(("rm -rf '" + dir_.substr(0, dir_.rfind('/')) + "'").c_str());
    }
    private_server(const private_server&) = delete;
    private_server& operator=(const private_server&) = delete;

    void start() {
        // The script's watchdog stops the server if this process dies first.
        const std::string cmd = "CORIO_PG_WATCH_PID=" + std::to_string(::getpid()) + " bash '" + source_dir() +
                                "/scripts/servers/postgres.sh' start '" + dir_ + "' >/dev/null";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("could not start PostgreSQL: " + cmd);
        env_ = read_env(dir_ + "/env");
    }
    /// pg_ctl restart: the same port and data, every session ended.
    void restart() {
        const std::string as = ::getuid() == 0 ? "runuser -u postgres -- " : "";
        std::string home = dir_;  // the script's DIR/home when the server lives elsewhere
        std::ifstream moved(dir_ + "/home");
        if (moved) std::getline(moved, home);
        const std::string cmd = as + "/usr/lib/postgresql/15/bin/pg_ctl -D '" + home + "/data' -l '" + home +
                                "/log' -m fast -w -t 30 restart >/dev/null";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("could not restart PostgreSQL: " + cmd);
    }
    void stop() {
        const std::string cmd = "bash '" + source_dir() + "/scripts/servers/postgres.sh' stop '" + dir_ + "' >/dev/null";
        (void)std::system(cmd.c_str());
    }
    const std::map<std::string, std::string>& env() const { return env_; }
    std::string dir() const { return dir_; }

private:
    std::string dir_;
    std::map<std::string, std::string> env_;
};

/// The shared server's KEY=VALUE lines (CORIO_PG_HOST, ..._PORT, ..._DSN).
inline const std::map<std::string, std::string>& server_env() {
    static const std::map<std::string, std::string> env = [] {
        if (const char* servers = std::getenv("CORIO_TEST_SERVERS")) {
            auto e = read_env(std::string(servers) + "/postgres/env");
            if (!e.empty()) return e;
        }
        static private_server own;  // stopped at exit
        return own.env();
    }();
    return env;
}

inline std::string dsn() { return server_env().at("CORIO_PG_DSN"); }
inline std::string host() { return server_env().at("CORIO_PG_HOST"); }
inline std::uint16_t port() { return static_cast<std::uint16_t>(std::stoi(server_env().at("CORIO_PG_PORT"))); }
inline std::string user() { return server_env().at("CORIO_PG_USER"); }
inline std::string password() { return server_env().at("CORIO_PG_PASSWORD"); }
inline std::string database() { return server_env().at("CORIO_PG_DB"); }

/// A table name of this process and test (tests run in parallel on one server).
inline std::string table(const std::string& base) { return base + "_" + std::to_string(::getpid()); }

}  // namespace corio_pg_test
