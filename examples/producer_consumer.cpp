// producer_consumer: asyncio.Queue between tasks: put/get, task_done/join,
// Python 3.13's shutdown, and the priority and LIFO variants.
//
// The Python original (3.13):
//
//     async def producer(queue):
//         for i in range(1, 7):
//             await queue.put(i)            # waits while the queue is full
//         queue.shutdown()                  # no more items: getters stop once it is drained
//
//     async def consumer(queue):
//         total = 0
//         while True:
//             try:
//                 item = await queue.get()
//             except asyncio.QueueShutDown:
//                 return total
//             await asyncio.sleep(0.001)
//             total += item
//
//     async def worker(jobs):
//         while True:
//             try:
//                 job = await jobs.get()
//             except asyncio.QueueShutDown:
//                 return
//             await asyncio.sleep(0.001)
//             jobs.task_done()
//
//     async def main():
//         queue = asyncio.Queue(maxsize=2)
//         _, a, b = await asyncio.gather(producer(queue), consumer(queue), consumer(queue))
//         print(f"consumers summed {a + b}")
//
//         jobs = asyncio.Queue()
//         for i in range(5):
//             jobs.put_nowait(f"job {i}")
//         async with asyncio.TaskGroup() as tg:
//             for _ in range(2):
//                 tg.create_task(worker(jobs))
//             await jobs.join()                   # every job marked task_done()
//             print("all jobs done")
//             jobs.shutdown()                     # let the workers finish
//
//         tasks = asyncio.PriorityQueue()
//         for item in [(3, "low"), (1, "urgent"), (2, "normal")]:
//             tasks.put_nowait(item)
//         while not tasks.empty():
//             priority, name = tasks.get_nowait()
//             print(f"{priority} {name}")
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

corio::task<> producer(corio::queue<int>& queue) {
    for (int i = 1; i <= 6; ++i) co_await queue.put(i);  // waits while the queue is full
    queue.shutdown();  // no more items: getters stop once the queue is drained
}

corio::task<int> consumer(corio::queue<int>& queue) {
    int total = 0;
    // A queue is an async iterator: next() gives nullopt once it is shut
    // down and drained (get() would throw corio::queue_shut_down instead).
    while (auto item = co_await queue.next()) {
        co_await corio::sleep(1ms);
        total += *item;
    }
    co_return total;
}

corio::task<> worker(corio::queue<std::string>& jobs) {
    while (auto job = co_await jobs.next()) {
        co_await corio::sleep(1ms);
        jobs.task_done();
    }
}

corio::task<> amain() {
    corio::queue<int> queue(2);  // maxsize 2
    auto [done, a, b] = co_await corio::gather(producer(queue), consumer(queue), consumer(queue));
    std::printf("consumers summed %d\n", a + b);

    corio::queue<std::string> jobs;
    for (int i = 0; i < 5; ++i) jobs.put_nowait("job " + std::to_string(i));
    co_await corio::with(corio::task_group(), [&jobs](corio::task_group& tg) -> corio::task<> {
        for (int i = 0; i < 2; ++i) tg.spawn(worker(jobs));
        co_await jobs.join();  // until every job has been marked task_done()
        std::printf("all jobs done (%zu unfinished)\n", jobs.unfinished_tasks());
        jobs.shutdown();  // let the workers finish
    });

    // Smallest first, as heapq orders tuples.
    corio::priority_queue<std::pair<int, std::string>> tasks;
    tasks.put_nowait(std::pair(3, std::string("low")));
    tasks.put_nowait(std::pair(1, std::string("urgent")));
    tasks.put_nowait(std::pair(2, std::string("normal")));
    while (!tasks.empty()) {
        auto [priority, name] = tasks.get_nowait();
        std::printf("%d %s\n", priority, name.c_str());
    }

    // Last in, first out.
    corio::lifo_queue<int> stack;
    for (int i = 1; i <= 3; ++i) stack.put_nowait(i);
    std::printf("lifo:");
    while (!stack.empty()) std::printf(" %d", co_await stack.get());
    std::printf("\n");
}

int main() { corio::run(amain()); }
