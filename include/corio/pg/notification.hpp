// corio/pg/notification.hpp: notification, what connection::listen yields
// (asyncpg's add_listener callback arguments: channel, payload, pid).
//
//   auto notes = c.listen("jobs");                       // LISTEN "jobs"
//   while (auto n = co_await notes.next()) handle(n->payload);
//   co_await c.notify("jobs", "42");                     // pg_notify, from any session
//
// listen() sends LISTEN when first resumed and yields every NOTIFY on that
// channel from then on, in the order the server sent them; UNLISTEN is sent
// when the generator ends (aclose, for_each's end, or an exception). While
// the connection runs queries, their reader collects notifications; while
// it is idle, the listener waiting in next() reads the socket itself, so a
// notification arrives without polling. Cancel safety: next() cancelled
// loses nothing (queued notifications stay queued).
#pragma once

#include <string>

namespace corio::pg {

struct notification {
    std::string channel;
    std::string payload;
    int pid = 0;  // the notifying server process
};

}  // namespace corio::pg
