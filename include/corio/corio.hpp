// corio/corio.hpp: everything corio offers, in one include.
// asyncio's programming model for C++20: run, tasks, gather, task_group,
// timeouts, async context managers (with, enter, context_manager,
// exit_stack), async generators, and the synchronization primitives.
#pragma once

#include <corio/async_generator.hpp>
#include <corio/context/context_manager.hpp>
#include <corio/context/contextlib.hpp>
#include <corio/context/enter.hpp>
#include <corio/errors.hpp>
#include <corio/context/exit_stack.hpp>
#include <corio/context/finally.hpp>
#include <corio/tasks/for_each.hpp>
#include <corio/fs/file.hpp>
#include <corio/fs/operations.hpp>
#include <corio/http/client_session.hpp>
#include <corio/web.hpp>
#include <corio/tasks/gather.hpp>
#include <corio/net/address.hpp>
#include <corio/net/connect.hpp>
#include <corio/net/datagram.hpp>
#include <corio/net/resolve.hpp>
#include <corio/net/server.hpp>
#include <corio/net/stream.hpp>
#include <corio/net/tls.hpp>
#include <corio/run.hpp>
#include <corio/runtime/run_options.hpp>
#include <corio/tasks/shield.hpp>
#include <corio/runtime/signal.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/sync/barrier.hpp>
#include <corio/sync/condition.hpp>
#include <corio/sync/event.hpp>
#include <corio/sync/lock.hpp>
#include <corio/sync/queue.hpp>
#include <corio/sync/semaphore.hpp>
#include <corio/task.hpp>
#include <corio/tasks/task_group.hpp>
#include <corio/time/sleep.hpp>
#include <corio/time/timeout.hpp>
#include <corio/tasks/to_thread.hpp>
#include <corio/context/with.hpp>
