// The MariaDB server the corio::mysql tests run against: the one ctest's
// fixture started ($CORIO_TEST_SERVERS/mariadb/env, written by
// scripts/servers/mariadb.sh), or, when a test binary runs by hand without
// that variable, one it starts itself with the same script and stops at
// exit. private_server is a server of a test's own (a restart must not
// disturb the tests running in parallel).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include <corio/mysql.hpp>

namespace corio_mysql_test {

inline std::string script_path() {
    return (std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "scripts" / "servers" / "mariadb.sh").string();
}

inline std::map<std::string, std::string> parse_env(const std::string& text) {
    std::map<std::string, std::string> env;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return env;
}

/// Runs `bash mariadb.sh ACTION DIR`; its stdout.
inline std::string run_script(const std::string& action, const std::string& dir) {
    const std::string command = "bash '" + script_path() + "' " + action + " '" + dir + "'";
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) throw std::runtime_error("cannot run " + command);
    std::string out;
    char buf[512];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int status = ::pclose(p);
    if (status != 0) throw std::runtime_error(command + " failed (status " + std::to_string(status) + ")");
    return out;
}

struct server_info {
    std::string host;
    std::uint16_t port = 0;
    std::string user, password, db, socket, root_password, tls_ca;

    static server_info from(const std::map<std::string, std::string>& env) {
        server_info s;
        s.host = env.at("CORIO_MYSQL_HOST");
        s.port = static_cast<std::uint16_t>(std::stoi(env.at("CORIO_MYSQL_PORT")));
        s.user = env.at("CORIO_MYSQL_USER");
        s.password = env.at("CORIO_MYSQL_PASSWORD");
        s.db = env.at("CORIO_MYSQL_DB");
        s.socket = env.at("CORIO_MYSQL_SOCKET");
        s.root_password = env.at("CORIO_MYSQL_ROOT_PASSWORD");
        if (auto it = env.find("CORIO_MYSQL_TLS_CA"); it != env.end()) s.tls_ca = it->second;
        return s;
    }
    corio::mysql::connect_options options() const {
        corio::mysql::connect_options o;
        o.host = host;
        o.port = port;
        o.user = user;
        o.password = password;
        o.db = db;
        o.connect_timeout = std::chrono::seconds(5);
        return o;
    }
    corio::mysql::pool_options pool_options() const {
        corio::mysql::pool_options o;
        o.host = host;
        o.port = port;
        o.user = user;
        o.password = password;
        o.db = db;
        o.connect_timeout = std::chrono::seconds(5);
        return o;
    }
};

/// A server in a directory of its own, stopped when this object dies.
class private_server {
public:
    private_server() {
        char tmpl[] = "/tmp/corio-mariadb-XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        info_ = server_info::from(parse_env(run_script("start", dir_)));
    }
    ~private_server() {
        try {
            run_script("stop", dir_);
        } catch (...) {
        }
    }
    private_server(const private_server&) = delete;
    private_server& operator=(const private_server&) = delete;
    const server_info& info() const noexcept { return info_; }
    /// Stops the server and starts it again (same port, same data).
    void restart() { run_script("restart", dir_); }
    const std::string& dir() const noexcept { return dir_; }

private:
    std::string dir_;
    server_info info_;
};

/// The shared server (see the file comment).
inline const server_info& server() {
    static const server_info info = [] {
        if (const char* servers = std::getenv("CORIO_TEST_SERVERS")) {
            std::ifstream in(std::string(servers) + "/mariadb/env");
            if (!in) throw std::runtime_error(std::string("no ") + servers + "/mariadb/env: did server_mariadb_start run?");
            std::stringstream text;
            text << in.rdbuf();
            return server_info::from(parse_env(text.str()));
        }
        static private_server own;  // stopped at exit
        return own.info();
    }();
    return info;
}

}  // namespace corio_mysql_test
