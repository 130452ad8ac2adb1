// count_lines: count the lines of a file with `lines()` (aiofiles' `async for
// line in f`), several files at once.
//
// The Python original:
//
//     async def count_lines(path):
//         n = 0
//         async with aiofiles.open(path) as f:
//             async for _ in f:
//                 n += 1
//         return n
//
//     async def main():
//         for i in range(3):
//             async with aiofiles.open(f'log{i}.txt', 'w') as f:
//                 for j in range(10000 * (i + 1)):
//                     await f.write(f'{i} entry {j}\n')
//         counts = await asyncio.gather(*(count_lines(f'log{i}.txt') for i in range(3)))
//         for i, n in enumerate(counts):
//             print(f'log{i}.txt: {n} lines')
#include <cstdio>
#include <string>
#include <vector>

#include <corio/corio.hpp>

corio::task<long> count_lines(std::string path) {
    corio::file f = co_await corio::open(path);
    long n = 0;
    auto lines = f.lines();
    while (co_await lines.next()) ++n;
    co_await f.close();
    co_return n;
}

corio::task<> write_log(std::string path, int i) {
    corio::file f = co_await corio::open(path, "w");
    for (int j = 0; j < 10000 * (i + 1); ++j) co_await f.write(std::to_string(i) + " entry " + std::to_string(j) + "\n");
    co_await f.close();
}

corio::task<int> amain() {
    for (int i = 0; i < 3; ++i) co_await write_log("log" + std::to_string(i) + ".txt", i);
    std::vector<corio::task<long>> counts;
    for (int i = 0; i < 3; ++i) counts.push_back(count_lines("log" + std::to_string(i) + ".txt"));
    const std::vector<long> n = co_await corio::gather(std::move(counts));
    for (int i = 0; i < 3; ++i) {
        std::printf("log%d.txt: %ld lines\n", i, n[static_cast<std::size_t>(i)]);
        co_await corio::fs::remove("log" + std::to_string(i) + ".txt");
    }
    co_return 0;
}

int main() { return corio::run(amain()); }
