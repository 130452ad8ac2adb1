// src/mysql/repr.cpp: Python's repr() of what aiomysql gives for a row, so a
// port's output can be compared with aiomysql's line for line.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include <corio/mysql/repr.hpp>

namespace corio::mysql {

namespace {

// Python's str repr: single quotes unless the text has ' and no ".
void repr_text(std::string& out, const std::string& s) {
    const bool dq = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
    const char q = dq ? '"' : '\'';
    out += q;
    for (unsigned char c : s) {
        if (c == q || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += char(c);  // UTF-8 passes through, as Python prints printable characters
        }
    }
    out += q;
}

void repr_bytes(std::string& out, const std::vector<std::byte>& b) {
    bool has_sq = false, has_dq = false;
    for (std::byte x : b) {
        has_sq |= x == std::byte{'\''};
        has_dq |= x == std::byte{'"'};
    }
    const char q = has_sq && !has_dq ? '"' : '\'';
    out += 'b';
    out += q;
    for (std::byte x : b) {
        const auto c = static_cast<unsigned char>(x);
        if (c == q || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    out += q;
}

// Python's float repr: the shortest text that reads back, with ".0" for integers.
void repr_float(std::string& out, double d, bool single) {
    if (std::isnan(d)) {
        out += "nan";
        return;
    }
    if (std::isinf(d)) {
        out += d < 0 ? "-inf" : "inf";
        return;
    }
    char buf[64];
    auto r = single ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(d))
                    : std::to_chars(buf, buf + sizeof buf, d);
    std::string s(buf, r.ptr);
    // Python switches to exponent form at 1e16 and below 1e-4.
    const double a = std::fabs(d);
    if (a != 0 && (a >= 1e16 || a < 1e-4)) {
        auto e = single ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(d), std::chars_format::scientific)
                        : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
        s.assign(buf, e.ptr);
        // C++ gives 1e+16 / 1.5e-05, Python 1e+16 / 1.5e-05: the same.
    } else if (s.find_first_of(".e") == std::string::npos) {
        s += ".0";
    }
    out += s;
}

void repr_value(std::string& out, const value& v, const column* c) {
    switch (v.index()) {
    case 0: out += "None"; break;
    case 1: out += std::to_string(std::get<std::int64_t>(v)); break;
    case 2: out += std::to_string(std::get<std::uint64_t>(v)); break;
    case 3: repr_float(out, std::get<double>(v), c && c->type_name.rfind("FLOAT", 0) == 0); break;
    case 4:
        if (c && c->type_name.rfind("DECIMAL", 0) == 0) {
            out += "Decimal('" + std::get<std::string>(v) + "')";
        } else {
            repr_text(out, std::get<std::string>(v));
        }
        break;
    case 5: repr_bytes(out, std::get<std::vector<std::byte>>(v)); break;
    default: {
        const auto& d = std::get<date_time>(v);
        char buf[128];
        if (d.type == date_time::kind::date) {
            std::snprintf(buf, sizeof buf, "datetime.date(%d, %u, %u)", d.year, d.month, d.day);
        } else if (d.type == date_time::kind::datetime) {
            int n = std::snprintf(buf, sizeof buf, "datetime.datetime(%d, %u, %u, %u, %u", d.year, d.month, d.day,
                                  d.hour, d.minute);
            if (d.second || d.microsecond) n += std::snprintf(buf + n, sizeof buf - n, ", %u", d.second);
            if (d.microsecond) n += std::snprintf(buf + n, sizeof buf - n, ", %u", d.microsecond);
            std::snprintf(buf + n, sizeof buf - n, ")");
        } else {
            // datetime.timedelta(days=, seconds=, microseconds=), normalized as Python does.
            long long us = ((long long)d.hour * 3600 + d.minute * 60 + d.second) * 1'000'000LL + d.microsecond;
            if (d.negative) us = -us;
            long long days = us >= 0 ? us / 86'400'000'000LL : -((-us + 86'399'999'999LL) / 86'400'000'000LL);
            long long rest = us - days * 86'400'000'000LL;
            long long secs = rest / 1'000'000, micros = rest % 1'000'000;
            std::string parts;
            if (days) parts += "days=" + std::to_string(days);
            if (secs) parts += (parts.empty() ? "" : ", ") + std::string("seconds=") + std::to_string(secs);
            if (micros) parts += (parts.empty() ? "" : ", ") + std::string("microseconds=") + std::to_string(micros);
            if (parts.empty()) parts = "0";
            std::snprintf(buf, sizeof buf, "datetime.timedelta(%s)", parts.c_str());
        }
        out += buf;
        break;
    }
    }
}

}  // namespace

std::string repr(const row& r) {
    std::string out = "(";
    const auto& cols = r.columns();
    for (std::size_t i = 0; i < r.size(); ++i) {
        if (i) out += ", ";
        repr_value(out, r.at(i), i < cols.size() ? &cols[i] : nullptr);
    }
    if (r.size() == 1) out += ',';
    out += ')';
    return out;
}

std::string repr(const std::vector<row>& rows) {
    std::string out = "(";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i) out += ", ";
        out += repr(rows[i]);
    }
    if (rows.size() == 1) out += ',';
    out += ')';
    return out;
}

}  // namespace corio::mysql
