/* bench/mysql_blocking.c: the limit for bench/compare_mysql.py: Connector/C's
 * blocking API, THREADS threads (10: the pool's size), each with its own
 * connection, looping mysql_real_query / mysql_stmt_execute + fetch for
 * SECONDS or until MAX queries in all. Prints `queries=N seconds=S qps=Q`.
 *
 *   mysql_blocking select1|point SECONDS MAX [THREADS=10]
 *
 * Built by compare_mysql.py: cc -O2 mysql_blocking.c $(pkg-config --cflags --libs libmariadb) -lpthread
 */
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *host, *user, *password, *db;
static unsigned port;
static int point;
static double seconds;
static long max_queries;
static atomic_long total;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg) {
    unsigned seed = (unsigned)(size_t)arg;
    MYSQL *m = mysql_init(NULL);
    if (!mysql_real_connect(m, host, user, password, db, port, NULL, 0)) {
        fprintf(stderr, "connect: %s\n", mysql_error(m));
        exit(1);
    }
    MYSQL_STMT *stmt = NULL;
    long long id = 0, out_id = 0, value = 0;
    char name[64];
    unsigned long name_len = 0;
    MYSQL_BIND param, result[3];
    if (point) {
        const char *sql = "SELECT id, name, value FROM bench_rows WHERE id = ?";
        stmt = mysql_stmt_init(m);
        if (mysql_stmt_prepare(stmt, sql, strlen(sql))) {
            fprintf(stderr, "prepare: %s\n", mysql_stmt_error(stmt));
            exit(1);
        }
        memset(&param, 0, sizeof param);
        param.buffer_type = MYSQL_TYPE_LONGLONG;
        param.buffer = &id;
        mysql_stmt_bind_param(stmt, &param);
        memset(result, 0, sizeof result);
        result[0].buffer_type = MYSQL_TYPE_LONGLONG;
        result[0].buffer = &out_id;
        result[1].buffer_type = MYSQL_TYPE_STRING;
        result[1].buffer = name;
        result[1].buffer_length = sizeof name;
        result[1].length = &name_len;
        result[2].buffer_type = MYSQL_TYPE_LONGLONG;
        result[2].buffer = &value;
        mysql_stmt_bind_result(stmt, result);
    }
    const double deadline = now() + seconds;
    while (atomic_load(&total) < max_queries && now() < deadline) {
        if (point) {
            id = rand_r(&seed) % 100000 + 1;
            if (mysql_stmt_execute(stmt) || mysql_stmt_store_result(stmt)) {
                fprintf(stderr, "execute: %s\n", mysql_stmt_error(stmt));
                exit(1);
            }
            int rows = 0;
            while (mysql_stmt_fetch(stmt) == 0) ++rows;
            mysql_stmt_free_result(stmt);
            if (rows != 1) exit(1);
        } else {
            if (mysql_real_query(m, "SELECT 1", 8)) {
                fprintf(stderr, "query: %s\n", mysql_error(m));
                exit(1);
            }
            MYSQL_RES *res = mysql_store_result(m);
            if (!res || !mysql_fetch_row(res)) exit(1);
            mysql_free_result(res);
        }
        atomic_fetch_add(&total, 1);
    }
    if (stmt) mysql_stmt_close(stmt);
    mysql_close(m);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s select1|point SECONDS MAX [THREADS]\n", argv[0]);
        return 2;
    }
    point = strcmp(argv[1], "point") == 0;
    seconds = atof(argv[2]);
    max_queries = atol(argv[3]);
    int threads = argc > 4 ? atoi(argv[4]) : 10;
    host = getenv("CORIO_MYSQL_HOST");
    port = (unsigned)atoi(getenv("CORIO_MYSQL_PORT"));
    user = getenv("CORIO_MYSQL_USER");
    password = getenv("CORIO_MYSQL_PASSWORD");
    db = getenv("CORIO_MYSQL_DB");
    mysql_library_init(0, NULL, NULL);
    pthread_t t[256];
    const double start = now();
    for (int i = 0; i < threads && i < 256; ++i) pthread_create(&t[i], NULL, worker, (void *)(size_t)(i + 1));
    for (int i = 0; i < threads && i < 256; ++i) pthread_join(t[i], NULL);
    const double took = now() - start;
    printf("queries=%ld seconds=%.3f qps=%.0f\n", (long)atomic_load(&total), took, (double)atomic_load(&total) / took);
    mysql_library_end();
    return 0;
}
