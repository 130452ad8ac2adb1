// corio/http/content_decoder.hpp through zlib (gzip, deflate) and libbrotlidec
// (br). Each coding is a stage writing straight into the caller's string: the
// string grows in steps bounded by what max_decompressed_size still allows,
// so a bomb is stopped one byte past the limit, never after a huge step.
#include "corio/http/content_decoder.hpp"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <new>

#include "corio/http/headers.hpp"
#include "corio/http/message.hpp"

namespace corio::http {
namespace detail {

class decoder_stage {
public:
    decoder_stage(std::string name, std::uint64_t max_size) : name_(std::move(name)), max_size_(max_size) {}
    virtual ~decoder_stage() = default;
    virtual void decode(std::string_view input, std::string& out) = 0;
    virtual void finish() = 0;

protected:
    // Room for the next output: at least 16 KiB (or what the input suggests),
    // at most one byte past the limit, so crossing it is seen.
    char* grow(std::string& out, std::size_t input_left, std::size_t& room) {
        std::uint64_t left = max_size_ - std::min(max_size_, produced_) + 1;
        std::size_t want = std::max<std::size_t>(16 * 1024, std::min<std::size_t>(input_left * 4, 1 << 20));
        room = static_cast<std::size_t>(std::min<std::uint64_t>(want, left));
        std::size_t old = out.size();
        out.resize(old + room);
        return out.data() + old;
    }
    // Keeps the `made` bytes of the last grow, and checks the limit.
    void made(std::string& out, std::size_t room, std::size_t made) {
        out.resize(out.size() - (room - made));
        produced_ += made;
        if (produced_ > max_size_) {
            throw protocol_error(protocol_error::kind::decoded_too_large,
                                 name_ + ": decoded body larger than max_decompressed_size (" +
                                     std::to_string(max_size_) + " bytes)");
        }
    }
    [[noreturn]] void bad(const std::string& reason) const {
        throw protocol_error(protocol_error::kind::bad_encoding, name_ + ": " + reason);
    }

    std::string name_;
    std::uint64_t max_size_;
    std::uint64_t produced_ = 0;
    std::uint64_t consumed_ = 0;
};

namespace {

class zlib_stage final : public decoder_stage {
public:
    // gzip: RFC 1952, several members allowed; deflate: RFC 1950 (zlib), or
    // the raw RFC 1951 stream that some servers send, told apart by the
    // first two bytes as browsers do.
    zlib_stage(bool gzip, std::uint64_t max_size) : decoder_stage(gzip ? "gzip" : "deflate", max_size), gzip_(gzip) {
        if (gzip_) start(16 + MAX_WBITS);
    }
    ~zlib_stage() override {
        if (started_) inflateEnd(&stream_);
    }

    void decode(std::string_view input, std::string& out) override {
        if (input.empty()) return;
        consumed_ += input.size();
        if (!started_) {
            // deflate: which of the two it is shows in the first two bytes.
            std::size_t take = std::min(2 - first_.size(), input.size());
            first_.append(input.substr(0, take));
            input.remove_prefix(take);
            if (first_.size() < 2) return;
            auto b0 = static_cast<unsigned char>(first_[0]);
            auto b1 = static_cast<unsigned char>(first_[1]);
            bool zlib_wrapped = (b0 & 0x0f) == Z_DEFLATED && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0;
            start(zlib_wrapped ? MAX_WBITS : -MAX_WBITS);
            run(first_, out);
            if (input.empty()) return;
        }
        run(input, out);
    }

    void finish() override {
        if (consumed_ == 0) return;
        if (!ended_) bad("truncated data (the compressed stream did not end)");
    }

private:
    void start(int window_bits) {
        stream_ = z_stream();
        int rc = inflateInit2(&stream_, window_bits);
        if (rc == Z_MEM_ERROR) throw std::bad_alloc();
        if (rc != Z_OK) bad("zlib could not start (" + std::to_string(rc) + ")");
        started_ = true;
    }

    void run(std::string_view input, std::string& out) {
        stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
        stream_.avail_in = static_cast<uInt>(input.size());
        while (stream_.avail_in > 0) {
            if (ended_) {
                // gzip: another member may follow (RFC 1952 2.2); deflate: one stream.
                if (!gzip_) bad("data after the end of the compressed stream");
                inflateReset(&stream_);
                ended_ = false;
            }
            std::size_t room = 0;
            char* to = grow(out, stream_.avail_in, room);
            stream_.next_out = reinterpret_cast<Bytef*>(to);
            stream_.avail_out = static_cast<uInt>(room);
            int rc = inflate(&stream_, Z_NO_FLUSH);
            made(out, room, room - stream_.avail_out);
            if (rc == Z_STREAM_END) {
                ended_ = true;
            } else if (rc == Z_BUF_ERROR) {
                if (stream_.avail_out != 0) break;  // no progress possible without more input
            } else if (rc != Z_OK) {
                bad(std::string("bad compressed data (") + (stream_.msg ? stream_.msg : "zlib error " + std::to_string(rc)) + ")");
            }
        }
        // Output that inflate holds back for want of room is taken by the loop
        // above: it runs while input is left, and a full output step leaves
        // input, or has made all of it.
        while (!ended_ && stream_.avail_out == 0 && stream_.avail_in == 0) {
            std::size_t room = 0;
            char* to = grow(out, 0, room);
            stream_.next_out = reinterpret_cast<Bytef*>(to);
            stream_.avail_out = static_cast<uInt>(room);
            int rc = inflate(&stream_, Z_NO_FLUSH);
            made(out, room, room - stream_.avail_out);
            if (rc == Z_STREAM_END) {
                ended_ = true;
            } else if (rc == Z_BUF_ERROR) {
                break;
            } else if (rc != Z_OK) {
                bad(std::string("bad compressed data (") + (stream_.msg ? stream_.msg : "zlib error") + ")");
            }
        }
    }

    z_stream stream_{};
    bool gzip_;
    bool started_ = false;
    bool ended_ = false;
    std::string first_;  // deflate: the first bytes until there are two
};

class brotli_stage final : public decoder_stage {
public:
    explicit brotli_stage(std::uint64_t max_size)
        : decoder_stage("br", max_size), state_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {
        if (!state_) throw std::bad_alloc();
    }
    ~brotli_stage() override { BrotliDecoderDestroyInstance(state_); }

    void decode(std::string_view input, std::string& out) override {
        if (input.empty()) return;
        consumed_ += input.size();
        if (ended_) bad("data after the end of the compressed stream");
        auto next_in = reinterpret_cast<const std::uint8_t*>(input.data());
        std::size_t avail_in = input.size();
        for (;;) {
            std::size_t room = 0;
            auto next_out = reinterpret_cast<std::uint8_t*>(grow(out, avail_in, room));
            std::size_t avail_out = room;
            auto rc = BrotliDecoderDecompressStream(state_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
            made(out, room, room - avail_out);
            if (rc == BROTLI_DECODER_RESULT_ERROR) {
                bad(std::string("bad compressed data (") +
                    BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state_)) + ")");
            }
            if (rc == BROTLI_DECODER_RESULT_SUCCESS) {
                ended_ = true;
                if (avail_in > 0) bad("data after the end of the compressed stream");
                return;
            }
            if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) return;
            // NEEDS_MORE_OUTPUT: go round with more room.
        }
    }

    void finish() override {
        if (consumed_ == 0) return;
        if (!ended_) bad("truncated data (the compressed stream did not end)");
    }

private:
    BrotliDecoderState* state_;
    bool ended_ = false;
};

enum class coding { identity, gzip, deflate, br, unknown };

coding coding_of(std::string_view name) {
    if (iequals(name, "identity")) return coding::identity;
    if (iequals(name, "gzip") || iequals(name, "x-gzip")) return coding::gzip;
    if (iequals(name, "deflate")) return coding::deflate;
    if (iequals(name, "br")) return coding::br;
    return coding::unknown;
}

}  // namespace
}  // namespace detail

content_decoder::content_decoder(std::string_view content_encoding, std::uint64_t max_decompressed_size)
    : max_size_(max_decompressed_size) {
    std::vector<detail::coding> codings;
    for_each_list_element(content_encoding, [&](std::string_view name) {
        auto c = detail::coding_of(name);
        if (c == detail::coding::unknown) {
            throw protocol_error(protocol_error::kind::bad_encoding,
                                 "unsupported Content-Encoding '" + std::string(name) + "'");
        }
        if (c != detail::coding::identity) codings.push_back(c);
    });
    // Listed in the order they were applied: undone from the last.
    for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
        switch (*it) {
            case detail::coding::gzip: stages_.push_back(std::make_unique<detail::zlib_stage>(true, max_size_)); break;
            case detail::coding::deflate:
                stages_.push_back(std::make_unique<detail::zlib_stage>(false, max_size_));
                break;
            case detail::coding::br: stages_.push_back(std::make_unique<detail::brotli_stage>(max_size_)); break;
            default: break;
        }
    }
}

content_decoder::~content_decoder() = default;
content_decoder::content_decoder(content_decoder&&) noexcept = default;
content_decoder& content_decoder::operator=(content_decoder&&) noexcept = default;

bool content_decoder::supported(std::string_view content_encoding) noexcept {
    bool ok = true;
    for_each_list_element(content_encoding,
                          [&](std::string_view name) { ok = ok && detail::coding_of(name) != detail::coding::unknown; });
    return ok;
}

void content_decoder::decode(std::string_view input, std::string& out) {
    std::size_t before = out.size();
    if (stages_.empty()) {
        out.append(input);
    } else {
        std::string_view current = input;
        for (std::size_t i = 0; i < stages_.size(); ++i) {
            bool last = i + 1 == stages_.size();
            std::string& to = last ? out : between_[i % 2];
            if (!last) to.clear();
            stages_[i]->decode(current, to);
            current = to;
        }
    }
    decoded_size_ += out.size() - before;
}

void content_decoder::finish() {
    for (auto& stage : stages_) stage->finish();
}

}  // namespace corio::http
