// files: aiofiles' first steps: write a file, read it back, append, stat it.
//
// The Python original:
//
//     async def main():
//         async with aiofiles.open('example.txt', 'w') as f:
//             await f.write('Hello, world!\n')
//
//         async with aiofiles.open('example.txt') as f:
//             contents = await f.read()
//         print(contents, end='')
//
//         async with aiofiles.open('example.txt', 'a') as f:
//             await f.write('Appended line\n')
//
//         async with aiofiles.open('example.txt') as f:
//             async for line in f:
//                 print('line:', line, end='')
//         print('size:', (await aiofiles.os.stat('example.txt')).st_size)
//
//         try:
//             async with aiofiles.open('missing.txt') as f:
//                 pass
//         except FileNotFoundError as e:
//             print('error:', e.strerror)
#include <cstdio>
#include <filesystem>

#include <corio/corio.hpp>

corio::task<int> amain() {
    co_await corio::with(corio::open("example.txt", "w"), [](corio::file& f) {
        return f.write("Hello, world!\n");
    });

    std::string contents = co_await corio::with(corio::open("example.txt"), [](corio::file& f) {
        return f.read();
    });
    std::printf("%s", contents.c_str());

    co_await corio::with(corio::open("example.txt", "a"), [](corio::file& f) {
        return f.write("Appended line\n");
    });

    co_await corio::with(corio::open("example.txt"), [](corio::file& f) {
        return corio::for_each(f.lines(), [](std::string_view line) {
            std::printf("line: %.*s", static_cast<int>(line.size()), line.data());
        });
    });
    const corio::fs::file_status st = co_await corio::fs::stat("example.txt");
    std::printf("size: %llu\n", static_cast<unsigned long long>(st.size));

    try {
        co_await corio::with(corio::open("missing.txt"), [](corio::file&) {});
    } catch (const std::filesystem::filesystem_error& e) {
        std::printf("error: %s\n", e.code().message().c_str());
    }
    co_await corio::fs::remove("example.txt");
    co_return 0;
}

int main() { return corio::run(amain()); }
