// Certificates the TLS tests make for themselves with OpenSSL: a private CA,
// a server certificate it signs (localhost, 127.0.0.1, ::1), the same
// server's certificate expired, and a server certificate from a CA nobody
// trusts. Written as PEM files to a fresh directory under /tmp.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace corio_net_test {

struct pem_pair {
    std::string cert;  // path
    std::string key;   // path
};

class test_certificates {
public:
    test_certificates() {
        char pattern[] = "/tmp/corio-tls-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp");
        dir_ = pattern;
        EVP_PKEY* ca_key = new_key();
        X509* ca_cert = make("corio test CA", ca_key, nullptr, ca_key, "", 0, 3650, true);
        ca = write_pair("ca", ca_cert, ca_key);
        EVP_PKEY* key = new_key();
        X509* good = make("localhost", key, ca_cert, ca_key, "DNS:localhost,IP:127.0.0.1,IP:::1", 0, 365, false);
        server = write_pair("server", good, key);
        X509* old = make("localhost", key, ca_cert, ca_key, "DNS:localhost,IP:127.0.0.1,IP:::1", -30, -1, false);
        expired = write_pair("expired", old, key);
        EVP_PKEY* other_ca_key = new_key();
        X509* other_ca = make("unknown CA", other_ca_key, nullptr, other_ca_key, "", 0, 3650, true);
        X509* stranger = make("localhost", key, other_ca, other_ca_key, "DNS:localhost,IP:127.0.0.1", 0, 365, false);
        unknown_ca = write_pair("unknown-ca-server", stranger, key);
        for (X509* c : {ca_cert, good, old, other_ca, stranger}) X509_free(c);
        for (EVP_PKEY* k : {ca_key, key, other_ca_key}) EVP_PKEY_free(k);
    }
    ~test_certificates() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    test_certificates(const test_certificates&) = delete;
    test_certificates& operator=(const test_certificates&) = delete;

    pem_pair ca;          // the CA the tests trust
    pem_pair server;      // signed by ca, valid now
    pem_pair expired;     // signed by ca, expired yesterday
    pem_pair unknown_ca;  // signed by a CA nobody trusts
    const std::string& dir() const { return dir_; }

private:
    static EVP_PKEY* new_key() {
        EVP_PKEY* k = EVP_EC_gen("P-256");
        if (k == nullptr) throw std::runtime_error("EVP_EC_gen");
        return k;
    }

    static void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        if (ext == nullptr) throw std::runtime_error("X509V3_EXT_conf_nid " + value);
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    }

    // Valid from `from_days` to `to_days` (relative to now); self-signed
    // when issuer is null.
    X509* make(const std::string& common_name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
               const std::string& alt_names, long from_days, long to_days, bool is_ca) {
        X509* cert = X509_new();
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial_);
        X509_gmtime_adj(X509_getm_notBefore(cert), from_days * 86400 - 60);
        X509_gmtime_adj(X509_getm_notAfter(cert), to_days * 86400);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
        X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
        X509* signer = issuer != nullptr ? issuer : cert;
        add_extension(cert, signer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
        add_extension(cert, signer, NID_subject_key_identifier, "hash");
        if (is_ca) add_extension(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
        if (!alt_names.empty()) add_extension(cert, signer, NID_subject_alt_name, alt_names);
        if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) throw std::runtime_error("X509_sign");
        return cert;
    }

    pem_pair write_pair(const std::string& name, X509* cert, EVP_PKEY* key) {
        pem_pair p{dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key"};
        FILE* f = std::fopen(p.cert.c_str(), "w");
        if (f == nullptr) throw std::runtime_error("fopen " + p.cert);
        PEM_write_X509(f, cert);
        std::fclose(f);
        f = std::fopen(p.key.c_str(), "w");
        if (f == nullptr) throw std::runtime_error("fopen " + p.key);
        PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(f);
        return p;
    }

    std::string dir_;
    long serial_ = 0;
};

}  // namespace corio_net_test
